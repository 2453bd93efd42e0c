#pragma once
// locally_connected<Maps, Kernel, Stride, Pad>: "totally unshared"
// convolution, every output position has its own filters and biases
// (DeepID1's conv4; DeepID3's top two layers, padded to keep the map size).
#include <cstddef>
#include <string>

#include "deepid/layers/detail/banked_conv_layer.hpp"
#include "deepid/layers/detail/checks.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t Maps, std::size_t Kernel, std::size_t Stride = 1, std::size_t Pad = 0>
struct locally_connected {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;

  static std::string name() {
    return "locally_connected<" + std::to_string(Maps) + "," + std::to_string(Kernel) +
           (Stride != 1 || Pad != 0 ? "," + std::to_string(Stride) + "," + std::to_string(Pad) : "") + ">";
  }

  template <class Ctx, class T, bool Relu>
  struct binder {
    static constexpr auto base = detail::base_geometry<Ctx::shape, Maps, Kernel, Stride, Pad>();
    static_assert(check::positive_maps<Maps>::ok && check::positive_stride<Stride>::ok &&
                  check::padding_smaller_than_window<Pad, Kernel>::ok &&
                  check::kernel_fits_input<Kernel, Ctx::shape.h + 2 * Pad, Ctx::shape.w + 2 * Pad>::ok);
    static constexpr kernels::conv_geometry geometry{base.cin,    base.h,      base.w,       base.kernel, base.stride,
                                                     base.pad,    base.cout,   base.out_h(), base.out_w()};
    using type = detail::banked_conv_layer<locally_connected, Ctx, T, Relu, geometry>;
  };
};

DEEPID_NAMESPACE_END
