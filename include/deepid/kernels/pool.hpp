#pragma once
// Max pooling over NHWC maps, vectorised across channels (contiguous in NHWC).
// Windows that hang over the border (padding) take the maximum of the pixels
// they cover, as if the border were -infinity. The output has
// floor((H + 2 Pad - Size) / Stride) + 1 rows; rows left over are not read.
#include <algorithm>
#include <cstddef>
#include <utility>

#include "deepid/core/config.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/simd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <std::size_t Extent, std::size_t Size, std::size_t Stride, std::size_t Pad>
inline constexpr std::size_t pooled_extent = (Extent + 2 * Pad - Size) / Stride + 1;

namespace detail {

// The rows (or columns) [first, last) of the input that window `i` covers.
template <std::size_t Size, std::size_t Stride, std::size_t Pad>
constexpr std::pair<std::size_t, std::size_t> window_span(std::size_t extent, std::size_t i) {
  const std::size_t start = i * Stride;  // in padded coordinates
  const std::size_t first = start > Pad ? start - Pad : 0;
  const std::size_t last = std::min(extent, start + Size - Pad);
  return {first, last};
}

// Most kernels below take the map's height H at run time: the code reads
// only the channels, the width and the window at compile time, so maps of
// the same width and channels share it whatever their height (the nets of
// 55x47 and 47x47 patches do). Not inlined, so that each is compiled once.
constexpr std::size_t pooled_rows(std::size_t h, std::size_t size, std::size_t stride, std::size_t pad) {
  return (h + 2 * pad - size) / stride + 1;
}

template <class T, std::size_t C, std::size_t W, std::size_t Size, std::size_t Stride, std::size_t Pad>
[[gnu::noinline]] void max_pool_forward_padded(std::size_t H, const T* in, T* out, std::size_t n) {
  using vec = xsimd::batch<T>;
  const std::size_t ho = pooled_rows(H, Size, Stride, Pad);
  constexpr std::size_t wo = pooled_extent<W, Size, Stride, Pad>;
  constexpr std::size_t vec_end = C / vec::size * vec::size;
  parallel_for(n * ho, [&](std::size_t item) {
    const std::size_t s = item / ho, y = item % ho;
    const auto [r0, r1] = window_span<Size, Stride, Pad>(H, y);
    for (std::size_t x = 0; x < wo; ++x) {
      const auto [c0, c1] = window_span<Size, Stride, Pad>(W, x);
      const T* first = in + ((s * H + r0) * W + c0) * C;
      T* o = out + ((s * ho + y) * wo + x) * C;
      for (std::size_t c = 0; c < vec_end; c += vec::size) {
        vec best = vec::load_unaligned(first + c);
        for (std::size_t r = r0; r < r1; ++r)
          for (std::size_t q = c0; q < c1; ++q)
            best = xsimd::max(best, vec::load_unaligned(in + ((s * H + r) * W + q) * C + c));
        best.store_unaligned(o + c);
      }
      for (std::size_t c = vec_end; c < C; ++c) {
        T best = first[c];
        for (std::size_t r = r0; r < r1; ++r)
          for (std::size_t q = c0; q < c1; ++q) best = std::max(best, in[((s * H + r) * W + q) * C + c]);
        o[c] = best;
      }
    }
  });
}

// Windows overlap (padding comes with stride < size in practice): by sample,
// windows in order, channels in vectors. Each window's gradient goes to its
// first maximum in row-major order (the scalar reference's rule), so every
// input receives its additions in the same order as the reference.
template <class T, std::size_t C, std::size_t W, std::size_t Size, std::size_t Stride, std::size_t Pad>
[[gnu::noinline]] void max_pool_backward_padded(std::size_t H, const T* in, const T* dout, T* din, std::size_t n) {
  using vec = xsimd::batch<T>;
  const std::size_t ho = pooled_rows(H, Size, Stride, Pad);
  constexpr std::size_t wo = pooled_extent<W, Size, Stride, Pad>;
  constexpr std::size_t width = simd_width<T>, vectors = (C + width - 1) / width;
  parallel_for(n, [&](std::size_t s) {
    for (std::size_t y = 0; y < ho; ++y) {
      const auto [r0, r1] = window_span<Size, Stride, Pad>(H, y);
      for (std::size_t x = 0; x < wo; ++x) {
        const auto [c0, c1] = window_span<Size, Stride, Pad>(W, x);
        const std::size_t first = ((s * H + r0) * W + c0) * C;
        const T* g = dout + ((s * ho + y) * wo + x) * C;
        unroll<vectors>([&](auto v) {
          constexpr std::size_t c = v * width, count = C - c < width ? C - c : width;
          vec top = load_first<count>(in + first + c);
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t q = c0; q < c1; ++q)
              top = xsimd::max(top, load_first<count>(in + ((s * H + r) * W + q) * C + c));
          const vec grad = load_first<count>(g + c);
          auto free = vec(T(0)) == vec(T(0));  // lanes whose gradient is not yet routed
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t q = c0; q < c1; ++q) {
              const std::size_t i = ((s * H + r) * W + q) * C + c;
              const auto pick = (load_first<count>(in + i) == top) && free;
              free = free && !pick;
              store_first<count>(load_first<count>(din + i) + xsimd::select(pick, grad, vec(T(0))), din + i);
            }
        });
      }
    }
  });
}

