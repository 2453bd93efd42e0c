#pragma once
// device_model<Net, T>: a model<Net, T> on a CUDA device. The same compile-
// time net and the same parameter arena (one device allocation, laid out as
// the CPU model's, so checkpoints and weight files are shared through
// parameters()/set_parameters()); activations stay on the device from the
// input's upload to the outputs. Passes follow model<Net, T>: forward, then
// backward_outputs adding every layer's gradients; heads run when asked.
//
// The layers' work goes to the kernels of device_api.hpp with the layers'
// compile-time shapes as arguments.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "deepid/backend/cuda/device_api.hpp"
#include "deepid/backend/cuda/device_buffer.hpp"
#include "deepid/backend/cuda/joint_signal.hpp"
#include "deepid/backend/cuda/sgd_state.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/layers/concat.hpp"
#include "deepid/layers/dropout.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/net/head.hpp"
#include "deepid/net/layout.hpp"
#include "deepid/net/model.hpp"
#include "deepid/train/sgd.hpp"

namespace deepid::cuda {
inline namespace api_v0 {

namespace layer_kind {
// Which kernels run a bound layer.
template <class L>
concept banked_conv = requires {
  L::geometry;
  L::fused_relu;
};
template <class L>
concept dense = requires {
  L::input_shapes;
  L::in_total;
  L::fused_relu;
};
template <class L>
concept pooling = requires {
  L::pool_size;
  L::pool_stride;
  L::pool_pad;
  L::in_shape;
};
template <class L>
struct relu : std::false_type {};
template <class C, class U>
struct relu<deepid::detail::relu_layer<C, U>> : std::true_type {};
template <class L>
struct dropout : std::false_type {};
template <class S, class C, class U, double Rate>
struct dropout<deepid::detail::dropout_layer<S, C, U, Rate>> : std::true_type {
  static constexpr double rate = Rate;
};
template <class L>
struct concat : std::false_type {};
template <class U, std::size_t N, std::array<std::size_t, N> Acts, std::array<deepid::shape3, N> Shapes>
struct concat<deepid::detail::concat_layer<U, N, Acts, Shapes>> : std::true_type {
  static constexpr std::array<deepid::shape3, N> shapes = Shapes;
};
}  // namespace layer_kind

namespace check {
template <class L, bool Known>
struct layer_has_cuda_kernels {
  static_assert(Known, "device_model: this layer kind has no CUDA kernels (the backend runs conv, "
                       "locally_shared_conv, locally_connected, max_pool, relu, fully_connected, multi_scale_fc, "
                       "dropout, tap and inception's concat)");
  static constexpr bool ok = Known;
};
}  // namespace check

template <class Net, class T = float>
class device_model {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "device_model: T must be float or double");
  using layout = deepid::net_layout<Net, T>;
  using walked = typename layout::walked;
  using heads = typename layout::heads;
  static constexpr std::size_t layer_count = layout::layer_count;
  static constexpr std::size_t activation_count = layout::activation_count;
  template <std::size_t I>
  using placed_at = typename layout::template placed_at<I>;
  using host_model = deepid::model<Net, T>;
  using kernels = ops<T>;

 public:
  using net = Net;
  using scalar = T;
  // train::trainer computes the joint signal on the device's outputs and
  // takes its SGD steps on the device (descend).
  using joint_signal = cuda::joint_signal<T>;
  using optimiser_state = cuda::sgd_state<T>;
  static constexpr deepid::shape3 input_shape = host_model::input_shape;
  static constexpr std::size_t param_count = host_model::param_count;
  static constexpr std::size_t head_count = host_model::head_count;
  static constexpr std::size_t output_count = host_model::output_count;
  static constexpr deepid::shape3 output_shape_of(std::size_t k) { return heads::shapes[k]; }

  // Name and index of output k (heads first, the main output last), as model's.
  static constexpr std::string_view output_name(std::size_t k) { return host_model::output_name(k); }
  static std::size_t output_index(std::string_view name) { return host_model::output_index(name); }

  // The parameters model<Net, T>(s) starts from, and the same dropout streams.
  explicit device_model(deepid::init::seed s = {})
      : mirror_(s), params_(on_a_device(param_count)), grads_(param_count) {
    params_.upload(std::as_const(mirror_).parameters());
    describe_layers(s);
  }
  // A copy of `host`'s parameters (dropout streams: set_random_stream).
  explicit device_model(const host_model& host, deepid::init::seed s = {})
      : mirror_(host), params_(on_a_device(param_count)), grads_(param_count) {
    params_.upload(std::as_const(mirror_).parameters());
    describe_layers(s);
  }

  // ---- The model<Net, T> interface, in host memory (what the trainer uses).
  // The parameters and gradients have host copies in the CPU model's arena
  // layout, kept in step with the device's both ways: a read copies the
  // device's values over when they are newer (after a backward pass, an SGD
  // step on the device), a write reaches the device before its next pass or
  // step.
  std::span<T> parameters() {
    refresh_host_parameters();
    host_params_dirty_ = true;
    return mirror_.parameters();
  }
  std::span<const T> parameters() const {
    refresh_host_parameters();
    return std::as_const(mirror_).parameters();
  }
  std::span<const T> gradients() const {
    refresh_host_gradients();
    return mirror_.gradients();
  }
  // A host view that stays live, as model's: the backward passes after it
  // copy their gradients into it too, and what is written there (a sum over
  // ranks) is what descend() steps with.
  std::span<T> gradients_mutable() {
    refresh_host_gradients();
    host_grads_dirty_ = true;
    return mirror_.gradients_mutable();
  }
  void set_parameters(std::span<const T> values) {
    if (values.size() != param_count)
      throw deepid::error("device_model::set_parameters: " + std::to_string(values.size()) + " values, the net has " +
                          std::to_string(param_count));
    std::copy(values.begin(), values.end(), mirror_.parameters().begin());
    params_.upload(values);
    host_params_dirty_ = device_params_newer_ = false;
  }
  void copy_parameters_to(host_model& host) const {
    const auto values = parameters();
    std::copy(values.begin(), values.end(), host.parameters().begin());
  }
  std::vector<layer_info> layers() const { return mirror_.layers(); }
  std::vector<parameter_info> parameter_tensors() const { return mirror_.parameter_tensors(); }
  std::vector<T> get_parameter(const std::string& name) const {
    refresh_host_parameters();
    return mirror_.get_parameter(name);
  }
  std::vector<T> get_gradient(const std::string& name) const {
    refresh_host_gradients();
    return mirror_.get_gradient(name);
  }
  void set_parameter(const std::string& name, std::span<const T> data) {
    refresh_host_parameters();
    mirror_.set_parameter(name, data);
    host_params_dirty_ = true;
  }

  // One SGD step on the device (sgd_state::step's arithmetic) with the
  // gradients of the last backward pass; `state` holds the momentum.
  void descend(optimiser_state& state, const deepid::sgd& o, double lr) {
    if (state.size() != param_count)
      throw deepid::error("device_model::descend: momentum for " + std::to_string(state.size()) +
                          " parameters, the net has " + std::to_string(param_count));
    sync_parameters();
    if (host_grads_dirty_) grads_.upload(std::as_const(mirror_).gradients());  // summed over ranks on the host
    host_grads_dirty_ = false;
    kernels::sgd_step(params_.data(), state.device_velocity(), grads_.data(), param_count, T(o.momentum), T(lr),
                      T(o.weight_decay));
    device_params_newer_ = true;
  }

  // As model::set_random_stream: dropout masks follow (key, layer) and the
  // samples' numbers within a larger batch.
  void set_random_stream(std::uint64_t key, std::span<const std::size_t> samples = {}) {
    for_each_layer([&]<std::size_t I>(auto& state) {
      if constexpr (layer_kind::dropout<typename placed_at<I>::layer>::value)
        state.seed = deepid::mix64(key ^ deepid::mix64(I + 1)), state.calls = 0;
    });
    const std::vector<std::uint64_t> numbers(samples.begin(), samples.end());
    sample_numbers_.resize(numbers.size());
    sample_numbers_.upload(numbers);
  }

  // Forward from a host batch (n x C x H x W); returns a host copy of the
  // main output (n x D, NHWC), the heads' in output(k) when they ran.
  const T* forward(const T* nchw, std::size_t n, deepid::mode m, deepid::head_pass h = deepid::head_pass::skip) {
    input_.resize(n * input_shape.size());
    input_.upload({nchw, n * input_shape.size()});
    forward_device(input_.data(), n, m, h);
    return output(output_count - 1);
  }
  // Features of a host batch, as model::forward returns them.
  deepid::matrix<T> forward(const deepid::batch4<T>& x) {
    const auto& s = x.shape();
    if (s[1] != input_shape.c || s[2] != input_shape.h || s[3] != input_shape.w)
      throw deepid::error("device_model::forward: input batch is " + deepid::shape_string(s) + ", expected Nx" +
                          input_shape.str());
    forward(x.data(), s[0], deepid::mode::inference);
    return output_matrix(output_count - 1);
  }
  // Output k of the last forward pass, host copy (n x D_k, NHWC), copied
  // from the device on the first call after the pass.
  const T* output(std::size_t k) const {
    const T* device = output_device(k);  // and the checks
    if (!host_output_current_[k]) {
      outputs_[k].resize(batch_ * heads::shapes[k].size());
      copy_to_host(outputs_[k].data(), device, outputs_[k].size() * sizeof(T));
      host_output_current_[k] = true;
    }
    return outputs_[k].data();
  }
  deepid::matrix<T> output_matrix(std::size_t k) const {
    const deepid::shape3 s = heads::shapes[k];
    const T* nhwc = output(k);
    deepid::matrix<T> result({batch_, s.size()});
    T* out = result.data();
    for (std::size_t b = 0; b < batch_; ++b)
      for (std::size_t c = 0; c < s.c; ++c)
        for (std::size_t i = 0; i < s.h * s.w; ++i) out[b * s.size() + c * s.h * s.w + i] = nhwc[(b * s.h * s.w + i) * s.c + c];
    return result;
  }
  // Backward from host gradients (doutputs[k]: n x D_k, or null); the
  // parameter gradients land in gradients(), dinput (host, may be null)
  // receives dLoss/dInput. `gradients_ready` is called once, with 0, when
  // they are all final (model calls it layer by layer).
  void backward_outputs(const std::array<const T*, output_count>& doutputs, T* dinput_nchw = nullptr,
                        const std::function<void(std::size_t)>& gradients_ready = {}) {
    std::array<const T*, output_count> device{};
    for (std::size_t k = 0; k < output_count; ++k) {
      if (!doutputs[k]) continue;
      doutput_[k].resize(batch_ * heads::shapes[k].size());
      doutput_[k].upload({doutputs[k], doutput_[k].size()});
      device[k] = doutput_[k].data();
    }
    if (dinput_nchw) dinput_.resize(batch_ * input_shape.size());
    backward_outputs_device(device, dinput_nchw ? dinput_.data() : nullptr);
    if (dinput_nchw) dinput_.download({dinput_nchw, dinput_.size()});
    if (gradients_ready) gradients_ready(0);
  }
  void backward(const T* doutput, T* dinput_nchw = nullptr) {
    std::array<const T*, output_count> d{};
    d[head_count] = doutput;
    backward_outputs(d, dinput_nchw);
  }
  // The first layer whose output in the last forward pass is not finite, or
  // the number of layers (as model's; reads the activations back).
  std::size_t first_non_finite_layer() const {
    std::size_t found = layer_count;
    const_cast<device_model*>(this)->for_each_layer([&]<std::size_t I>(auto&) {
      using P = placed_at<I>;
      if (found != layer_count || (P::head != 0 && !heads_ran_) || batch_ == 0) return;
      const auto values = acts_[P::out_act].to_host();
      if (std::any_of(values.begin(), values.end(), [](T v) { return !std::isfinite(v); })) found = I;
    });
    return found;
  }
  std::size_t batch() const { return batch_; }
  void release_buffers() {
    for (std::size_t a = 0; a < activation_count; ++a) acts_[a].resize(0), dacts_[a].resize(0);
    ones_.resize(0);
    work_.free();
    for (auto& state : states_) state.mask.resize(0), state.last_training = false;
    batch_ = 0;
  }

  // ---- The same passes on device memory, nothing copied to the host.
  // Writes through device_parameters() reach parameters() when it is next read.
  T* device_parameters() {
    sync_parameters();
    device_params_newer_ = true;
    return params_.data();
  }
  // Copies the device's parameters to the host copy now.
  void pull_parameters() {
    sync_parameters();
    params_.download(mirror_.parameters());
    device_params_newer_ = false;
  }
  const T* device_gradients() const { return grads_.data(); }
  // Forward from device memory; returns the main output on the device (n x D, NHWC).
  const T* forward_device(const T* device_nchw, std::size_t n, deepid::mode m,
                          deepid::head_pass h = deepid::head_pass::skip) {
    sync_parameters();
    allocate(n);
    kernels::nchw_to_nhwc(device_nchw, acts_[0].data(), n, input_shape.c, input_shape.h * input_shape.w);
    heads_ran_ = h == deepid::head_pass::run || head_count == 0;
    host_output_current_.fill(false);
    for_each_layer([&]<std::size_t I>(auto& state) {
      if (placed_at<I>::head == 0 || heads_ran_) forward_layer<I>(state, m);
    });
    return acts_[walked::out_act].data();
  }
  // Output k of the last forward pass on the device (n x D_k, NHWC).
  const T* output_device(std::size_t k) const {
    if (k >= output_count)
      throw deepid::error("device_model::output: there are " + std::to_string(output_count) + " outputs");
    if (batch_ == 0) throw deepid::error("device_model::output: no forward pass yet");
    if (k < head_count && !heads_ran_)
      throw deepid::error("device_model::output: the last forward pass skipped the heads (pass head_pass::run)");
    return acts_[heads::acts[k]].data();
  }
  // doutputs[k]: dLoss/dOutput k on the device (null where the loss does not
  // read it); the gradients overwrite device_gradients() (the host copy when
  // read, or at once while a gradients_mutable() view is out);
  // dinput (device, N x C x H x W) may be null.
  void backward_outputs_device(const std::array<const T*, output_count>& doutputs, T* dinput_nchw = nullptr) {
    if (batch_ == 0) throw deepid::error("device_model::backward: no forward pass to differentiate");
    for (std::size_t k = 0; k < head_count; ++k)
      if (doutputs[k] && !heads_ran_)
        throw deepid::error("device_model::backward: a gradient for head '" + std::string(heads::names[k]) +
                            "', but the last forward pass skipped the heads");
    want_input_grad_ = dinput_nchw != nullptr;
    for (std::size_t a = want_input_grad_ ? 0 : 1; a < activation_count; ++a) dacts_[a].zero();
    for (std::size_t k = 0; k < output_count; ++k)
      if (doutputs[k]) kernels::add(doutputs[k], dacts_[heads::acts[k]].data(), batch_ * heads::shapes[k].size());
    grads_.zero();
    backward_from<layer_count>();
    if (host_grads_dirty_) {  // a gradients_mutable() view is out: fill it now
      grads_.download(mirror_.gradients_mutable());
      device_grads_newer_ = false;
    } else {
      device_grads_newer_ = true;
    }
    if (dinput_nchw)
      kernels::nhwc_to_nchw(dacts_[0].data(), dinput_nchw, batch_, input_shape.c, input_shape.h * input_shape.w);
  }

 private:
  // The activations' shapes and the dropout layers' streams.
  void describe_layers(deepid::init::seed s) {
    act_shapes_[0] = input_shape;
    for_each_layer([&]<std::size_t I>(auto& state) {
      using P = placed_at<I>;
      using L = typename P::layer;
      static_assert(check::layer_has_cuda_kernels<L, known<L>()>::ok);
      act_shapes_[P::out_act] = L::out_shape;
      if constexpr (layer_kind::dropout<L>::value) {
        deepid::rng gen(deepid::mix64(s.value ^ deepid::mix64(I + 1)));
        state.seed = gen.next();  // as dropout_layer::init draws it
      }
    });
  }

  // What a layer keeps on the device between passes.
  struct layer_state {
    device_buffer<T> mask;                 // dropout's last mask
    std::uint64_t seed = 0, calls = 0;
    bool last_training = false;
  };

  template <class L>
  static constexpr bool known() {
    return L::aliases_input || layer_kind::banked_conv<L> || layer_kind::dense<L> || layer_kind::pooling<L> ||
           layer_kind::relu<L>::value || layer_kind::dropout<L>::value || layer_kind::concat<L>::value;
  }

  template <class F>
  void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(states_[I]), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  template <class L>
  static constexpr conv_shape conv_of() {
    constexpr auto g = L::geometry;
    return {g.cin, g.h, g.w, g.kernel, g.stride, g.pad, g.cout, g.grid_rows, g.grid_cols};
  }
  template <class L>
  static constexpr pool_shape pool_of() {
    return {L::in_shape.c, L::in_shape.h, L::in_shape.w, L::pool_size, L::pool_stride, L::pool_pad};
  }

  template <std::size_t I>
  void forward_layer(layer_state& state, deepid::mode m) {
    using P = placed_at<I>;
    using L = typename P::layer;
    const std::size_t n = batch_;
    T* out = acts_[P::out_act].data();
    const T* params = params_.data() + P::param_offset;
    if constexpr (L::aliases_input) {
      return;
    } else if constexpr (layer_kind::banked_conv<L>) {
      kernels::conv_forward(conv_of<L>(), L::fused_relu, input<L>(0), out, n, params, work_);
    } else if constexpr (layer_kind::dense<L>) {
      constexpr std::size_t units = L::out_shape.c;
      kernels::dense_bias(params + L::in_total * units, out, n, units);
      std::size_t row = 0;
      for (std::size_t k = 0; k < L::num_inputs; ++k) {
        kernels::dense_accumulate(input<L>(k), L::input_shapes[k].size(), params + row * units, out, n, units);
        row += L::input_shapes[k].size();
      }
      if constexpr (L::fused_relu) kernels::relu_forward(out, out, n * units);
    } else if constexpr (layer_kind::pooling<L>) {
      kernels::pool_forward(pool_of<L>(), input<L>(0), out, n);
    } else if constexpr (layer_kind::relu<L>::value) {
      kernels::relu_forward(input<L>(0), out, n * L::out_shape.size());
    } else if constexpr (layer_kind::dropout<L>::value) {
      const std::size_t count = n * L::out_shape.size();
      if (m == deepid::mode::inference || layer_kind::dropout<L>::rate == 0.0) {
        copy_on_device(out, input<L>(0), count * sizeof(T));
        state.last_training = false;
        return;
      }
      if (sample_numbers_.size() != 0 && sample_numbers_.size() != n)
        throw deepid::error(L::name() + ": " + std::to_string(n) + " samples in the batch but " +
                            std::to_string(sample_numbers_.size()) + " sample numbers were set");
      if (state.mask.size() != count) state.mask.resize(count);
      const std::uint64_t call = deepid::mix64(state.seed ^ ++state.calls);
      kernels::dropout_forward(input<L>(0), out, state.mask.data(), count, L::out_shape.size(),
                               layer_kind::dropout<L>::rate, call,
                               sample_numbers_.size() ? sample_numbers_.data() : nullptr);
      state.last_training = true;
    } else if constexpr (layer_kind::concat<L>::value) {
      constexpr auto shapes = layer_kind::concat<L>::shapes;
      const std::size_t pixels = n * L::out_shape.h * L::out_shape.w;
      std::size_t offset = 0;
      for (std::size_t k = 0; k < L::num_inputs; ++k) {
        kernels::concat_forward(input<L>(k), shapes[k].c, out, L::out_shape.c, offset, pixels);
        offset += shapes[k].c;
      }
    }
  }

  template <std::size_t I>
  void backward_layer(layer_state& state) {
    using P = placed_at<I>;
    using L = typename P::layer;
    const std::size_t n = batch_;
    const T* out = acts_[P::out_act].data();
    const T* dout = dacts_[P::out_act].data();
    const T* params = params_.data() + P::param_offset;
    T* dparams = grads_.data() + P::param_offset;
    if constexpr (L::aliases_input) {
      return;
    } else if constexpr (layer_kind::banked_conv<L>) {
      kernels::conv_backward(conv_of<L>(), L::fused_relu, input<L>(0), out, dout, dinput<L>(0), n, params, dparams,
                             work_);
    } else if constexpr (layer_kind::dense<L>) {
      constexpr std::size_t units = L::out_shape.c;
      const T* dz = dout;
      if constexpr (L::fused_relu) {
        T* masked = static_cast<T*>(work_.reserve(n * units * sizeof(T)));
        kernels::relu_mask(out, dout, masked, n * units);
        dz = masked;
      }
      std::size_t row = 0;
      for (std::size_t k = 0; k < L::num_inputs; ++k) {
        kernels::dense_backward(input<L>(k), L::input_shapes[k].size(), dz, dinput<L>(k), n, units,
                                params + row * units, dparams + row * units,
                                k == 0 ? dparams + L::in_total * units : nullptr, ones_.data());
        row += L::input_shapes[k].size();
      }
    } else if constexpr (layer_kind::pooling<L>) {
      if (T* din = dinput<L>(0)) kernels::pool_backward(pool_of<L>(), input<L>(0), dout, din, n);
    } else if constexpr (layer_kind::relu<L>::value) {
      if (T* din = dinput<L>(0)) kernels::relu_backward(out, dout, din, n * L::out_shape.size());
    } else if constexpr (layer_kind::dropout<L>::value) {
      if (T* din = dinput<L>(0)) {
        if (state.last_training) kernels::dropout_backward(dout, state.mask.data(), din, n * L::out_shape.size());
        else kernels::add(dout, din, n * L::out_shape.size());
      }
    } else if constexpr (layer_kind::concat<L>::value) {
      constexpr auto shapes = layer_kind::concat<L>::shapes;
      const std::size_t pixels = n * L::out_shape.h * L::out_shape.w;
      std::size_t offset = 0;
      for (std::size_t k = 0; k < L::num_inputs; ++k) {
        if (T* din = dinput<L>(k)) kernels::concat_backward(dout, L::out_shape.c, offset, din, shapes[k].c, pixels);
        offset += shapes[k].c;
      }
    }
  }

  template <std::size_t Remaining>
  void backward_from() {
    if constexpr (Remaining > 0) {
      constexpr std::size_t I = Remaining - 1;
      if (placed_at<I>::head == 0 || heads_ran_) backward_layer<I>(states_[I]);
      backward_from<I>();
    }
  }

  template <class L>
  const T* input(std::size_t k) const {
    return acts_[L::inputs[k]].data();
  }
  // d(input k) of layer L, or null when it is the net's input and not wanted.
  template <class L>
  T* dinput(std::size_t k) {
    return L::inputs[k] == 0 && !want_input_grad_ ? nullptr : dacts_[L::inputs[k]].data();
  }

  void allocate(std::size_t n) {
    if (n == 0) throw deepid::error("device_model: the batch is empty");
    if (n == batch_) return;
    for (std::size_t a = 0; a < activation_count; ++a) {
      acts_[a].resize(n * act_shapes_[a].size());
      dacts_[a].resize(n * act_shapes_[a].size());
    }
    ones_.resize(n);
    kernels::fill(ones_.data(), n, T(1));
    batch_ = n;
  }

  // Host writes through parameters() reach the device before a pass.
  void sync_parameters() {
    if (!host_params_dirty_) return;
    params_.upload(std::as_const(mirror_).parameters());
    host_params_dirty_ = false;
  }
  // The device's newer values reach the host copies before they are read.
  void refresh_host_parameters() const {
    if (!device_params_newer_) return;
    params_.download(mirror_.parameters());
    device_params_newer_ = false;
  }
  void refresh_host_gradients() const {
    if (!device_grads_newer_) return;
    grads_.download(mirror_.gradients_mutable());
    device_grads_newer_ = false;
  }

  // `size`, once a device is known to be there: the first allocation would
  // fail with a less telling error.
  static std::size_t on_a_device(std::size_t size) {
    if (device_count() == 0) throw deepid::error("device_model: " + device_description());
    return size;
  }

  // Host copies of the parameters and gradients, and the layer tables;
  // refreshed from the device when read (hence mutable).
  mutable host_model mirror_;
  bool host_params_dirty_ = false, host_grads_dirty_ = false;         // the host copy is newer
  mutable bool device_params_newer_ = false, device_grads_newer_ = false;  // the device's is newer
  device_buffer<T> params_, grads_;
  std::array<device_buffer<T>, activation_count> acts_, dacts_;
  std::array<deepid::shape3, activation_count> act_shapes_{};
  std::array<layer_state, layer_count> states_;
  device_buffer<std::uint64_t> sample_numbers_;  // the dropout layers' samples' numbers in a larger batch
  device_buffer<T> input_, dinput_;
  device_buffer<T> ones_;  // batch_ ones: dense layers sum their bias gradients by a GEMM
  scratch work_;           // the layers' scratch (convolutions' patches), one pass at a time
  std::array<device_buffer<T>, output_count> doutput_;
  mutable std::array<std::vector<T>, output_count> outputs_;  // host copies of the last forward's outputs
  mutable std::array<bool, output_count> host_output_current_{};
  std::size_t batch_ = 0;
  bool heads_ran_ = true;
  bool want_input_grad_ = true;
};

// An ensemble's nets on the GPU: features::ensemble<S, Family, cuda::on_gpu>
// (and its training, features/ensemble_training.hpp) with device_models.
struct on_gpu {
  template <class Net>
  using model = device_model<Net, float>;
};

}  // namespace api_v0
}  // namespace deepid::cuda
