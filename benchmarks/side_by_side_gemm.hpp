#pragma once
// side_by_side's `vgg3x3` key: how close deepid's padded 3x3 convolutions
// (DeepID3 net1, 55x47x3, batch 128) come to this machine's GEMM rate,
// measured in the same run.
//
// The GEMM rate: Eigen's single-precision GEMM (what deepid's fully connected
// layers use), on a square 1024^3 product and on 1024 x 1152 * 1152 x 128 (the
// shape of an im2col convolution with Cin = 128 and 128 output maps, a chunk
// of 1024 output positions), at 1 and 2 threads (Eigen::setNbThreads; Eigen
// runs on OpenMP). The reference for the target is the better of the two
// shapes at the same thread count. Where OpenBLAS can be loaded (the folder
// side_by_side gives the PyTorch peer), its cblas_sgemm is measured too, for
// information: OpenBLAS is the faster GEMM on these machines.
//
// The convolutions: deepid::kernels::conv_forward with each layer's geometry
// (NHWC, zero padding copied in by the kernel as in the model, fused ReLU),
// timed at batch 128, and conv_backward (d(weights) and d(input), 2x the
// forward FLOPs; the first layer computes no d(input)). The two top layers of
// net1 are locally connected; the ordinary 3x3 convolutions that
// d3net1-plain puts there (6x5 maps, 192 -> 256 -> 256) are measured as well.
// Layers the model runs by Winograd's F(2x2, 3x3) (kernels/winograd_conv.hpp:
// all but the 3-channel first) are timed that way too (wino-fwd, wino-bwd);
// their GFLOP/s are effective ones, the direct convolution's FLOPs over the
// time taken, so the two paths compare on one scale.
//
// Everything is interleaved round by round (GEMMs, then the layers, at each
// thread count), each item calibrated to about target_s, and the medians
// reported, as for the engines.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include <Eigen/Core>

#include <deepid/deepid.hpp>

namespace side_by_side_gemm {

namespace dp = deepid;
using clock_type = std::chrono::steady_clock;

inline double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One timed item: `run()` does `flops` of work with `threads` threads.
struct item {
  item(std::string g, std::string w, int t, double f, std::function<void()> r)
      : group(std::move(g)), what(std::move(w)), threads(t), flops(f), run(std::move(r)) {}
  std::string group;  // "gemm-eigen", "gemm-openblas", "conv-fwd", "conv-bwd"
  std::string what;
  int threads = 1;
  double flops = 0;
  std::function<void()> run;
  int calls = 1;
  std::vector<double> per_call;  // seconds, one per round
  double gflops() const { return flops * 1e-9 / median_of(per_call); }
};

// cblas_sgemm and openblas_set_num_threads from OpenBLAS, when it can be loaded.
struct openblas {
  using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);
  using threads_fn = void (*)(int);
  sgemm_fn sgemm = nullptr;
  threads_fn set_threads = nullptr;
  std::string path;
  explicit openblas(const std::string& folder) {
    for (const std::string& name : {folder + "/libopenblas.so.0", std::string("libopenblas.so.0")}) {
      if (name.front() == '/' && access(name.c_str(), R_OK) != 0) continue;
      void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib) continue;
      sgemm = reinterpret_cast<sgemm_fn>(dlsym(lib, "cblas_sgemm"));
      set_threads = reinterpret_cast<threads_fn>(dlsym(lib, "openblas_set_num_threads"));
      if (sgemm && set_threads) {
        path = name;
        return;
      }
      sgemm = nullptr;
    }
  }
  explicit operator bool() const { return sgemm != nullptr; }
};

// One padded 3x3 convolution of DeepID3 net1 at batch `n`.
struct conv_layer_base {
  virtual ~conv_layer_base() = default;
  virtual void forward() = 0;
  virtual void backward() = 0;
  virtual bool has_winograd() const = 0;
  virtual void winograd_forward() = 0;
  virtual void winograd_backward() = 0;
  std::string what;
  double forward_flops = 0, backward_flops = 0;  // per call (n samples)
};

