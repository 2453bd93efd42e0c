// Google Benchmark for the verifiers: Joint Bayesian training on 10,000 x 160
// features (1,000 identities x 10 images, synthetic Gaussian; published and
// exact EM), scoring 6,000 pairs (the size of LFW View 2), and PCA at the
// papers' sizes (4,000 -> 180 for DeepID2, 19,200 -> 150 for DeepID1).
// Argument: threads. Counters: EM iterations, pairs/s, GFLOP/s where useful.
//
//   bench_verifiers --benchmark_filter=joint_bayesian
//   bench_verifiers --benchmark_filter=pca_fit/19200   (about 1 GB of memory)
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <deepid/core/rng.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

namespace dp = deepid;
namespace vf = deepid::verify;

namespace {

struct jb_data {
  dp::matrix<float> x;
  std::vector<int> ids;
  std::vector<vf::labelled_pair> pairs;
};

// identities x images rows of dimension d: x = mu + eps, mu ~ N(0, S_mu), eps ~ N(0, S_eps)
// with random full covariances (S = B B' / d + c I).
const jb_data& jb_features() {
  static const jb_data data = [] {
    const std::size_t identities = 1000, images = 10, d = 160;
    const Eigen::Index dim = 160;
    dp::rng gen(2024);
    auto random_factor = [&](double scale) {
      vf::dmatrix b(dim, dim);
      for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = gen.normal() * scale / std::sqrt(double(d));
      return b;
    };
    const vf::dmatrix l_mu = random_factor(1.0), l_eps = random_factor(0.6);
    jb_data out;
    out.x = dp::matrix<float>({identities * images, d});
    vf::dvector z(dim), mu(dim), x(dim);
    for (std::size_t k = 0; k < identities; ++k) {
      for (auto& v : z) v = gen.normal();
      mu = l_mu * z + 0.5 * z;
      for (std::size_t m = 0; m < images; ++m) {
        for (auto& v : z) v = gen.normal();
        x = mu + l_eps * z + 0.3 * z;
        const std::size_t row = k * images + m;
        for (std::size_t j = 0; j < d; ++j) out.x(row, j) = float(x[Eigen::Index(j)]);
        out.ids.push_back(int(k));
      }
    }
    // 3,000 same pairs and 3,000 different pairs.
    for (std::size_t p = 0; p < 3000; ++p) {
      const std::size_t k = p % identities, a = p / identities;
      out.pairs.push_back({k * images + a, k * images + a + 5, true});
      out.pairs.push_back({k * images + a, ((k + 1 + p % 7) % identities) * images + a + 3, false});
    }
    return out;
  }();
  return data;
}

void joint_bayesian_fit(benchmark::State& state, bool exact) {
  dp::set_num_threads(int(state.range(0)));
  const auto& data = jb_features();
  int iterations = 0;
  for (auto _ : state) {
    vf::joint_bayesian jb(vf::joint_bayesian_options{.exact_em = exact});
    jb.fit({data.x, data.ids});
    iterations = jb.iterations();
    benchmark::DoNotOptimize(jb.a().data());
  }
  state.counters["EM_iterations"] = iterations;
  state.counters["rows"] = double(data.x.shape()[0]);
}

void joint_bayesian_scores(benchmark::State& state) {
  dp::set_num_threads(int(state.range(0)));
  const auto& data = jb_features();
  vf::joint_bayesian jb;
  jb.fit({data.x, data.ids});
  for (auto _ : state) {
    auto s = jb.scores(data.x, data.pairs);
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["pairs/s"] = benchmark::Counter(double(data.pairs.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void joint_bayesian_score_one(benchmark::State& state) {
  const auto& data = jb_features();
  vf::joint_bayesian jb;
  jb.fit({data.x, data.ids});
  const std::size_t d = data.x.shape()[1];
  const std::span<const float> a(data.x.data(), d), b(data.x.data() + 5 * d, d);
  for (auto _ : state) benchmark::DoNotOptimize(jb.score(a, b));
}

// n rows of dimension d with a decaying spectrum (rank-64 signal plus noise).
dp::matrix<float> pca_rows(std::size_t n, std::size_t d) {
  dp::rng gen(7);
  const std::size_t r = 64;
  std::vector<float> basis(r * d);
  for (auto& v : basis) v = float(gen.normal() / std::sqrt(double(d)));
  dp::matrix<float> x({n, d});
  std::vector<float> z(r);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < r; ++c) z[c] = float(gen.normal() * 10.0 / (1.0 + double(c)));
    float* row = x.data() + i * d;
    for (std::size_t j = 0; j < d; ++j) row[j] = float(0.1 * gen.normal());
    for (std::size_t c = 0; c < r; ++c)
      for (std::size_t j = 0; j < d; ++j) row[j] += z[c] * basis[c * d + j];
  }
  return x;
}

void pca_fit(benchmark::State& state) {
  const auto n = std::size_t(state.range(0)), d = std::size_t(state.range(1)), k = std::size_t(state.range(2));
  dp::set_num_threads(int(state.range(3)));
  const auto x = pca_rows(n, d);
  vf::pca_solver used = vf::pca_solver::automatic;
  for (auto _ : state) {
    vf::pca p(vf::pca_options{.components = k});
    p.fit(x);
    used = p.solver_used();
    benchmark::DoNotOptimize(p.basis().data());
  }
  state.SetLabel(vf::to_string(used));
}

void pca_project(benchmark::State& state) {
  const auto n = std::size_t(state.range(0)), d = std::size_t(state.range(1)), k = std::size_t(state.range(2));
  dp::set_num_threads(int(state.range(3)));
  const auto x = pca_rows(n, d);
  vf::pca p(vf::pca_options{.components = k});
  p.fit(x);
  for (auto _ : state) {
    auto y = p.project(x);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(n) * double(d) * double(k) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(joint_bayesian_fit, published, false)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(joint_bayesian_fit, exact_em, true)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(joint_bayesian_scores)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(joint_bayesian_score_one)->Unit(benchmark::kMicrosecond);
// rows, dims, components, threads
BENCHMARK(pca_fit)->ArgNames({"rows", "dims", "k", "threads"})
    ->Args({10000, 160, 150, 2})
    ->Args({10000, 4000, 180, 2})
    ->Args({2000, 19200, 150, 2})
    ->Args({10000, 19200, 150, 2})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);
BENCHMARK(pca_project)->ArgNames({"rows", "dims", "k", "threads"})->Args({6000, 4000, 180, 2})->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("deepid_threads", std::to_string(dp::num_threads()));
  benchmark::AddCustomContext("eigen_simd", Eigen::SimdInstructionSetsInUse());
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
