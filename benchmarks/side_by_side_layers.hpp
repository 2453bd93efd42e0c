#pragma once
// side_by_side --layers: where deepid's training step of a deeper net spends
// its time, layer by layer.
//
// The profiler binds the net as model<> does (deepid::detail::bind_stack, an
// internal API: this is a diagnostic, not a use to copy) and runs each
// layer's own forward (mode::training, heads included: no conv + pool fusion,
// as in training) and backward on buffers of its own, timing every call; then
// the other parts of model<>'s step: re-packing the convolution weights
// (prepare, which the step pays after every SGD update), zeroing the
// activation gradients, the four 10,000-way classifiers and SGD with
// momentum. Rows are model<>'s layer table (1-based index). The layer sums
// come within a few percent of the measured step when nothing else runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <deepid/deepid.hpp>

#include "side_by_side_gemm.hpp"  // median_of

namespace side_by_side_layers {

namespace dp = deepid;
using clock_type = std::chrono::steady_clock;

template <class Net>
class layer_profiler {
  using bound = dp::detail::bind_stack<float, Net>;
  using walked = typename bound::walked;
  template <class List>
  struct unpack;
  template <class... P>
  struct unpack<dp::detail::type_list<P...>> {
    using placed = std::tuple<P...>;
    using layers = std::tuple<typename P::layer...>;
  };
  using placed_tuple = typename unpack<typename walked::layers>::placed;
  using layer_tuple = typename unpack<typename walked::layers>::layers;
  static constexpr std::size_t count = std::tuple_size_v<layer_tuple>;
  template <std::size_t I>
  using placed_at = std::tuple_element_t<I, placed_tuple>;

