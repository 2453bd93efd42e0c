// Google Benchmark of the classic features (features/lbp.hpp, features/hog.hpp)
// on 1,000 LFW images spread evenly over the set (every 13th in lfw-names
// order). DEEPID_DATA must name a folder laid out like ../shared/data; without
// it every benchmark reports an error and nothing is timed.
//
//   decode/<threads>              reading each JPEG from the tar and decoding it
//   end_to_end/<name>/<threads>   extract_all: read, decode, align, describe
//   features/<name>/<threads>     extract_all over images decoded beforehand
//   hog_vs_opencv/<threads>       deepid's hog.describe and OpenCV's HOGDescriptor
//                                 (same 96x112 window, 8x8 cells, 2x2 blocks, stride
//                                 8, 9 bins: 5,148 values) on the same aligned faces
//
// Counters: ms/face (wall), cpu_ms/face (process CPU time of all threads,
// which stays meaningful on a shared machine), faces/s. One iteration is one
// pass over the 1,000 faces.
//
//   DEEPID_DATA=../shared/data bench_features --benchmark_filter=end_to_end
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#if DEEPID_BENCH_OPENCV_HOG
#include <opencv2/objdetect.hpp>
#endif

#include <deepid/core/threads.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/features/extractor.hpp>
#include <deepid/features/hog.hpp>
#include <deepid/features/lbp.hpp>
#include <deepid/kernels/detail/xsimd.hpp>

namespace dp = deepid;
namespace fc = deepid::face;
namespace ft = deepid::features;

namespace {

constexpr std::size_t sample_size = 1000;

struct lfw_sample {
  std::optional<fc::lfw_dataset> lfw;
  std::vector<std::string> names;
  std::vector<fc::landmarks5> marks;
  std::vector<cv::Mat> images;  // decoded once, for the features-only runs
  std::string problem;          // why there is no sample
};

const lfw_sample& sample() {
  static const lfw_sample s = [] {
    lfw_sample s;
    const char* root = std::getenv("DEEPID_DATA");
    if (!root || !*root) {
      s.problem = "DEEPID_DATA is not set: point it at a folder holding lfw/ (as ../shared/data)";
      return s;
    }
    try {
      s.lfw = fc::lfw_dataset::open(std::string(root) + "/lfw");
      const auto all = s.lfw->image_names();
      for (std::size_t i = 0; i < sample_size; ++i) {
        s.names.push_back(all[i * all.size() / sample_size]);
        s.marks.push_back(s.lfw->landmarks().at(s.names.back()).points);
      }
      s.images.resize(s.names.size());
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 8)
#endif
      for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(s.names.size()); ++i)
        s.images[std::size_t(i)] = s.lfw->load(s.names[std::size_t(i)]);
    } catch (const std::exception& e) {
      s.problem = e.what();
    }
    return s;
  }();
  return s;
}

bool ready(benchmark::State& state) {
  if (!sample().problem.empty()) {
    state.SkipWithError(sample().problem.c_str());
    return false;
  }
  return true;
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Times the loop body per pass over the faces; sets the counters.
template <class Pass>
void run_passes(benchmark::State& state, std::size_t faces, Pass&& pass) {
  double wall = 0, cpu = 0;
  std::size_t passes = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = process_cpu_seconds();
    pass();
    cpu += process_cpu_seconds() - cpu_start;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    wall += seconds;
    ++passes;
  }
  const double n = double(faces) * double(std::max<std::size_t>(passes, 1));
  state.counters["ms/face"] = 1e3 * wall / n;
  state.counters["cpu_ms/face"] = 1e3 * cpu / n;
  state.counters["faces/s"] = n / std::max(wall, 1e-12);
  state.counters["threads"] = double(dp::num_threads());
}

void decode(benchmark::State& state) {
  if (!ready(state)) return;
  dp::set_num_threads(int(state.range(0)));
  const auto& s = sample();
  run_passes(state, s.names.size(), [&] {
    const int threads = dp::num_threads();
    (void)threads;
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
#endif
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(s.names.size()); ++i) {
      const cv::Mat image = s.lfw->load(s.names[std::size_t(i)]);
      benchmark::DoNotOptimize(image.data);
    }
  });
}

template <class E>
void end_to_end(benchmark::State& state, E extractor) {
  if (!ready(state)) return;
  dp::set_num_threads(int(state.range(0)));
  const auto& s = sample();
  const fc::face_source source{[&](std::size_t i) { return std::pair{s.lfw->load(s.names[i]), s.marks[i]}; },
                               [&](std::size_t i) { return s.names[i]; }, s.names.size()};
  run_passes(state, s.names.size(), [&] {
    const auto f = ft::extract_all(extractor, source);
    benchmark::DoNotOptimize(f.features.data());
  });
  state.counters["dim"] = double(extractor.dim());
}

