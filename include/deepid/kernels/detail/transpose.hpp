#pragma once
// Transposed copies for the kernels' packing steps, in 16 x 16 blocks so that
// both sides stay in L1 (a plain pair of loops writes to as many cache lines
// as the destination has rows, for every source row).
#include <algorithm>
#include <cstddef>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels::detail {

// dst[k * dst_stride + c] = src[c * src_stride + k] for k < kn, c < cn.
template <class T>
void transpose_into(const T* src, std::size_t src_stride, std::size_t kn, std::size_t cn, T* dst,
                    std::size_t dst_stride) {
  constexpr std::size_t b = 16;
  for (std::size_t c0 = 0; c0 < cn; c0 += b)
    for (std::size_t k0 = 0; k0 < kn; k0 += b) {
      const std::size_t c1 = std::min(cn, c0 + b), k1 = std::min(kn, k0 + b);
      if (c1 - c0 == b && k1 - k0 == b) {
        // Fixed trip counts: the compiler unrolls and vectorises the block.
        for (std::size_t c = 0; c < b; ++c)
          for (std::size_t k = 0; k < b; ++k) dst[(k0 + k) * dst_stride + c0 + c] = src[(c0 + c) * src_stride + k0 + k];
      } else {
        for (std::size_t c = c0; c < c1; ++c)
          for (std::size_t k = k0; k < k1; ++k) dst[k * dst_stride + c] = src[c * src_stride + k];
      }
    }
}

}  // namespace kernels::detail
DEEPID_NAMESPACE_END
