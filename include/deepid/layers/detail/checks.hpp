#pragma once
// Compile-time checks with readable failures. Each check is a class template
// whose name says what went wrong and whose arguments carry the numbers, so
// the compiler prints e.g.
//   In instantiation of 'struct deepid::check::region_grid_divides_output<6, 5, 2, 2>'
//   error: static assertion failed: locally_shared_conv: the output map (6x5 above) is
//          not divisible into the region grid (2x2 above)
#include <cstddef>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN
namespace check {

template <std::size_t Kernel, std::size_t Rows, std::size_t Cols>
struct kernel_fits_input {
  static_assert(Kernel >= 1 && Kernel <= Rows && Kernel <= Cols,
                "convolution: the kernel (first number) is larger than the input map (rows x cols)");
  static constexpr bool ok = Kernel >= 1 && Kernel <= Rows && Kernel <= Cols;
};

template <std::size_t OutRows, std::size_t OutCols, std::size_t GridRows, std::size_t GridCols>
struct region_grid_divides_output {
  static_assert(GridRows >= 1 && GridCols >= 1 && OutRows % GridRows == 0 && OutCols % GridCols == 0,
                "locally_shared_conv: the output map (rows x cols) is not divisible into the region grid "
                "(grid rows x grid cols)");
  static constexpr bool ok = GridRows >= 1 && GridCols >= 1 && OutRows % GridRows == 0 && OutCols % GridCols == 0;
};

// Rows and Cols include the padding on both sides.
template <std::size_t Size, std::size_t Stride, std::size_t Rows, std::size_t Cols>
struct pooling_divides_map {
  static_assert(Size >= 1 && Stride >= 1 && Size <= Rows && Size <= Cols && (Rows - Size) % Stride == 0 &&
                    (Cols - Size) % Stride == 0,
                "max_pool: the pooling window (size, stride) does not tile the input map (rows x cols) exactly; "
                "max_pool<Size, Stride, Pad, rounding::floor> drops the rows and columns left over");
  static constexpr bool ok = Size >= 1 && Stride >= 1 && Size <= Rows && Size <= Cols &&
                             (Rows - Size) % Stride == 0 && (Cols - Size) % Stride == 0;
};

// Rows and Cols include the padding on both sides.
template <std::size_t Window, std::size_t Stride, std::size_t Rows, std::size_t Cols>
struct output_map_not_empty {
  static_assert(Window <= Rows && Window <= Cols,
                "the window (first number) with this stride is larger than the padded input map (rows x cols): "
                "the output map would be empty");
  static constexpr bool ok = Window <= Rows && Window <= Cols;
};

template <std::size_t Pad, std::size_t Window>
struct padding_smaller_than_window {
  static_assert(Pad < Window,
                "padding (first number) must be smaller than the kernel or pooling window (second number): "
                "a wider border makes outputs that see only padding");
  static constexpr bool ok = Pad < Window;
};

template <std::size_t Count>
struct positive_maps {
  static_assert(Count > 0, "layer: the number of output maps or units must be positive");
  static constexpr bool ok = Count > 0;
};

template <std::size_t Stride>
struct positive_stride {
  static_assert(Stride > 0, "convolution or pooling: the stride must be positive");
  static constexpr bool ok = Stride > 0;
};

template <std::size_t Inputs>
struct multi_scale_has_inputs {
  static_assert(Inputs > 0,
                "multi_scale_fc: the DeepID layer needs at least one tag naming the layers that feed it, "
                "e.g. multi_scale_fc<160, \"pool3\", \"conv4\">");
  static constexpr bool ok = Inputs > 0;
};

template <std::size_t ExpectedC, std::size_t ExpectedH, std::size_t ExpectedW, std::size_t FoundC,
          std::size_t FoundH, std::size_t FoundW>
struct input_matches_patch {
  static_assert(ExpectedC == FoundC, "network input: the channel count differs from the patch's (net C,H,W then patch C,H,W)");
  static_assert(ExpectedH == FoundH && ExpectedW == FoundW,
                "network input: the rows x cols differ from the patch's (net C,H,W then patch C,H,W)");
  static constexpr bool ok = ExpectedC == FoundC && ExpectedH == FoundH && ExpectedW == FoundW;
};

}  // namespace check
DEEPID_NAMESPACE_END
