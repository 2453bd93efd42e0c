#pragma once
// model<Net, T>: a network's parameters (one contiguous arena), activations
// and passes. Batch size is a run-time value; everything structural is fixed
// by Net. Activations are NCHW at the API and NHWC inside.
//
// Outputs. A stack with heads (head<"fc1", "pool1", ...>) has several: the
// heads in the order they appear, then the main path's output (named by the
// last tap on it, else "output"). forward() computes the heads only when
// asked (head_pass::run); backward_outputs() takes a gradient for each.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "deepid/core/buffer.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/parameter_info.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/net/layout.hpp"
#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

namespace init {
// Parameters are drawn deterministically from this seed (each layer from its
// own stream, so adding a layer does not change the others).
struct seed {
  std::uint64_t value = 0;
};
}  // namespace init

namespace check {
template <class T>
struct scalar_is_floating {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "model: the scalar type must be float or double");
  static constexpr bool ok = std::is_same_v<T, float> || std::is_same_v<T, double>;
};
}  // namespace check

// One row of a model's layer table.
struct layer_info {
  std::size_t index;
  std::string name;
  shape3 out_shape;
  std::size_t params;
  std::uint64_t flops;
  std::string head;     // the head the layer belongs to; empty on the main path
  std::size_t branch;   // its inception branch (1, 2, ...); 0 outside modules
};

template <class Net, class T = float>
class model {
  static_assert(check::scalar_is_floating<T>::ok);
  using layout = net_layout<Net, T>;
  using bound = typename layout::bound;
  using walked = typename layout::walked;
  using layer_tuple = typename layout::layer_tuple;
  static constexpr std::size_t layer_count = layout::layer_count;
  static constexpr std::size_t activation_count = layout::activation_count;
  template <std::size_t I>
  using placed_at = typename layout::template placed_at<I>;
  using heads = typename layout::heads;

 public:
  using net = Net;
  using scalar = T;
  static constexpr shape3 input_shape = bound::in_shape;
  static constexpr shape3 output_shape = walked::out_shape;
  static constexpr std::size_t param_count = walked::param_count;
  static constexpr std::uint64_t flops = net_traits<Net>::flops;
  static constexpr std::size_t head_count = heads::count;
  static constexpr std::size_t output_count = heads::count + 1;  // the heads, then the main output

  // Name, shape and index of output k (heads first, the main output last).
  static constexpr std::string_view output_name(std::size_t k) { return heads::names[k]; }
  static constexpr shape3 output_shape_of(std::size_t k) { return heads::shapes[k]; }
  static std::size_t output_index(std::string_view name) {
    std::string known;
    for (std::size_t k = 0; k < output_count; ++k) {
      if (heads::names[k] == name) return k;
      known += (k ? ", " : "") + std::string(heads::names[k]);
    }
    throw error("model has no output named '" + std::string(name) + "' (it has " + known + ")");
  }

  explicit model(init::seed s = {}) : params_(param_count), grads_(param_count, T(0)) {
    act_shapes_[0] = input_shape;
    for_each_layer([&]<std::size_t I>(auto& layer) {
      using P = placed_at<I>;
      act_shapes_[P::out_act] = P::layer::out_shape;
      rng gen(mix64(s.value ^ mix64(I + 1)));
      layer.init(params_.data() + P::param_offset, gen);
    });
  }

  // Features (the last layer's output) for a batch N x C x H x W; N x D.
  matrix<T> forward(const batch4<T>& x) {
    check_batch(x, "forward");
    const std::size_t n = x.shape()[0];
    const T* out = forward(x.data(), n, mode::inference);
    return to_api_matrix(out, n, output_shape);
  }

  // Every output for a batch, heads first (each N x D_k), computing the heads.
  std::vector<matrix<T>> forward_outputs(const batch4<T>& x) {
    check_batch(x, "forward_outputs");
    const std::size_t n = x.shape()[0];
    forward(x.data(), n, mode::inference, head_pass::run);
    std::vector<matrix<T>> result;
    for (std::size_t k = 0; k < output_count; ++k) result.push_back(output_matrix(k));
    return result;
  }

