#pragma once
// Fully connected kernels: one register-tiled, cache-blocked xsimd GEMM on
// row-major data, used for all three passes:
//  - forward    out[n x O] (+)= in[n x I] * W[I x O]
//  - d(weights) dW[I x O]  += in^T * dz
//  - d(input)   din[n x I] += dz * W^T
// Operands are read through strided views, so the transposes are never made
// whole: a block of the transposed operand is packed into a panel when a
// tile needs it.
//
// deepid's own rather than Eigen's because Eigen picks its K blocking from
// the thread count (kc is capped at 320 when it runs threaded), so its sums,
// and hence every feature, changed with the thread count. Here every output
// value is one FMA chain over k = 0 .. K-1 in order: blocking over K stores
// and reloads the partial sum, which changes nothing, so the results are the
// same for any blocking and any thread count.
#include <algorithm>
#include <cstddef>

#include "deepid/core/buffer.hpp"
#include "deepid/core/config.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/detail/transpose.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/simd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

namespace detail {

// Register tile: rows x vectors of columns, so that the accumulators, one
// row of B's vectors and a broadcast fill the registers (AVX2: 12 + 3 + 1).
inline constexpr std::size_t gemm_rows = simd_registers == 32 ? 6 : 4;
inline constexpr std::size_t gemm_vectors = simd_registers == 32 ? 4 : 3;
// K block: a packed panel of kc x (up to gemm_panel_bytes) stays in L2 while
// every row tile of a work item streams it.
inline constexpr std::size_t gemm_kc = 256;
inline constexpr std::size_t gemm_panel_bytes = 256 * 1024;
// A read transposed is copied whole, once, up to this many elements (16 MB
// in float). Beyond it (in^T of DeepID2+'s FC-1: 73K x 128) the outputs are
// few columns wide, one span per row group, so packing copies each element
// once anyway.
inline constexpr std::size_t gemm_transposed_a_limit = std::size_t(1) << 22;
// Rows per work item when A has to be packed (it is read transposed).
inline constexpr std::size_t gemm_packed_rows = 32 * gemm_rows;

// Element (i, j) of a matrix at data[i * row + j * col].
template <class T>
struct matrix_view {
  const T* data;
  std::size_t row, col;
  const T& operator()(std::size_t i, std::size_t j) const { return data[i * row + j * col]; }
};

// Calls f.template operator()<V>() with V = v, for 1 <= v <= Max.
template <std::size_t Max, class F>
[[gnu::always_inline]] inline void dispatch_vectors(std::size_t v, F&& f) {
  unroll<Max>([&](auto i) {
    if (v == i + 1) f.template operator()<i + 1>();
  });
}

// out rows [0, P) x vectors [0, V) (+)= a * b over k in [0, K); `a` has row
// stride a_row (k contiguous), `b` row stride b_row, `out` row stride
// out_row. Initial value: out (accumulate), else bias, else 0.
template <class T, std::size_t P, std::size_t V>
inline void gemm_tile(std::size_t K, const T* a, std::size_t a_row, const T* b, std::size_t b_row, T* out,
                      std::size_t out_row, const T* bias, bool accumulate) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  vec acc[P][V];
  unroll<P>([&](auto q) {
    unroll<V>([&](auto v) {
      acc[q][v] = accumulate ? vec::load_unaligned(out + q * out_row + v * width)
                             : (bias ? vec::load_unaligned(bias + v * width) : vec(T(0)));
    });
  });
  for (std::size_t k = 0; k < K; ++k) {
    vec bv[V];
    unroll<V>([&](auto v) { bv[v] = in_register(vec::load_unaligned(b + k * b_row + v * width)); });
    unroll<P>([&](auto q) {
      const vec av(a[q * a_row + k]);
      unroll<V>([&](auto v) { acc[q][v] = xsimd::fma(av, bv[v], acc[q][v]); });
    });
  }
  unroll<P>([&](auto q) {
    unroll<V>([&](auto v) { acc[q][v].store_unaligned(out + q * out_row + v * width); });
  });
}

// Per-thread scratch memory, kept between calls; `slot` keeps two panels of
// one thread apart.
template <class T, int Slot>
T* scratch(std::size_t count) {
  thread_local buffer<T> memory;
  if (memory.size() < count) memory.resize(count);
  return memory.data();
}

