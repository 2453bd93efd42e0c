#pragma once
// The layer behind fully_connected and multi_scale_fc: one set of units fed
// by one or several earlier activations (y = [relu](sum_k W_k x_k + b)).
//
// Arena: weights [sum of inputs][Units], each input's rows in its NHWC order,
// then bias [Units]. PyTorch layout: weight [Units][sum of inputs] with each
// input flattened in C, H, W order (torch.flatten of NCHW), bias [Units].
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/kernels/activation.hpp"
#include "deepid/kernels/dense.hpp"
#include "deepid/kernels/reference.hpp"
#include "deepid/layers/layer.hpp"

DEEPID_NAMESPACE_BEGIN
namespace detail {

template <std::size_t N>
constexpr std::size_t total_size(const std::array<shape3, N>& shapes) {
  std::size_t total = 0;
  for (const auto& s : shapes) total += s.size();
  return total;
}


template <class Spec, class T, bool Relu, std::size_t Units, std::size_t N, std::array<std::size_t, N> Acts,
          std::array<shape3, N> Shapes>
class dense_layer_impl {
 public:
  using spec = Spec;
  static constexpr std::size_t in_total = total_size(Shapes);
  static constexpr shape3 out_shape{Units, 1, 1};
  static constexpr std::size_t param_count = in_total * Units + Units;
  static constexpr std::uint64_t flops = 2 * std::uint64_t(in_total) * Units;
  static constexpr bool aliases_input = false;
  static constexpr bool fused_relu = Relu;
  static constexpr std::size_t num_inputs = N;
  static constexpr std::array<std::size_t, N> inputs = Acts;
  static constexpr std::array<shape3, N> input_shapes = Shapes;

  static std::string name() { return Spec::name() + (Relu ? " + relu" : ""); }

  void init(T* params, rng& gen) {
    const double sd = std::sqrt(2.0 / double(in_total));
    for (std::size_t i = 0; i < in_total * Units; ++i) params[i] = T(gen.normal() * sd);
    for (std::size_t i = in_total * Units; i < param_count; ++i) params[i] = T(0);
  }
  void prepare(const T*) {}

  void forward(const pass_buffers<T, N>& b, const T* params, mode) const {
    const T* bias = params + in_total * Units;
    std::size_t row = 0;
    for (std::size_t k = 0; k < N; ++k) {
      kernels::dense_forward(Shapes[k].size(), Units, b.inputs[k], b.output, b.batch, params + row * Units,
                             k == 0 ? bias : nullptr, k > 0);
      row += Shapes[k].size();
    }
    if constexpr (Relu) kernels::relu_forward(b.output, b.output, b.batch * Units);
  }

  void forward_reference(const pass_buffers<T, N>& b, const T* params) const {
    std::vector<T> part(b.batch * Units);
    std::size_t row = 0;
    for (std::size_t s = 0; s < b.batch * Units; ++s) b.output[s] = params[in_total * Units + s % Units];
    for (std::size_t k = 0; k < N; ++k) {
      kernels::reference::dense_forward(Shapes[k].size(), Units, b.inputs[k], part.data(), b.batch,
                                        params + row * Units, static_cast<const T*>(nullptr), false);
      for (std::size_t i = 0; i < part.size(); ++i) b.output[i] += part[i];
      row += Shapes[k].size();
    }
    if constexpr (Relu)
      for (std::size_t i = 0; i < b.batch * Units; ++i) b.output[i] = b.output[i] > T(0) ? b.output[i] : T(0);
  }

  void backward(const pass_buffers<T, N>& b, const T* dout, const std::array<T*, N>& din, const T* params,
                T* dparams) const {
    std::vector<T> masked;
    const T* dz = dout;
    if constexpr (Relu) {
      masked.assign(b.batch * Units, T(0));
      kernels::relu_backward(b.output, dout, masked.data(), masked.size());
      dz = masked.data();
    }
    std::size_t row = 0;
    for (std::size_t k = 0; k < N; ++k) {
      kernels::dense_backward(Shapes[k].size(), Units, b.inputs[k], dz, din[k], b.batch, params + row * Units,
                              dparams + row * Units, k == 0 ? dparams + in_total * Units : nullptr);
      row += Shapes[k].size();
    }
  }

  struct tensor_view {
    std::string name;
    std::vector<std::size_t> shape;
  };
  static std::vector<tensor_view> parameter_tensors() { return {{"weight", {Units, in_total}}, {"bias", {Units}}}; }

  static std::size_t arena_index(std::size_t t, std::size_t i) {
    if (t == 1) return in_total * Units + i;
    const std::size_t o = i / in_total;
    std::size_t j = i % in_total, row = 0;
    for (std::size_t k = 0; k < N; ++k) {
      const shape3 s = Shapes[k];
      if (j < s.size()) {
        const std::size_t c = j / (s.h * s.w), y = (j / s.w) % s.h, x = j % s.w;
        return (row + (y * s.w + x) * s.c + c) * Units + o;
      }
      j -= s.size();
      row += s.size();
    }
    return 0;
  }
};

}  // namespace detail
DEEPID_NAMESPACE_END