  // Raw forward: `nchw` holds n samples; returns the main output buffer
  // (n x D, D = output_shape.size(), NHWC order; equal to NCHW when H = W =
  // 1). With head_pass::run the heads are computed too (see output()).
  const T* forward(const T* nchw, std::size_t n, mode m, head_pass h = head_pass::skip) {
    if (dirty_) prepare();
    allocate(n);
    to_nhwc(nchw, acts_[0].data(), n);
    heads_ran_ = h == head_pass::run || head_count == 0;
    run_layers(m, m == mode::inference);
    return acts_[walked::out_act].data();
  }

  // Output k of the last forward pass (n x D_k, NHWC); a head's output only
  // when that pass ran the heads.
  const T* output(std::size_t k) const {
    if (k >= output_count) throw error("model::output: there are " + std::to_string(output_count) + " outputs");
    if (batch_ == 0) throw error("model::output: no forward pass yet");
    if (k < head_count && !heads_ran_)
      throw error("model::output: the last forward pass skipped the heads (pass head_pass::run)");
    return acts_[heads::acts[k]].data();
  }
  matrix<T> output_matrix(std::size_t k) const { return to_api_matrix(output(k), batch_, heads::shapes[k]); }

  // Gradients of the last forward pass: `doutput` is dLoss/dOutput (n x D,
  // the layout forward returned). Parameter gradients are overwritten in
  // gradients(); dinput (N x C x H x W, may be null) receives dLoss/dInput.
  void backward(const T* doutput, T* dinput_nchw = nullptr) {
    std::array<const T*, output_count> d{};
    d[head_count] = doutput;
    backward_outputs(d, dinput_nchw);
  }

  // Gradients of the last forward pass w.r.t. every output: doutputs[k] is
  // dLoss/dOutput k (n x D_k, the layout of output(k)), or null where the
  // loss does not read that output. Head gradients need a pass that ran the
  // heads. `gradients_ready(offset)`, when given, is called as the pass goes
  // from the last layer to the first: from then on the parameter gradients
  // from `offset` to the end are final (offset only decreases), so a
  // data-parallel trainer can start summing them.
  void backward_outputs(const std::array<const T*, output_count>& doutputs, T* dinput_nchw = nullptr,
                        const std::function<void(std::size_t)>& gradients_ready = {}) {
    if (batch_ == 0) throw error("model::backward: no forward pass to differentiate");
    for (std::size_t k = 0; k < head_count; ++k)
      if (doutputs[k] && !heads_ran_)
        throw error("model::backward: a gradient for head '" + std::string(heads::names[k]) +
                    "', but the last forward pass skipped the heads");
    // An inference pass skips the activations that pooling in a convolution's
    // epilogue makes unnecessary; backward needs them all.
    if (skipped_activations_) run_layers(mode::inference, false);
    want_input_grad_ = dinput_nchw != nullptr;
    // Layers add to d(input) and to their parameter gradients. The input's
    // gradient is nobody's to add to when it is not wanted.
    for (std::size_t a = want_input_grad_ ? 0 : 1; a < activation_count; ++a)
      kernels::parallel_fill(dacts_[a].data(), batch_ * act_shapes_[a].size(), T(0));
    for (std::size_t k = 0; k < output_count; ++k) {
      if (!doutputs[k]) continue;
      T* d = dacts_[heads::acts[k]].data();
      for (std::size_t i = 0; i < batch_ * heads::shapes[k].size(); ++i) d[i] += doutputs[k][i];
    }
    kernels::parallel_fill(grads_.data(), grads_.size(), T(0));
    backward_from<layer_count>(gradients_ready);
    if (dinput_nchw) to_nchw(dacts_[0].data(), dinput_nchw, batch_, input_shape);
  }

