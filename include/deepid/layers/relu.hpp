#pragma once
// relu: max(0, x). After a convolution or fully connected layer the stack
// fuses it into that layer's output pass (the layer is then an alias).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/kernels/activation.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN

namespace detail {

template <class Ctx, class T>
struct relu_layer : parameterless<T> {
  static constexpr shape3 in_shape = Ctx::shape, out_shape = Ctx::shape;
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static std::string name() { return "relu"; }

  void forward(const pass_buffers<T, 1>& b, const T*, mode) const {
    const std::size_t per = out_shape.size();
    kernels::parallel_for(b.batch, [&](std::size_t s) {
      kernels::relu_forward(b.inputs[0] + s * per, b.output + s * per, per);
    });
  }
  void backward(const pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T*, T*) const {
    if (din[0]) kernels::relu_backward(b.output, dout, din[0], b.batch * out_shape.size());
  }
};

// A relu whose work the previous layer did: output is the input buffer.
template <class Ctx, class T>
struct fused_relu_layer : parameterless<T> {
  static constexpr shape3 in_shape = Ctx::shape, out_shape = Ctx::shape;
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = true;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static std::string name() { return "relu (fused)"; }
  void forward(const pass_buffers<T, 1>&, const T*, mode) const {}
  void backward(const pass_buffers<T, 1>&, const T*, const std::array<T*, 1>&, const T*, T*) const {}
};

}  // namespace detail

struct relu {
  using deepid_layer_spec = void;
  static constexpr bool is_relu = true;
  static std::string name() { return "relu"; }
  template <class Ctx, class T, bool>
  struct binder {
    using type = detail::relu_layer<Ctx, T>;
  };
};

DEEPID_NAMESPACE_END