// out[rows x cols] (+)= A[rows x K] * B[K x cols] over the columns that fill
// whole vectors; `bias` (may be null) initialises out when not accumulating.
template <class T>
void gemm(std::size_t rows, std::size_t cols, std::size_t K, matrix_view<T> A, matrix_view<T> B, T* out,
          std::size_t out_row, const T* bias, bool accumulate) {
  constexpr std::size_t width = simd_width<T>, P = gemm_rows, V = gemm_vectors, block_cols = V * width;
  const std::size_t vectors = cols / width;
  if (vectors == 0 || rows == 0) return;
  if (K == 0) {
    if (!accumulate)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < vectors * width; ++c) out[r * out_row + c] = bias ? bias[c] : T(0);
    return;
  }
  const std::size_t col_blocks = (vectors + V - 1) / V;
  const std::size_t kc = std::min(K, gemm_kc);
  if (A.row == 1 && A.col != 1 && rows * K <= gemm_transposed_a_limit) {
    // A read transposed (in^T of d(weights)) is made contiguous once here,
    // instead of being packed again for every column span of a row group
    // (a 10,000-way classifier's d(weights) spent a fifth of its time so).
    T* a = scratch<T, 2>(rows * K);
    constexpr std::size_t block = 64;
    parallel_for((rows + block - 1) / block, [&](std::size_t item) {
      const std::size_t r0 = item * block, r1 = std::min(rows, r0 + block);
      transpose_into(A.data + r0, A.col, r1 - r0, K, a + r0 * K, K);
    });
    A = {a, K, 1};
  }
  // A is packed when it is read transposed (k not contiguous); B whenever
  // several row tiles read it or it is read transposed.
  const bool pack_a = A.col != 1;
  const std::size_t threads = std::size_t(num_threads());
  std::size_t group = pack_a ? std::min(rows, gemm_packed_rows) : rows;
  std::size_t row_groups = (rows + group - 1) / group;
  // Column blocks per item: as many as the panel budget allows while there
  // are at least two items per thread.
  const std::size_t max_blocks = std::max<std::size_t>(1, gemm_panel_bytes / (kc * block_cols * sizeof(T)));
  std::size_t span = max_blocks;
  while (span > 1 && row_groups * ((col_blocks + span - 1) / span) < 2 * threads) span /= 2;
  std::size_t spans = (col_blocks + span - 1) / span;
  if (row_groups * spans < 2 * threads && !pack_a && rows >= 8 * P) {
    group = std::max<std::size_t>(4 * P, (rows / (2 * threads) + P - 1) / P * P);
    row_groups = (rows + group - 1) / group;
  }

  parallel_for(row_groups * spans, [&](std::size_t item) {
    const std::size_t r0 = (item / spans) * group, r1 = std::min(rows, r0 + group);
    const std::size_t cb0 = (item % spans) * span, cb1 = std::min(col_blocks, cb0 + span);
    const bool b_packed = B.col != 1 || r1 - r0 >= 2 * P;
    T* b_panel = b_packed ? scratch<T, 0>(kc * (cb1 - cb0) * block_cols) : nullptr;
    T* a_panel = pack_a ? scratch<T, 1>(group * kc) : nullptr;
    for (std::size_t k0 = 0; k0 < K; k0 += kc) {
      const std::size_t kn = std::min(kc, K - k0);
      const bool first = k0 == 0;
      if (pack_a)
        for (std::size_t k = 0; k < kn; ++k)
          for (std::size_t r = r0; r < r1; ++r) a_panel[(r - r0) * kn + k] = A(r, k0 + k);
      // Panel of column block cb: kn rows of its (up to V) vectors.
      const auto vectors_of = [&](std::size_t cb) { return std::min(V, vectors - cb * V); };
      if (b_packed)
        for (std::size_t cb = cb0; cb < cb1; ++cb) {
          const std::size_t c0 = cb * block_cols, cw = vectors_of(cb) * width;
          T* panel = b_panel + (cb - cb0) * kc * block_cols;
          if (B.col == 1)
            for (std::size_t k = 0; k < kn; ++k) std::copy_n(&B(k0 + k, c0), cw, panel + k * cw);
          else
            transpose_into(&B(k0, c0), B.col, kn, cw, panel, cw);
        }
      for (std::size_t r = r0; r < r1;) {
        const bool full = r + P <= r1;
        const T* a = pack_a ? a_panel + (r - r0) * kn : &A(r, k0);
        const std::size_t a_row = pack_a ? kn : A.row;
        for (std::size_t cb = cb0; cb < cb1; ++cb) {
          const std::size_t c0 = cb * block_cols, v = vectors_of(cb);
          const T* b = b_packed ? b_panel + (cb - cb0) * kc * block_cols : &B(k0, c0);
          const std::size_t b_row = b_packed ? v * width : B.row;
          const T* init = first && bias ? bias + c0 : nullptr;
          const bool acc = accumulate || !first;
          dispatch_vectors<V>(v, [&]<std::size_t Vs>() {
            if (full) gemm_tile<T, P, Vs>(kn, a, a_row, b, b_row, out + r * out_row + c0, out_row, init, acc);
            else gemm_tile<T, 1, Vs>(kn, a, a_row, b, b_row, out + r * out_row + c0, out_row, init, acc);
          });
        }
        r += full ? P : 1;
      }
    }
  });
}

