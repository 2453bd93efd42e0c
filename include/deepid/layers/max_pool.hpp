#pragma once
// max_pool<Size, Stride, Pad, Rounding>: maximum over Size x Size windows,
// Stride apart, over the map with Pad rows and columns of -infinity around
// it (DeepID: 2x2, non-overlapping; Inception's pool branch: 3x3, stride 1,
// pad 1). By default the windows must tile the padded map exactly, so a
// misfit is a compile error; rounding::floor drops the rows and columns left
// over (DeepID3 on 55x47: 55x47 -> 27x23 -> 13x11 -> 6x5 -> 3x2).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/kernels/pool.hpp"
#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN

enum class rounding { exact, floor };

namespace detail {

template <class Spec, class Ctx, class T, std::size_t Size, std::size_t Stride, std::size_t Pad>
struct max_pool_layer : parameterless<T> {
  static constexpr shape3 in_shape = Ctx::shape;
  static constexpr shape3 out_shape{in_shape.c, kernels::pooled_extent<in_shape.h, Size, Stride, Pad>,
                                    kernels::pooled_extent<in_shape.w, Size, Stride, Pad>};
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  // For conv + pool fusion, which handles unpadded windows that tile exactly.
  static constexpr std::size_t pool_size = Size, pool_stride = Stride, pool_pad = Pad;
  static constexpr bool pool_tiles = (in_shape.h + 2 * Pad - Size) % Stride == 0 &&
                                     (in_shape.w + 2 * Pad - Size) % Stride == 0;
  static std::string name() { return Spec::name(); }

  void forward(const pass_buffers<T, 1>& b, const T*, mode) const {
    kernels::max_pool_forward<T, in_shape.c, in_shape.h, in_shape.w, Size, Stride, Pad>(b.inputs[0], b.output,
                                                                                       b.batch);
  }
  void backward(const pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T*, T*) const {
    if (din[0])
      kernels::max_pool_backward<T, in_shape.c, in_shape.h, in_shape.w, Size, Stride, Pad>(b.inputs[0], dout,
                                                                                          din[0], b.batch);
  }
};

}  // namespace detail

template <std::size_t Size, std::size_t Stride = Size, std::size_t Pad = 0, rounding Rounding = rounding::exact>
struct max_pool {
  using deepid_layer_spec = void;
  static std::string name() {
    std::string text = "max_pool<" + std::to_string(Size);
    if (Stride != Size || Pad != 0 || Rounding != rounding::exact) text += "," + std::to_string(Stride);
    if (Pad != 0 || Rounding != rounding::exact) text += "," + std::to_string(Pad);
    if (Rounding == rounding::floor) text += ",floor";
    return text + ">";
  }
  template <class Ctx, class T, bool>
  struct binder {
    static constexpr std::size_t rows = Ctx::shape.h + 2 * Pad, cols = Ctx::shape.w + 2 * Pad;
    static_assert(check::positive_stride<Stride>::ok && check::padding_smaller_than_window<Pad, Size>::ok);
    static_assert(check::output_map_not_empty<Size, Stride, rows, cols>::ok);
    static constexpr bool fits = Size >= 1 && Stride >= 1 && Pad < Size && Size <= rows && Size <= cols;
    static constexpr bool ok = [] {
      if constexpr (Rounding == rounding::exact && fits)
        return check::pooling_divides_map<Size, Stride, rows, cols>::ok;
      else
        return fits;
    }();
    using type = detail::max_pool_layer<max_pool, Ctx, T, ok ? Size : 1, ok ? Stride : 1, ok ? Pad : 0>;
  };
};

DEEPID_NAMESPACE_END
