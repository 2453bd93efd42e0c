#pragma once
// locally_shared_conv<Maps, Kernel, regions<R, C>>: the output map is split
// into an R x C grid of equal regions and each region has its own filters and
// biases (DeepID1's conv3 read as "2x2 regions": regions<2, 2>).
// regions<1, 1> is an ordinary convolution; one region per output position is
// a locally connected layer.
#include <cstddef>
#include <string>

#include "deepid/layers/detail/banked_conv_layer.hpp"
#include "deepid/layers/detail/checks.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t Rows, std::size_t Cols>
struct regions {
  static constexpr std::size_t rows = Rows, cols = Cols;
};

template <std::size_t Maps, std::size_t Kernel, class Grid = regions<2, 2>, std::size_t Stride = 1>
struct locally_shared_conv {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;

  static std::string name() {
    return "locally_shared_conv<" + std::to_string(Maps) + "," + std::to_string(Kernel) + ",regions<" +
           std::to_string(Grid::rows) + "," + std::to_string(Grid::cols) + ">>";
  }

  template <class Ctx, class T, bool Relu>
  struct binder {
    static constexpr auto base = detail::base_geometry<Ctx::shape, Maps, Kernel, Stride, 0>();
    static_assert(check::positive_maps<Maps>::ok && check::positive_stride<Stride>::ok &&
                  check::kernel_fits_input<Kernel, Ctx::shape.h, Ctx::shape.w>::ok);
    static_assert(check::region_grid_divides_output<base.out_h(), base.out_w(), Grid::rows, Grid::cols>::ok);
    static constexpr bool grid_ok = Grid::rows >= 1 && Grid::cols >= 1 && base.out_h() % Grid::rows == 0 &&
                                    base.out_w() % Grid::cols == 0;
    static constexpr kernels::conv_geometry geometry{base.cin,  base.h,      base.w,
                                                     base.kernel, base.stride, 0,
                                                     base.cout,   grid_ok ? Grid::rows : 1,
                                                     grid_ok ? Grid::cols : 1};
    using type = detail::banked_conv_layer<locally_shared_conv, Ctx, T, Relu, geometry>;
  };
};

DEEPID_NAMESPACE_END
