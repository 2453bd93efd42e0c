#pragma once
// conv<Maps, Kernel, Stride, Pad>: ordinary convolution, Maps output maps of
// Kernel x Kernel filters over all input channels, one bias per map.
#include <cstddef>
#include <string>

#include "deepid/layers/detail/banked_conv_layer.hpp"
#include "deepid/layers/detail/checks.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t Maps, std::size_t Kernel, std::size_t Stride = 1, std::size_t Pad = 0>
struct conv {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;

  static std::string name() {
    return "conv<" + std::to_string(Maps) + "," + std::to_string(Kernel) +
           (Stride != 1 || Pad != 0 ? "," + std::to_string(Stride) + "," + std::to_string(Pad) : "") + ">";
  }

  template <class Ctx, class T, bool Relu>
  struct binder {
    static_assert(check::positive_maps<Maps>::ok && check::positive_stride<Stride>::ok &&
                  check::padding_smaller_than_window<Pad, Kernel>::ok &&
                  check::kernel_fits_input<Kernel, Ctx::shape.h + 2 * Pad, Ctx::shape.w + 2 * Pad>::ok);
    using type = detail::banked_conv_layer<conv, Ctx, T, Relu,
                                           detail::base_geometry<Ctx::shape, Maps, Kernel, Stride, Pad>()>;
  };
};

DEEPID_NAMESPACE_END