  // Re-keys the random draws of the layers that have them (dropout masks):
  // the next training passes draw from (key, layer index) only. A trainer
  // keys them by (epoch, batch), so a resumed run draws what an
  // uninterrupted one would have. `samples` (optional) numbers the samples
  // of the next batches within a larger batch (a data-parallel step: this
  // process holds part of it), so their draws are the larger batch's.
  void set_random_stream(std::uint64_t key, std::span<const std::size_t> samples = {}) {
    for_each_layer([&]<std::size_t I>(auto& layer) {
      if constexpr (requires { layer.set_random_stream(key, samples); })
        layer.set_random_stream(mix64(key ^ mix64(I + 1)), samples);
    });
  }

  // Frees the activation buffers, which grow to the largest batch seen; the
  // next forward allocates them again. For models kept after training (an
  // ensemble holds one per patch type).
  void release_buffers() {
    for (std::size_t a = 0; a < activation_count; ++a) {
      buffer<T>().swap(acts_[a]);
      buffer<T>().swap(dacts_[a]);
    }
    batch_ = 0;
  }

  std::span<T> parameters() {
    dirty_ = true;
    return params_;
  }
  std::span<const T> parameters() const { return params_; }
  std::span<const T> gradients() const { return grads_; }
  std::span<T> gradients_mutable() { return grads_; }

  // Calls f(layer_info) for each layer in order.
  std::vector<layer_info> layers() const {
    std::vector<layer_info> rows;
    for_each_layer([&]<std::size_t I>(const auto&) {
      using P = placed_at<I>;
      using L = typename P::layer;
      const std::string head = P::head ? std::string(heads::names[P::head - 1]) : std::string();
      rows.push_back({I + 1, L::name(), L::out_shape, L::param_count, L::flops, head, P::branch});
    });
    return rows;
  }

  // Every parameter tensor in PyTorch layout, named "<layer>.<weight|bias>".
  std::vector<parameter_info> parameter_tensors() const {
    std::vector<parameter_info> list;
    for_each_layer([&]<std::size_t I>(const auto&) {
      using L = typename placed_at<I>::layer;
      for (const auto& t : L::parameter_tensors()) list.push_back({std::to_string(I + 1) + "." + t.name, t.shape});
    });
    return list;
  }

  // Copies parameter tensor `name` out in PyTorch layout.
  std::vector<T> get_parameter(const std::string& name) const {
    std::vector<T> data;
    visit_tensor(name, [&](std::size_t size, auto index) {
      data.resize(size);
      for (std::size_t i = 0; i < size; ++i) data[i] = params_[index(i)];
    });
    return data;
  }

  // Copies the gradient of parameter tensor `name` (from the last backward)
  // out in PyTorch layout.
  std::vector<T> get_gradient(const std::string& name) const {
    std::vector<T> data;
    visit_tensor(name, [&](std::size_t size, auto index) {
      data.resize(size);
      for (std::size_t i = 0; i < size; ++i) data[i] = grads_[index(i)];
    });
    return data;
  }

  // Sets parameter tensor `name` from PyTorch layout (size must match).
  void set_parameter(const std::string& name, std::span<const T> data) {
    visit_tensor(name, [&](std::size_t size, auto index) {
      if (data.size() != size)
        throw error("parameter " + name + ": expected " + std::to_string(size) + " values, got " +
                    std::to_string(data.size()));
      for (std::size_t i = 0; i < size; ++i) params_[index(i)] = data[i];
    });
    dirty_ = true;
  }

  // Scalar reference forward (no SIMD, no threads) for tests.
  const T* forward_reference(const T* nchw, std::size_t n) {
    allocate(n);
    to_nhwc(nchw, acts_[0].data(), n);
    heads_ran_ = true;
    for_each_layer([&]<std::size_t I>(auto& layer) {
      using P = placed_at<I>;
      if constexpr (requires { layer.forward_reference(buffers<I>(), params_.data()); })
        layer.forward_reference(buffers<I>(), params_.data() + P::param_offset);
      else
        layer.forward(buffers<I>(), params_.data() + P::param_offset, mode::inference);
    });
    skipped_activations_ = false;
    return acts_[walked::out_act].data();
  }

  std::size_t batch() const { return batch_; }

