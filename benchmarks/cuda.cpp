// The CUDA backend against the CPU path in the same run: samples/s of
// inference (batch 1, 128, 4,096) and of a training step (forward with the
// heads, backward through every output; batch 128) for each net, the GPU's
// share of its peak FP32 rate, and the GPU/CPU ratio. A training step counts
// 3x the forward FLOPs. Built on request (cmake --build B --target bench_cuda)
// where nvcc is found; run on a machine with a GPU.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deepid/backend/cuda.hpp>
#include <deepid/deepid.hpp>
#include <string>
#include <vector>

namespace dp = deepid;
namespace cu = deepid::cuda;

namespace {

// Seconds per call of f: one warm-up, then repeats for at least 0.5 s (3 at least).
template <class F>
double seconds_per_call(F&& f) {
  using clock = std::chrono::steady_clock;
  f();
  std::size_t calls = 0;
  const auto start = clock::now();
  double elapsed = 0;
  while (calls < 3 || elapsed < 0.5) {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  }
  return elapsed / double(calls);
}

struct row {
  std::string net, pass;
  std::size_t batch;
  double flops_per_sample, gpu_rate, cpu_rate;  // samples/s; cpu 0: not measured
};

template <class Net>
void measure(const char* name, std::vector<row>& rows, std::size_t cpu_largest_batch) {
  using host = dp::model<Net, float>;
  host cpu(dp::init::seed{1});
  cu::device_model<Net, float> gpu(cpu);
  const double forward_flops = double(host::flops);
  for (const std::size_t n : {std::size_t(1), std::size_t(128), std::size_t(4096)}) {
    std::vector<float> x(n * host::input_shape.size());
    dp::rng gen(n);
    for (auto& v : x) v = float(gen.normal());
    cu::device_buffer<float> input(x.size());
    input.upload(x);
    const double gpu_s = seconds_per_call([&] {
      gpu.forward_device(input.data(), n, dp::mode::inference);
      cu::synchronize();
    });
    const double cpu_s = n <= cpu_largest_batch
                             ? seconds_per_call([&] { cpu.forward(x.data(), n, dp::mode::inference); })
                             : 0;
    rows.push_back({name, "inference", n, forward_flops, n / gpu_s, cpu_s > 0 ? n / cpu_s : 0});
  }
  const std::size_t n = 128;
  std::vector<float> x(n * host::input_shape.size());
  dp::rng gen(7);
  for (auto& v : x) v = float(gen.normal());
  cu::device_buffer<float> input(x.size());
  input.upload(x);
  std::array<cu::device_buffer<float>, host::output_count> douts;
  std::array<const float*, host::output_count> gpu_douts{};
  std::array<std::vector<float>, host::output_count> host_douts;
  std::array<const float*, host::output_count> cpu_douts{};
  for (std::size_t k = 0; k < host::output_count; ++k) {
    host_douts[k].assign(n * host::output_shape_of(k).size(), 1e-3f);
    douts[k].resize(host_douts[k].size());
    douts[k].upload(host_douts[k]);
    gpu_douts[k] = douts[k].data();
    cpu_douts[k] = host_douts[k].data();
  }
  const double gpu_s = seconds_per_call([&] {
    gpu.forward_device(input.data(), n, dp::mode::training, dp::head_pass::run);
    gpu.backward_outputs_device(gpu_douts);
    cu::synchronize();
  });
  const double cpu_s = seconds_per_call([&] {
    cpu.forward(x.data(), n, dp::mode::training, dp::head_pass::run);
    cpu.backward_outputs(cpu_douts);
  });
  rows.push_back({name, "training step", n, 3 * forward_flops, n / gpu_s, n / cpu_s});
}

template <std::size_t C, std::size_t H, std::size_t W>
using patch = dp::patch_shape<C, H, W>;

}  // namespace

int main() {
  try {
    if (cu::device_count() == 0) {
      std::fprintf(stderr, "bench_cuda: %s\n", cu::device_description().c_str());
      return 1;
    }
    const double peak = cu::peak_fp32_flops();
    std::printf("GPU: %s, peak FP32 %.1f TFLOP/s\n", cu::device_description().c_str(), peak / 1e12);
    std::vector<row> rows;
    measure<dp::deepid1<patch<3, 39, 31>>>("DeepID1 39x31x3", rows, 4096);
    measure<dp::deepid2plus<patch<3, 55, 47>>>("DeepID2+ 55x47x3", rows, 4096);
    measure<dp::deepid3_net1<patch<3, 55, 47>>>("DeepID3 net1 55x47x3", rows, 128);
    measure<dp::deepid3_net2<patch<3, 55, 47>>>("DeepID3 net2 55x47x3", rows, 128);
    std::printf("%-22s %-14s %6s %12s %10s %12s %8s\n", "net", "pass", "batch", "GPU samp/s", "GPU %peak",
                "CPU samp/s", "GPU/CPU");
    for (const auto& r : rows) {
      const double share = peak > 0 ? 100.0 * r.gpu_rate * r.flops_per_sample / peak : 0;
      std::printf("%-22s %-14s %6zu %12.0f %9.2f%% ", r.net.c_str(), r.pass.c_str(), r.batch, r.gpu_rate, share);
      if (r.cpu_rate > 0) std::printf("%12.0f %7.1fx\n", r.cpu_rate, r.gpu_rate / r.cpu_rate);
      else std::printf("%12s %8s\n", "-", "-");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: error: %s\n", e.what());
    return 1;
  }
}