// Without padding the forward pass keeps H at compile time: a row of it is
// only a few loads per output, and dividing by a run-time row count to find
// each item's sample made it 20% slower (DeepID1's pool1 to pool3, one
// thread).
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride>
void max_pool_forward_rows(const T* in, T* out, std::size_t n) {
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

// One window's channels [C0, C0 + Count): the gradient goes to the first
// maximum (the scalar reference's rule), vectorised with masks.
// RowStep / ColStep: distance between window rows / columns (NHWC: W*C, C).
template <class T, std::size_t Count, std::size_t Size, std::size_t RowStep, std::size_t ColStep>
[[gnu::always_inline]] inline void pool_window_backward(const T* in, const T* g, T* din) {
  using vec = xsimd::batch<T>;
  vec x[Size * Size];
  unroll<Size * Size>([&](auto i) { x[i] = load_first<Count>(in + (i / Size) * RowStep + (i % Size) * ColStep); });
  vec top = x[0];
  unroll<Size * Size>([&](auto i) {
    if constexpr (i > 0) top = xsimd::max(top, x[i]);
  });
  const vec grad = load_first<Count>(g);
  auto free = vec(T(0)) == vec(T(0));  // lanes whose gradient is not yet routed
  unroll<Size * Size>([&](auto i) {
    const auto pick = (x[i] == top) && free;
    free = free && !pick;
    T* d = din + (i / Size) * RowStep + (i % Size) * ColStep;
    store_first<Count>(load_first<Count>(d) + xsimd::select(pick, grad, vec(T(0))), d);
  });
}

template <class T, std::size_t C, std::size_t W, std::size_t Size, std::size_t Stride>
[[gnu::noinline]] void max_pool_backward_rows(std::size_t H, const T* in, const T* dout, T* din, std::size_t n) {
  const std::size_t ho = pooled_rows(H, Size, Stride, 0);
  constexpr std::size_t wo = (W - Size) / Stride + 1;
  if constexpr (Stride >= Size) {
    // Windows do not overlap: rows in parallel, channels in vectors.
    constexpr std::size_t width = simd_width<T>, vectors = (C + width - 1) / width;
    parallel_for(n * ho, [&](std::size_t item) {
      const std::size_t s = item / ho, y = item % ho;
      for (std::size_t x = 0; x < wo; ++x) {
        const std::size_t base = ((s * H + y * Stride) * W + x * Stride) * C;
        const T* g = dout + ((s * ho + y) * wo + x) * C;
        detail::unroll<vectors>([&](auto v) {
          constexpr std::size_t c = v * width, count = C - c < width ? C - c : width;
          pool_window_backward<T, count, Size, W * C, C>(in + base + c, g + c, din + base + c);
        });
      }
    });
  } else {
    // Overlapping windows would let two rows write one input row: by sample.
    parallel_for(n, [&](std::size_t s) {
      for (std::size_t y = 0; y < ho; ++y)
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
}

}  // namespace detail

// out = Size x Size max pooling with stride Stride (and padding Pad) of n
// samples of C x H x W maps, NHWC.
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride,
          std::size_t Pad = 0>
void max_pool_forward(const T* in, T* out, std::size_t n) {
  if constexpr (Pad > 0) detail::max_pool_forward_padded<T, C, W, Size, Stride, Pad>(H, in, out, n);
  else detail::max_pool_forward_rows<T, C, H, W, Size, Stride>(in, out, n);
}

// Routes each output gradient to the first maximum of its window (adds to din).
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride,
          std::size_t Pad = 0>
void max_pool_backward(const T* in, const T* dout, T* din, std::size_t n) {
  if constexpr (Pad > 0) detail::max_pool_backward_padded<T, C, W, Size, Stride, Pad>(H, in, dout, din, n);
  else detail::max_pool_backward_rows<T, C, W, Size, Stride>(H, in, dout, din, n);
}

}  // namespace kernels
DEEPID_NAMESPACE_END