 public:
  explicit layer_profiler(std::size_t n) : n_(n) {
    params_.assign(walked::param_count, 0.f);
    grads_.assign(walked::param_count, 0.f);
    velocity_ = dp::sgd_state<float>(walked::param_count);
    shapes_.resize(walked::activations);
    shapes_[0] = bound::in_shape;
    for_each([&]<std::size_t I>(auto& layer) {
      using P = placed_at<I>;
      shapes_[P::out_act] = P::layer::out_shape;
      dp::rng gen(7 + I);
      layer.init(params_.data() + P::param_offset, gen);
    });
    acts_.resize(walked::activations);
    dacts_.resize(walked::activations);
    for (std::size_t a = 0; a < walked::activations; ++a) {
      acts_[a].assign(n * shapes_[a].size(), 0.f);
      dacts_[a].assign(n * shapes_[a].size(), 0.f);
    }
    std::mt19937 gen(1);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (auto& v : acts_[0]) v = normal(gen);
    labels_.resize(n);
    std::uniform_int_distribution<std::int32_t> label(0, 9999);
    for (auto& l : labels_) l = label(gen);
    for (std::size_t k = 0; k < outputs(); ++k) {
      cls_.push_back(std::make_unique<dp::softmax_classifier<float>>(output_dim(k), 10'000, 11 + k));
      douts_.emplace_back(n * output_dim(k), 0.f);
      cls_velocity_.emplace_back(cls_.back()->parameters().size());
    }
  }

  // Runs `rounds` training steps (after one warm-up) and prints the medians.
  void run(int rounds, const std::string& label) {
    std::vector<std::vector<double>> fwd(count), bwd(count), prep(count);
    std::vector<double> zero, classifiers, sgd;
    for (int r = -1; r < rounds; ++r) {
      std::vector<double> f(count), b(count), p(count);
      double z = 0, c = 0, s = 0;
      step(f, b, p, z, c, s);
      if (r < 0) continue;  // warm-up
      for (std::size_t i = 0; i < count; ++i) {
        fwd[i].push_back(f[i]);
        bwd[i].push_back(b[i]);
        prep[i].push_back(p[i]);
      }
      zero.push_back(z);
      classifiers.push_back(c);
      sgd.push_back(s);
    }
    using side_by_side_gemm::median_of;
    double total = median_of(zero) + median_of(classifiers) + median_of(sgd);
    for (std::size_t i = 0; i < count; ++i) total += median_of(fwd[i]) + median_of(bwd[i]) + median_of(prep[i]);
    std::printf("\n#### %s: deepid's training step layer by layer (batch %zu, %d thread%s, medians of %d steps; "
                "sum %.0f ms = %.1f samples/s)\n",
                label.c_str(), n_, dp::num_threads(), dp::num_threads() > 1 ? "s" : "", rounds, total * 1e3,
                double(n_) / total);
    std::printf("  %3s %-44s %-5s %9s %8s %9s %8s %8s %6s\n", "#", "layer", "head", "fwd ms", "GFLOP/s", "bwd ms",
                "GFLOP/s", "prep ms", "share");
    const auto names = layer_names();
    for_each([&]<std::size_t I>(auto&) {
      using P = placed_at<I>;
      using L = typename P::layer;
      const double f = median_of(fwd[I]), b = median_of(bwd[I]), p = median_of(prep[I]);
      if (f + b + p < 1e-4 * total) return;  // aliases (fused relu, tap) and other free rows
      // backward: d(weights) and d(input) each cost the forward's FLOPs
      // (the first layer computes no d(input)).
      const double flops = double(L::flops) * double(n_);
      const double bflops = I == 0 ? flops : 2 * flops;
      std::printf("  %3zu %-44s %-5s %9.2f %8s %9.2f %8s %8.2f %5.1f%%\n", I + 1, names[I].substr(0, 44).c_str(),
                  P::head ? "yes" : "", f * 1e3, rate(flops, f).c_str(), b * 1e3, rate(bflops, b).c_str(), p * 1e3,
                  100 * (f + b + p) / total);
    });
    const double cflops = 3.0 * 2.0 * double(n_) * 10'000.0 * double(cls_.size()) * double(output_dim(0));
    std::printf("  %3s %-44s %-5s %9s %8s %9.2f %8s %8s %5.1f%%\n", "", "zero the activation gradients", "", "", "",
                median_of(zero) * 1e3, "", "", 100 * median_of(zero) / total);
    std::printf("  %3s %-44s %-5s %9s %8s %9.2f %8s %8s %5.1f%%\n", "", "4 x 10,000-way classifiers (fwd + bwd)", "",
                "", "", median_of(classifiers) * 1e3, rate(cflops, median_of(classifiers)).c_str(), "",
                100 * median_of(classifiers) / total);
    std::printf("  %3s %-44s %-5s %9s %8s %9.2f %8s %8s %5.1f%%\n", "", "SGD with momentum (net + classifiers)", "", "",
                "", median_of(sgd) * 1e3, "", "", 100 * median_of(sgd) / total);
  }

 private:
  static std::string rate(double flops, double seconds) {
    if (flops <= 0 || seconds <= 0) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", flops * 1e-9 / seconds);
    return text;
  }

  static constexpr std::size_t outputs() { return walked::heads::size + 1; }
  static constexpr std::size_t output_dim(std::size_t k) {
    return []<class... H>(dp::detail::type_list<H...>*, std::size_t k) {
      constexpr std::array<std::size_t, sizeof...(H) + 1> dims{H::shape.size()..., walked::out_shape.size()};
      return dims[k];
    }(static_cast<typename walked::heads*>(nullptr), k);
  }
  static constexpr std::size_t output_act(std::size_t k) {
    return []<class... H>(dp::detail::type_list<H...>*, std::size_t k) {
      constexpr std::array<std::size_t, sizeof...(H) + 1> acts{H::act..., walked::out_act};
      return acts[k];
    }(static_cast<typename walked::heads*>(nullptr), k);
  }

  std::vector<std::string> layer_names() const {
    std::vector<std::string> names;
    for_each([&]<std::size_t I>(const auto&) { names.push_back(placed_at<I>::layer::name()); });
    return names;
  }

  template <class F>
  void for_each(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(layers_)), ...);
    }(std::make_index_sequence<count>{});
  }
  template <class F>
  void for_each(F&& f) const {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(layers_)), ...);
    }(std::make_index_sequence<count>{});
  }

  template <std::size_t I>
  auto buffers() {
    using P = placed_at<I>;
    using L = typename P::layer;
    dp::pass_buffers<float, L::num_inputs> b;
    for (std::size_t k = 0; k < L::num_inputs; ++k) b.inputs[k] = acts_[L::inputs[k]].data();
    b.output = acts_[P::out_act].data();
    b.batch = n_;
    return b;
  }

  static double since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

  // One training step as model<> runs it, timed piece by piece.
  void step(std::vector<double>& f, std::vector<double>& b, std::vector<double>& p, double& z, double& c, double& s) {
    for_each([&]<std::size_t I>(auto& layer) {
      const auto t = clock_type::now();
      layer.prepare(params_.data() + placed_at<I>::param_offset);
      p[I] = since(t);
    });
    for_each([&]<std::size_t I>(auto& layer) {
      const auto t = clock_type::now();
      layer.forward(buffers<I>(), params_.data() + placed_at<I>::param_offset, dp::mode::training);
      f[I] = since(t);
    });
    auto t = clock_type::now();
    for (std::size_t k = 0; k < outputs(); ++k)
      cls_[k]->train_step(acts_[output_act(k)].data(), labels_, douts_[k].data());
    c = since(t);
    t = clock_type::now();
    for (std::size_t a = 1; a < walked::activations; ++a)
      dp::kernels::parallel_fill(dacts_[a].data(), dacts_[a].size(), 0.f);
    for (std::size_t k = 0; k < outputs(); ++k) {
      float* d = dacts_[output_act(k)].data();
      for (std::size_t i = 0; i < douts_[k].size(); ++i) d[i] += douts_[k][i];
    }
    dp::kernels::parallel_fill(grads_.data(), grads_.size(), 0.f);
    z = since(t);
    backward_from<count>(b);
    t = clock_type::now();
    sgd(params_, grads_, velocity_);
    for (std::size_t k = 0; k < outputs(); ++k) sgd(cls_[k]->parameters(), cls_[k]->gradients(), cls_velocity_[k]);
    s = since(t);
  }

  template <std::size_t Remaining>
  void backward_from(std::vector<double>& b) {
    if constexpr (Remaining > 0) {
      constexpr std::size_t I = Remaining - 1;
      using P = placed_at<I>;
      using L = typename P::layer;
      std::array<float*, L::num_inputs> din{};
      for (std::size_t k = 0; k < L::num_inputs; ++k) din[k] = L::inputs[k] == 0 ? nullptr : dacts_[L::inputs[k]].data();
      const auto t = clock_type::now();
      std::get<I>(layers_).backward(buffers<I>(), dacts_[P::out_act].data(), din, params_.data() + P::param_offset,
                                    grads_.data() + P::param_offset);
      b[I] = since(t);
      backward_from<I>(b);
    }
  }

  // As side_by_side's training step: deepid's SGD with momentum 0.9, lr 0.01.
  static void sgd(std::span<float> params, std::span<const float> grads, dp::sgd_state<float>& velocity) {
    velocity.step({.lr = 0.01, .momentum = 0.9, .weight_decay = 0}, 0.01, params, grads);
  }

  std::size_t n_;
  layer_tuple layers_;
  std::vector<float> params_, grads_;
  dp::sgd_state<float> velocity_;
  std::vector<dp::shape3> shapes_;
  std::vector<std::vector<float>> acts_, dacts_;
  std::vector<std::int32_t> labels_;
  std::vector<std::unique_ptr<dp::softmax_classifier<float>>> cls_;
  std::vector<std::vector<float>> douts_;
  std::vector<dp::sgd_state<float>> cls_velocity_;
};

}  // namespace side_by_side_layers
