#pragma once
// locally_connected<Maps, Kernel>: "totally unshared" convolution, every
// output position has its own filters and biases (DeepID1's conv4).
#include <cstddef>
#include <string>

#include "deepid/layers/detail/banked_conv_layer.hpp"
#include "deepid/layers/detail/checks.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t Maps, std::size_t Kernel, std::size_t Stride = 1>
struct locally_connected {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;

  static std::string name() {
    return "locally_connected<" + std::to_string(Maps) + "," + std::to_string(Kernel) + ">";
  }

  template <class Ctx, class T, bool Relu>
  struct binder {
    static constexpr auto base = detail::base_geometry<Ctx::shape, Maps, Kernel, Stride, 0>();
    static_assert(check::positive_maps<Maps>::ok && check::positive_stride<Stride>::ok &&
                  check::kernel_fits_input<Kernel, Ctx::shape.h, Ctx::shape.w>::ok);
    static constexpr kernels::conv_geometry geometry{base.cin,    base.h,      base.w,       base.kernel, base.stride,
                                                     0,           base.cout,   base.out_h(), base.out_w()};
    using type = detail::banked_conv_layer<locally_connected, Ctx, T, Relu, geometry>;
  };
};

DEEPID_NAMESPACE_END