  // The first layer (0-based, as in layers()) whose output in the last
  // training forward pass holds a value that is not finite, or the number of
  // layers when none does: where a diverging step overflowed. Read only after a
  // step was found to diverge, so the scan costs nothing otherwise.
  std::size_t first_non_finite_layer() const {
    std::size_t found = layer_count;
    for_each_layer([&]<std::size_t I>(const auto&) {
      using P = placed_at<I>;
      if (found != layer_count || (P::head != 0 && !heads_ran_)) return;
      const T* a = acts_[P::out_act].data();
      const std::size_t n = std::min(acts_[P::out_act].size(), batch_ * act_shapes_[P::out_act].size());
      if (std::any_of(a, a + n, [](T v) { return !std::isfinite(v); })) found = I;
    });
    return found;
  }

 private:
  template <class F>
  void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(layers_)), ...);
    }(std::make_index_sequence<layer_count>{});
  }
  template <class F>
  void for_each_layer(F&& f) const {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(layers_)), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  // How many layers compute from activation A (aliases such as a fused relu
  // or a tap only rename it).
  static constexpr std::size_t readers_of(std::size_t a) {
    return []<std::size_t... I>(std::size_t act, std::index_sequence<I...>) {
      std::size_t count = 0;
      const auto visit = [&]<class L>(L*) {
        if (!L::aliases_input)
          for (std::size_t k = 0; k < L::num_inputs; ++k) count += L::inputs[k] == act;
      };
      (visit(static_cast<typename placed_at<I>::layer*>(nullptr)), ...);
      return count;
    }(a, std::make_index_sequence<layer_count>{});
  }
  static constexpr bool is_output(std::size_t a) {
    for (const auto act : heads::acts)
      if (act == a) return true;
    return false;
  }

  // Layer I is a convolution whose ReLU (I + 1) and max pool (I + 2) run in
  // its epilogue when fused (inference): only when the pool is the one layer
  // that reads the convolution's output.
  template <std::size_t I>
  static constexpr bool pools_in_epilogue() {
    if constexpr (I + 2 >= layer_count) {
      return false;
    } else {
      using C = typename placed_at<I>::layer;
      using Next = typename placed_at<I + 2>::layer;
      constexpr std::size_t act = placed_at<I>::out_act;
      if constexpr (requires { C::template pools_next<Next>(); }) {
        return C::template pools_next<Next>() && placed_at<I + 1>::layer::aliases_input &&
               placed_at<I + 1>::out_act == act && Next::inputs[0] == act && readers_of(act) == 1 &&
               !is_output(act) && placed_at<I>::head == placed_at<I + 2>::head;
      } else {
        return false;
      }
    }
  }

  void run_layers(mode m, bool fuse) {
    for_each_layer([&]<std::size_t I>(auto& layer) {
      using P = placed_at<I>;
      if (P::head != 0 && !heads_ran_) return;
      if (fuse) {
        if constexpr (pools_in_epilogue<I>()) {
          auto b = buffers<I>();
          b.output = acts_[placed_at<I + 2>::out_act].data();
          layer.template forward_pooled<typename placed_at<I + 2>::layer>(b);
          return;
        }
        if constexpr (I >= 2) {
          if constexpr (pools_in_epilogue<I - 2>()) return;  // done by layer I - 2 (I - 1 is its fused ReLU)
        }
      }
      layer.forward(buffers<I>(), params_.data() + P::param_offset, m);
    });
    skipped_activations_ = fuse && any_pools_in_epilogue();
  }

  static constexpr bool any_pools_in_epilogue() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (pools_in_epilogue<I>() || ...);
    }(std::make_index_sequence<layer_count>{});
  }

  template <std::size_t I>
  auto buffers() {
    using P = placed_at<I>;
    using L = typename P::layer;
    pass_buffers<T, L::num_inputs> b;
    for (std::size_t k = 0; k < L::num_inputs; ++k) b.inputs[k] = acts_[L::inputs[k]].data();
    b.output = acts_[P::out_act].data();
    b.batch = batch_;
    return b;
  }

  template <std::size_t Remaining>
  void backward_from(const std::function<void(std::size_t)>& gradients_ready) {
    if constexpr (Remaining > 0) {
      constexpr std::size_t I = Remaining - 1;
      using P = placed_at<I>;
      using L = typename P::layer;
      // Layers sit in the arena in their order, so a layer's gradients are
      // final once it and every layer after it are done.
      static_assert(I == 0 || placed_at<I - (I > 0)>::param_offset <= P::param_offset);
      if (P::head == 0 || heads_ran_) {
        std::array<T*, L::num_inputs> din{};
        for (std::size_t k = 0; k < L::num_inputs; ++k)
          din[k] = (L::inputs[k] == 0 && !want_input_grad_) ? nullptr : dacts_[L::inputs[k]].data();
        std::get<I>(layers_).backward(buffers<I>(), dacts_[P::out_act].data(), din, params_.data() + P::param_offset,
                                      grads_.data() + P::param_offset);
      }
      if (L::param_count > 0 && gradients_ready) gradients_ready(P::param_offset);
      backward_from<I>(gradients_ready);
    }
  }

  template <class F>
  void visit_tensor(const std::string& name, F&& f) const {
    bool found = false;
    for_each_layer([&]<std::size_t I>(const auto&) {
      using P = placed_at<I>;
      using L = typename P::layer;
      const auto tensors = L::parameter_tensors();
      for (std::size_t t = 0; t < tensors.size(); ++t) {
        if (std::to_string(I + 1) + "." + tensors[t].name != name) continue;
        std::size_t size = 1;
        for (auto d : tensors[t].shape) size *= d;
        f(size, [t](std::size_t i) { return P::param_offset + L::arena_index(t, i); });
        found = true;
      }
    });
    if (!found) throw error("model has no parameter tensor named '" + name + "'");
  }

  void prepare() {
    for_each_layer([&]<std::size_t I>(auto& layer) { layer.prepare(params_.data() + placed_at<I>::param_offset); });
    dirty_ = false;
  }

  void allocate(std::size_t n) {
    if (n == 0) throw error("model: the batch is empty");
    if (n == batch_) return;
    for (std::size_t a = 0; a < activation_count; ++a) {
      acts_[a].assign(n * act_shapes_[a].size(), T(0));
      dacts_[a].assign(n * act_shapes_[a].size(), T(0));
    }
    batch_ = n;
  }

  static void to_nhwc(const T* in, T* out, std::size_t n) {
    constexpr shape3 s = input_shape;
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t c = 0; c < s.c; ++c)
        for (std::size_t i = 0; i < s.h * s.w; ++i) out[(b * s.h * s.w + i) * s.c + c] = in[(b * s.c + c) * s.h * s.w + i];
  }
  static void to_nchw(const T* in, T* out, std::size_t n, shape3 s) {
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t c = 0; c < s.c; ++c)
        for (std::size_t i = 0; i < s.h * s.w; ++i) out[(b * s.c + c) * s.h * s.w + i] = in[(b * s.h * s.w + i) * s.c + c];
  }

  static matrix<T> to_api_matrix(const T* out, std::size_t n, shape3 shape) {
    matrix<T> result({n, shape.size()});
    if (shape.h * shape.w == 1) std::copy_n(out, result.size(), result.data());
    else to_nchw(out, result.data(), n, shape);
    return result;
  }

  void check_batch(const batch4<T>& x, const char* what) const {
    const auto& s = x.shape();
    if (s[1] != input_shape.c || s[2] != input_shape.h || s[3] != input_shape.w)
      throw error(std::string("model::") + what + ": input batch is " + shape_string(s) + ", expected Nx" +
                  input_shape.str());
  }

  layer_tuple layers_;
  buffer<T> params_, grads_;
  std::array<buffer<T>, activation_count> acts_, dacts_;
  std::array<shape3, activation_count> act_shapes_{};
  std::size_t batch_ = 0;
  bool dirty_ = true;
  bool want_input_grad_ = true;
  bool skipped_activations_ = false;  // the last forward fused conv + pool (see run_layers)
  bool heads_ran_ = true;             // the last forward computed the heads
};

DEEPID_NAMESPACE_END
