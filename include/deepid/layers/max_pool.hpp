#pragma once
// max_pool<Size, Stride>: maximum over Size x Size windows, Stride apart
// (DeepID: 2x2, non-overlapping). The window must tile the map exactly.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/kernels/pool.hpp"
#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN

namespace detail {

template <class Spec, class Ctx, class T, std::size_t Size, std::size_t Stride>
struct max_pool_layer : parameterless<T> {
  static constexpr shape3 in_shape = Ctx::shape;
  static constexpr shape3 out_shape{in_shape.c, (in_shape.h - Size) / Stride + 1, (in_shape.w - Size) / Stride + 1};
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static constexpr std::size_t pool_size = Size, pool_stride = Stride;  // for conv + pool fusion
  static std::string name() { return Spec::name(); }

  void forward(const pass_buffers<T, 1>& b, const T*, mode) const {
    kernels::max_pool_forward<T, in_shape.c, in_shape.h, in_shape.w, Size, Stride>(b.inputs[0], b.output, b.batch);
  }
  void backward(const pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T*, T*) const {
    if (din[0])
      kernels::max_pool_backward<T, in_shape.c, in_shape.h, in_shape.w, Size, Stride>(b.inputs[0], dout, din[0],
                                                                                     b.batch);
  }
};

}  // namespace detail

template <std::size_t Size, std::size_t Stride = Size>
struct max_pool {
  using deepid_layer_spec = void;
  static std::string name() {
    return "max_pool<" + std::to_string(Size) + (Stride != Size ? "," + std::to_string(Stride) : "") + ">";
  }
  template <class Ctx, class T, bool>
  struct binder {
    static_assert(check::pooling_divides_map<Size, Stride, Ctx::shape.h, Ctx::shape.w>::ok);
    static constexpr bool ok = check::pooling_divides_map<Size, Stride, Ctx::shape.h, Ctx::shape.w>::ok;
    using type = detail::max_pool_layer<max_pool, Ctx, T, ok ? Size : 1, ok ? Stride : 1>;
  };
};

DEEPID_NAMESPACE_END