template <std::size_t Cin, std::size_t H, std::size_t W, std::size_t Cout, bool First>
struct conv_layer : conv_layer_base {
  static constexpr dp::kernels::conv_geometry g{Cin, H, W, 3, 1, 1, Cout, 1, 1};
  std::size_t n;
  std::vector<float> in, out, dout, din, weights, bias, dweights, dbias;
  dp::kernels::packed_conv_weights<float> packed;
  dp::kernels::conv_workspace<float> ws;
  static constexpr bool winograd = dp::kernels::winograd_suits<float, g>;
  dp::kernels::winograd_weights<float> wino_packed;
  dp::kernels::winograd_workspace<float> wino_ws;
  explicit conv_layer(std::size_t batch) : n(batch) {
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.f, 1.f);
    auto fill = [&](std::vector<float>& v, std::size_t count, float scale) {
      v.resize(count);
      for (auto& x : v) x = scale * normal(gen);
    };
    fill(in, n * g.in_size(), 1.f);
    fill(weights, g.weight_count(), float(std::sqrt(2.0 / double(g.patch()))));
    fill(bias, Cout, 0.01f);
    fill(dout, n * g.out_size(), 1.f);
    out.assign(n * g.out_size(), 0.f);
    din.assign(n * g.in_size(), 0.f);
    dweights.assign(g.weight_count(), 0.f);
    dbias.assign(Cout, 0.f);
    dp::kernels::pack_conv_weights(g, weights.data(), bias.data(), packed);
    if constexpr (winograd) dp::kernels::pack_winograd_weights(g, weights.data(), bias.data(), wino_packed);
    what = "conv<" + std::to_string(Cout) + ",3,1,1> on " + std::to_string(Cin) + "x" + std::to_string(H) + "x" +
           std::to_string(W);
    forward_flops = 2.0 * double(g.multiply_adds()) * double(n);
    backward_flops = forward_flops * (First ? 1.0 : 2.0);
  }
  void forward() override { dp::kernels::conv_forward<float, g, true>(in.data(), out.data(), n, packed, ws); }
  void backward() override {
    dp::kernels::conv_backward<float, g, true>(in.data(), out.data(), dout.data(), First ? nullptr : din.data(), n,
                                               weights.data(), dweights.data(), dbias.data(), ws);
  }
  bool has_winograd() const override { return winograd; }
  void winograd_forward() override {
    if constexpr (winograd) dp::kernels::winograd_forward<float, g, true>(in.data(), out.data(), n, wino_packed);
  }
  void winograd_backward() override {
    if constexpr (winograd)
      dp::kernels::winograd_backward<float, g, true>(in.data(), out.data(), dout.data(), First ? nullptr : din.data(),
                                                     n, weights.data(), dweights.data(), dbias.data(), wino_ws);
  }
};

struct vgg_report {
  // GEMM reference per thread count (best Eigen shape) and each conv item.
  std::vector<item> items;
  double eigen_best(int threads) const { return best("gemm-eigen", threads); }
  // The best GEMM of any library measured (OpenBLAS where found).
  double gemm_best(int threads) const { return std::max(best("gemm-eigen", threads), best("gemm-openblas", threads)); }
  double best(const std::string& group, int threads) const {
    double rate = 0;
    for (const auto& i : items)
      if (i.group == group && i.threads == threads) rate = std::max(rate, i.gflops());
    return rate;
  }
};

class vgg_bench {
 public:
  vgg_bench(int rounds, double target_s, const std::string& blas_folder, std::size_t batch = 128)
      : rounds_(rounds), target_s_(target_s), blas_(blas_folder), batch_(batch) {}