template <class E>
void features_only(benchmark::State& state, E extractor) {
  if (!ready(state)) return;
  dp::set_num_threads(int(state.range(0)));
  const auto& s = sample();
  run_passes(state, s.names.size(), [&] {
    const auto f = ft::extract_all(extractor, s.names.size(), [&](std::size_t i) { return std::pair{s.images[i], s.marks[i]}; });
    benchmark::DoNotOptimize(f.features.data());
  });
  state.counters["dim"] = double(extractor.dim());
}

#if DEEPID_BENCH_OPENCV_HOG
// Descriptor only, on aligned regions cut beforehand: deepid's hog.describe
// against OpenCV's HOGDescriptor::compute (which adds a Gaussian block window
// and trilinear voting), both over faces in parallel.
void hog_vs_opencv(benchmark::State& state) {
  if (!ready(state)) return;
  dp::set_num_threads(int(state.range(0)));
  const auto& s = sample();
  const ft::hog hog;
  std::vector<cv::Mat> regions(s.images.size());
  for (std::size_t i = 0; i < regions.size(); ++i) regions[i] = hog.region(s.images[i], s.marks[i]);
  const cv::Rect window(1, 1, regions[0].cols - 2, regions[0].rows - 2);  // 96 x 112
  const cv::HOGDescriptor peer(window.size(), cv::Size(16, 16), cv::Size(8, 8), cv::Size(8, 8), 9);
  auto deepid_pass = [&] {
    const int threads = dp::num_threads();
    (void)threads;
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads)
#endif
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(regions.size()); ++i) {
      std::vector<float> f(hog.dim());
      hog.describe(regions[std::size_t(i)], f);
      benchmark::DoNotOptimize(f.data());
    }
  };
  auto opencv_pass = [&] {
    const int threads = dp::num_threads();
    (void)threads;
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 8) num_threads(threads)
#endif
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(regions.size()); ++i) {
      std::vector<float> f;
      peer.compute(regions[std::size_t(i)](window), f);
      benchmark::DoNotOptimize(f.data());
    }
  };
  std::vector<float> check;
  peer.compute(regions[0](window), check);
  if (check.size() != hog.dim()) {
    state.SkipWithError("OpenCV's HOGDescriptor and deepid's hog disagree on the descriptor size");
    return;
  }
  double deepid_cpu = 0, opencv_cpu = 0, deepid_wall = 0, opencv_wall = 0;
  for (auto _ : state) {
    for (int which = 0; which < 2; ++which) {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = process_cpu_seconds();
      which == 0 ? deepid_pass() : opencv_pass();
      const double cpu = process_cpu_seconds() - cpu_start;
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      (which == 0 ? deepid_cpu : opencv_cpu) += cpu;
      (which == 0 ? deepid_wall : opencv_wall) += wall;
    }
    state.SetIterationTime(deepid_wall + opencv_wall);
  }
  const double n = double(regions.size()) * double(state.iterations());
  state.counters["deepid_ms/face"] = 1e3 * deepid_wall / n;
  state.counters["opencv_ms/face"] = 1e3 * opencv_wall / n;
  state.counters["deepid_cpu_ms/face"] = 1e3 * deepid_cpu / n;
  state.counters["opencv_cpu_ms/face"] = 1e3 * opencv_cpu / n;
  state.counters["opencv/deepid_cpu"] = opencv_cpu / std::max(deepid_cpu, 1e-12);
}
BENCHMARK(hog_vs_opencv)->Arg(1)->Arg(2)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK(decode)->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(end_to_end, lbp_grid, ft::lbp_grid{})->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(end_to_end, lbp_multiscale, ft::lbp_multiscale{})->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(end_to_end, hog, ft::hog{})->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(features_only, lbp_grid, ft::lbp_grid{})->Arg(1)->Arg(2)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(features_only, lbp_multiscale, ft::lbp_multiscale{})->Arg(1)->Arg(2)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(features_only, hog, ft::hog{})->Arg(1)->Arg(2)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("deepid SIMD arch", xsimd::default_arch::name());
  benchmark::AddCustomContext("deepid OpenMP", DEEPID_OPENMP ? "on" : "off");
  benchmark::AddCustomContext("deepid default threads", std::to_string(dp::num_threads()));
  benchmark::AddCustomContext("OpenCV", CV_VERSION);
  benchmark::AddCustomContext("OpenCV threads", std::to_string(cv::getNumThreads()));
  benchmark::AddCustomContext("LFW faces", std::to_string(sample_size) + " (every 13th of lfw-names order)");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
