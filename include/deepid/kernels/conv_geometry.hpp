#pragma once
// Geometry of a banked convolution: an ordinary convolution (one bank), a
// locally shared one (a grid of regions, a bank each) or a locally connected
// one (a bank per output position). Layout is NHWC per sample; a bank's
// weights are [K][Cout] with K ordered (ky, kx, ci), its bias [Cout].
#include <cstddef>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

struct conv_geometry {
  std::size_t cin = 0, h = 0, w = 0;  // input map
  std::size_t kernel = 1, stride = 1, pad = 0;
  std::size_t cout = 0;
  std::size_t grid_rows = 1, grid_cols = 1;  // region grid over the output map

  constexpr std::size_t padded_h() const { return h + 2 * pad; }
  constexpr std::size_t padded_w() const { return w + 2 * pad; }
  constexpr std::size_t out_h() const { return (padded_h() - kernel) / stride + 1; }
  constexpr std::size_t out_w() const { return (padded_w() - kernel) / stride + 1; }
  constexpr std::size_t banks() const { return grid_rows * grid_cols; }
  constexpr std::size_t region_h() const { return out_h() / grid_rows; }
  constexpr std::size_t region_w() const { return out_w() / grid_cols; }
  constexpr std::size_t region_positions() const { return region_h() * region_w(); }
  constexpr std::size_t patch() const { return kernel * kernel * cin; }  // K
  constexpr std::size_t in_size() const { return cin * h * w; }
  constexpr std::size_t padded_in_size() const { return cin * padded_h() * padded_w(); }
  constexpr std::size_t out_size() const { return cout * out_h() * out_w(); }
  constexpr std::size_t bank_weights() const { return patch() * cout; }
  constexpr std::size_t weight_count() const { return banks() * bank_weights(); }
  constexpr std::size_t param_count() const { return weight_count() + banks() * cout; }
  constexpr std::size_t multiply_adds() const { return out_size() * patch(); }

  // Output position p (0 <= p < region_positions) of region `bank`.
  constexpr std::size_t out_row(std::size_t bank, std::size_t p) const {
    return (bank / grid_cols) * region_h() + p / region_w();
  }
  constexpr std::size_t out_col(std::size_t bank, std::size_t p) const {
    return (bank % grid_cols) * region_w() + p % region_w();
  }
  constexpr bool operator==(const conv_geometry&) const = default;
};

}  // namespace kernels
DEEPID_NAMESPACE_END
