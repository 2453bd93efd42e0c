#pragma once
// Max pooling over NHWC maps, vectorised across channels (contiguous in NHWC).
#include <algorithm>
#include <cstddef>

#include "deepid/core/config.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride>
void max_pool_forward(const T* in, T* out, std::size_t n) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t ho = (H - Size) / Stride + 1, wo = (W - Size) / Stride + 1;
  constexpr std::size_t vec_end = C / vec::size * vec::size;
  parallel_for(n * ho, [&](std::size_t item) {
    const std::size_t s = item / ho, y = item % ho;
    for (std::size_t x = 0; x < wo; ++x) {
      const T* base = in + ((s * H + y * Stride) * W + x * Stride) * C;
      T* o = out + ((s * ho + y) * wo + x) * C;
      for (std::size_t c = 0; c < vec_end; c += vec::size) {
        vec best = vec::load_unaligned(base + c);
        for (std::size_t dy = 0; dy < Size; ++dy)
          for (std::size_t dx = 0; dx < Size; ++dx)
            best = xsimd::max(best, vec::load_unaligned(base + (dy * W + dx) * C + c));
        best.store_unaligned(o + c);
      }
      for (std::size_t c = vec_end; c < C; ++c) {
        T best = base[c];
        for (std::size_t dy = 0; dy < Size; ++dy)
          for (std::size_t dx = 0; dx < Size; ++dx) best = std::max(best, base[(dy * W + dx) * C + c]);
        o[c] = best;
      }
    }
  });
}

// Routes each output gradient to the first maximum of its window (adds to din).
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride>
void max_pool_backward(const T* in, const T* dout, T* din, std::size_t n) {
  constexpr std::size_t ho = (H - Size) / Stride + 1, wo = (W - Size) / Stride + 1;
  // Overlapping windows (stride < size) would let two rows write one input
  // row, so parallelise over samples then.
  constexpr bool by_row = Stride >= Size;
  parallel_for(by_row ? n * ho : n, [&](std::size_t item) {
    const std::size_t s = by_row ? item / ho : item;
    const std::size_t y0 = by_row ? item % ho : 0, y1 = by_row ? y0 + 1 : ho;
    for (std::size_t y = y0; y < y1; ++y)
      for (std::size_t x = 0; x < wo; ++x) {
        const std::size_t base = ((s * H + y * Stride) * W + x * Stride) * C;
        const T* g = dout + ((s * ho + y) * wo + x) * C;
        for (std::size_t c = 0; c < C; ++c) {
          std::size_t arg = base + c;
          T best = in[arg];
          for (std::size_t dy = 0; dy < Size; ++dy)
            for (std::size_t dx = 0; dx < Size; ++dx) {
              const std::size_t i = base + (dy * W + dx) * C + c;
              if (in[i] > best) best = in[i], arg = i;
            }
          din[arg] += g[c];
        }
      }
  });
}

}  // namespace kernels
DEEPID_NAMESPACE_END