// The columns past the last whole vector (none for DeepID's sizes), in the
// same order of k.
template <class T>
void gemm_tail(std::size_t rows, std::size_t cols, std::size_t K, matrix_view<T> A, matrix_view<T> B, T* out,
               std::size_t out_row, const T* bias, bool accumulate) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = cols / simd_width<T> * simd_width<T>; c < cols; ++c) {
      T acc = accumulate ? out[r * out_row + c] : (bias ? bias[c] : T(0));
      for (std::size_t k = 0; k < K; ++k) acc += A(r, k) * B(k, c);
      out[r * out_row + c] = acc;
    }
}

template <class T>
void gemm_all(std::size_t rows, std::size_t cols, std::size_t K, matrix_view<T> A, matrix_view<T> B, T* out,
              std::size_t out_row, const T* bias, bool accumulate) {
  gemm(rows, cols, K, A, B, out, out_row, bias, accumulate);
  gemm_tail(rows, cols, K, A, B, out, out_row, bias, accumulate);
}

}  // namespace detail

// out[n x O] (+)= in[n x I] * weights[I x O]; with `accumulate` false the bias
// (may be null) initialises out.
template <class T>
void dense_forward(std::size_t in_size, std::size_t out_size, const T* in, T* out, std::size_t n, const T* weights,
                   const T* bias, bool accumulate) {
  detail::gemm_all<T>(n, out_size, in_size, {in, in_size, 1}, {weights, out_size, 1}, out, out_size, bias,
                      accumulate);
}

// Adds dweights += in^T dz, dbias += colsum(dz) (when not null), din += dz
// weights^T (when not null). With `accumulate` false the three are
// overwritten instead: a classifier whose gradients start at zero then
// neither clears nor re-reads its 20 MB of weight gradients.
template <class T>
void dense_backward(std::size_t in_size, std::size_t out_size, const T* in, const T* dz, T* din, std::size_t n,
                    const T* weights, T* dweights, T* dbias, bool accumulate = true) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  const std::size_t I = in_size, O = out_size;
  detail::gemm_all<T>(I, O, n, {in, 1, I}, {dz, O, 1}, dweights, O, nullptr, accumulate);
  if (dbias) {
    const std::size_t vectors = O / width;
    parallel_for((vectors + 15) / 16, [&](std::size_t item) {
      for (std::size_t j = item * 16; j < std::min(vectors, item * 16 + 16); ++j) {
        vec sum(T(0));
        for (std::size_t s = 0; s < n; ++s) sum += vec::load_unaligned(dz + s * O + j * width);
        (accumulate ? vec::load_unaligned(dbias + j * width) + sum : sum).store_unaligned(dbias + j * width);
      }
    });
    for (std::size_t o = vectors * width; o < O; ++o) {
      T sum = accumulate ? dbias[o] : T(0);
      for (std::size_t s = 0; s < n; ++s) sum += dz[s * O + o];
      dbias[o] = sum;
    }
  }
  if (din) detail::gemm_all<T>(n, I, O, {dz, O, 1}, {weights, 1, O}, din, I, nullptr, accumulate);
}

}  // namespace kernels
DEEPID_NAMESPACE_END
