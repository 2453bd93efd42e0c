#pragma once
// The layer behind conv, locally_shared_conv and locally_connected: a grid of
// weight banks over the output map (1x1 grid: ordinary convolution).
//
// Parameter arena: weights [banks][K][Cout] with K ordered (ky, kx, ci), then
// biases [banks][Cout]. PyTorch layouts for interop: one bank -> weight OIHW
// [Cout][Cin][k][k], bias [Cout]; several -> weight [grid rows][grid cols][Cout]
// [Cin][k][k], bias [grid rows][grid cols][Cout] (see docs/weights.md).
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deepid/core/buffer.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/kernels/banked_conv.hpp"
#include "deepid/kernels/reference.hpp"
#include "deepid/kernels/winograd_conv.hpp"
#include "deepid/layers/layer.hpp"

DEEPID_NAMESPACE_BEGIN
namespace detail {

template <class Spec, class Ctx, class T, bool Relu, kernels::conv_geometry G>
class banked_conv_layer {
 public:
  using spec = Spec;
  static constexpr kernels::conv_geometry geometry = G;
  static constexpr shape3 in_shape = Ctx::shape;
  static constexpr shape3 out_shape{G.cout, G.out_h(), G.out_w()};
  static constexpr std::size_t param_count = G.param_count();
  static constexpr std::uint64_t flops = 2 * std::uint64_t(G.multiply_adds());
  static constexpr bool aliases_input = false;
  static constexpr bool fused_relu = Relu;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};

  // 3x3 convolutions with enough channels run in float by Winograd's
  // F(2x2, 3x3) (kernels/winograd_conv.hpp), the rest by the direct kernels.
  static constexpr bool winograd = kernels::winograd_suits<T, G>;

  static std::string name() { return Spec::name() + (Relu ? " + relu" : ""); }

  // He initialisation (the layer feeds a ReLU), zero biases.
  static void init(T* params, rng& gen) {
    const double sd = std::sqrt(2.0 / double(G.patch()));
    for (std::size_t i = 0; i < G.weight_count(); ++i) params[i] = T(gen.normal() * sd);
    for (std::size_t i = G.weight_count(); i < param_count; ++i) params[i] = T(0);
  }

  void prepare(const T* params) {
    if constexpr (winograd) kernels::pack_winograd_weights(G, params, params + G.weight_count(), winograd_packed_);
    else kernels::pack_conv_weights(G, params, params + G.weight_count(), packed_);
  }

  void forward(const pass_buffers<T, 1>& b, const T*, mode) const {
    if constexpr (winograd) kernels::winograd_forward<T, G, Relu>(b.inputs[0], b.output, b.batch, winograd_packed_);
    else kernels::conv_forward<T, G, Relu>(b.inputs[0], b.output, b.batch, packed_, workspace_);
  }

  // Inference only: whether forward_pooled can stand for this layer, its
  // fused ReLU and the max_pool layer Next (pooling in the convolution's
  // registers, so the full-size output is never written). Winograd layers
  // do not: their saved multiply-adds outweigh the written output.
  template <class Next>
  static constexpr bool pools_next() {
    if constexpr (requires { Next::pool_size; Next::pool_stride; Next::pool_pad; })
      return Relu && !winograd && Next::pool_size == Next::pool_stride && Next::pool_pad == 0 &&
             kernels::can_pool_in_epilogue<T, G, Next::pool_size>;
    else
      return false;
  }
  // b.output is Next's output buffer.
  template <class Next>
  void forward_pooled(const pass_buffers<T, 1>& b) const {
    kernels::conv_forward_pooled<T, G, Relu, Next::pool_size>(b.inputs[0], b.output, b.batch, packed_, workspace_);
  }

  void forward_reference(const pass_buffers<T, 1>& b, const T* params) const {
    kernels::reference::conv_forward(G, b.inputs[0], b.output, b.batch, params, params + G.weight_count(), Relu);
  }

  void backward(const pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T* params,
                T* dparams) const {
    if constexpr (winograd)
      kernels::winograd_backward<T, G, Relu>(b.inputs[0], b.output, dout, din[0], b.batch, params, dparams,
                                             dparams + G.weight_count(), winograd_workspace_);
    else
      kernels::conv_backward<T, G, Relu>(b.inputs[0], b.output, dout, din[0], b.batch, params, dparams,
                                         dparams + G.weight_count(), workspace_);
  }

  // Parameters in PyTorch layout (see the header comment).
  struct tensor_view {
    std::string name;
    std::vector<std::size_t> shape;
  };
  static std::vector<tensor_view> parameter_tensors() {
    const std::size_t k = G.kernel;
    if (G.banks() == 1) return {{"weight", {G.cout, G.cin, k, k}}, {"bias", {G.cout}}};
    return {{"weight", {G.grid_rows, G.grid_cols, G.cout, G.cin, k, k}},
            {"bias", {G.grid_rows, G.grid_cols, G.cout}}};
  }

  // Index in the arena of element `i` of PyTorch tensor `t` (0 weight, 1 bias).
  static std::size_t arena_index(std::size_t t, std::size_t i) {
    const std::size_t k = G.kernel;
    if (t == 1) return G.weight_count() + i;  // [bank][Cout] in both layouts
    const std::size_t kx = i % k, ky = (i / k) % k, ci = (i / (k * k)) % G.cin;
    const std::size_t co = (i / (k * k * G.cin)) % G.cout, bank = i / (k * k * G.cin * G.cout);
    return bank * G.bank_weights() + ((ky * k + kx) * G.cin + ci) * G.cout + co;
  }

 private:
  kernels::packed_conv_weights<T> packed_;
  mutable kernels::conv_workspace<T> workspace_;  // scratch kept between passes (no allocations)
  kernels::winograd_weights<T> winograd_packed_;
  mutable kernels::winograd_workspace<T> winograd_workspace_;
};

// Geometry of a banked layer on input Shape, made safe to compute even when a
// check fails (so one readable error is printed, not a cascade).
template <shape3 In, std::size_t Maps, std::size_t Kernel, std::size_t Stride, std::size_t Pad>
constexpr kernels::conv_geometry base_geometry() {
  const bool fits = Kernel >= 1 && Stride >= 1 && Kernel <= In.h + 2 * Pad && Kernel <= In.w + 2 * Pad;
  return {In.c, In.h, In.w, fits ? Kernel : 1, Stride >= 1 ? Stride : 1, Pad, Maps > 0 ? Maps : 1, 1, 1};
}

}  // namespace detail
DEEPID_NAMESPACE_END