  vgg_report run(const std::vector<int>& conv_threads) {
    std::printf("\n#### vgg3x3: GEMM rate of this machine and deepid's padded 3x3 convolutions (DeepID3 net1 "
                "55x47x3, batch %zu)\n",
                batch_);
    std::printf("  Eigen %d.%d.%d GEMM on OpenMP (Eigen::setNbThreads)%s%s\n", EIGEN_WORLD_VERSION,
                EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, blas_ ? "; OpenBLAS: " : "; OpenBLAS not found",
                blas_ ? blas_.path.c_str() : "");
    std::vector<item> items;
    const std::vector<std::array<int, 3>> shapes{{1024, 1024, 1024}, {1024, 1152, 128}};
    for (int t : {1, 2})
      for (const auto& s : shapes) {
        add_gemm(items, "gemm-eigen", s, t);
        if (blas_) add_gemm(items, "gemm-openblas", s, t);
      }
    layers_.push_back(std::make_unique<conv_layer<3, 55, 47, 64, true>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<64, 55, 47, 64, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<64, 27, 23, 96, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<96, 27, 23, 96, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<96, 13, 11, 192, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<192, 13, 11, 192, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<192, 6, 5, 256, false>>(batch_));
    layers_.push_back(std::make_unique<conv_layer<256, 6, 5, 256, false>>(batch_));
    for (int t : conv_threads)
      for (auto& l : layers_) {
        conv_layer_base* p = l.get();
        items.emplace_back("conv-fwd", p->what, t, p->forward_flops, [p] { p->forward(); });
        items.emplace_back("conv-bwd", p->what, t, p->backward_flops, [p] { p->backward(); });
        if (!p->has_winograd()) continue;
        items.emplace_back("wino-fwd", p->what, t, p->forward_flops, [p] { p->winograd_forward(); });
        items.emplace_back("wino-bwd", p->what, t, p->backward_flops, [p] { p->winograd_backward(); });
      }
    for (auto& i : items) {
      use_threads(i);
      i.run();  // warm-up: allocations, first-call costs
      auto start = clock_type::now();
      i.run();
      double t = seconds_since(start);
      int calls = 1;
      while (t < 0.02 && calls < (1 << 16)) {
        calls *= 4;
        start = clock_type::now();
        for (int c = 0; c < calls; ++c) i.run();
        t = seconds_since(start);
      }
      i.calls = std::max(1, int(std::lround(target_s_ / (t / calls))));
    }
    for (int r = 0; r < rounds_; ++r)
      for (auto& i : items) {
        use_threads(i);
        const auto start = clock_type::now();
        for (int c = 0; c < i.calls; ++c) i.run();
        i.per_call.push_back(seconds_since(start) / i.calls);
      }
    if (blas_) blas_.set_threads(1);

    vgg_report report{std::move(items)};
    std::printf("  %-15s %-32s %7s %9s   per round (GFLOP/s)\n", "what", "shape / layer", "threads", "GFLOP/s");
    for (const auto& i : report.items) {
      std::printf("  %-15s %-32s %7d %9.1f  ", i.group.c_str(), i.what.c_str(), i.threads, i.gflops());
      for (double s : i.per_call) std::printf(" %.1f", i.flops * 1e-9 / s);
      if ((i.group.rfind("conv", 0) == 0 || i.group.rfind("wino", 0) == 0) && report.eigen_best(i.threads) > 0)
        std::printf("   (%.0f%% of Eigen GEMM, %.0f%% of the best GEMM)", 100.0 * i.gflops() / report.eigen_best(i.threads),
                    100.0 * i.gflops() / report.gemm_best(i.threads));
      std::printf("\n");
    }
    return report;
  }

 private:
  static double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
  }

  void use_threads(const item& i) {
    dp::set_num_threads(i.threads);
    Eigen::setNbThreads(i.threads);
    if (blas_) blas_.set_threads(i.group == "gemm-openblas" ? i.threads : 1);
  }

  void add_gemm(std::vector<item>& items, const std::string& group, const std::array<int, 3>& s, int threads) {
    const int m = s[0], k = s[1], n = s[2];
    auto a = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(m, k));
    auto b = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(k, n));
    auto c = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Zero(m, n));
    std::function<void()> f;
    if (group == "gemm-eigen") {
      f = [a, b, c] { c->noalias() = (*a) * (*b); };
    } else {
      const openblas::sgemm_fn sgemm = blas_.sgemm;
      // Column major (Eigen's storage): CblasColMajor = 102, CblasNoTrans = 111.
      f = [a, b, c, m, k, n, sgemm] { sgemm(102, 111, 111, m, n, k, 1.f, a->data(), m, b->data(), k, 0.f, c->data(), m); };
    }
    items.emplace_back(group,
                       std::to_string(m) + "x" + std::to_string(k) + " * " + std::to_string(k) + "x" + std::to_string(n),
                       threads, 2.0 * m * k * n, f);
  }

  int rounds_;
  double target_s_;
  openblas blas_;
  std::size_t batch_;
  std::vector<std::unique_ptr<conv_layer_base>> layers_;
};

}  // namespace side_by_side_gemm
