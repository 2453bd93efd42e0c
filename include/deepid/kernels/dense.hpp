#pragma once
// Fully connected kernels: register-tiled xsimd GEMMs on row-major data.
//
// deepid's own rather than Eigen's because Eigen picks its K blocking from
// the thread count (kc is capped at 320 when it runs threaded), so its sums,
// and hence every feature, changed with the thread count. Here each output
// value is summed in one fixed order, and work is split into fixed blocks.
//  - forward   out[n x O] (+)= in[n x I] * W[I x O]: tiles of 4 rows x a few
//    vectors of O, summed over I with broadcasts of `in`;
//  - d(weights) dW[I x O] += in^T dz: tiles of 4 rows of I x vectors of O,
//    summed over the samples;
//  - d(input) din[n x I] += dz W^T: tiles of 4 samples x Q rows of W, summed
//    over O as vector dot products, in fixed blocks of O (cache-sized),
//    each block's lanes reduced then added.
#include <algorithm>
#include <cstddef>

#include "deepid/core/buffer.hpp"
#include "deepid/core/config.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/detail/eigen.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/simd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

// Eigen glue for code that does use Eigen products (verify/): row-major
// aliases, and Eigen's thread count kept equal to deepid's.
template <class T>
using row_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using row_vector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

inline void use_eigen_threads() {
  if (Eigen::nbThreads() != num_threads()) Eigen::setNbThreads(num_threads());
}

namespace detail {

// Tiles of forward and d(weights): rows x vectors of O, chosen so that the
// accumulators fill the registers and a column block of W over I ~ 160
// stays in L1.
inline constexpr std::size_t dense_rows = simd_registers == 32 ? 6 : 3;
inline constexpr std::size_t dense_vectors = simd_registers == 32 ? 4 : 3;
inline constexpr std::size_t dense_row_group = 24;  // rows per work item
// d(input) tiles: 4 samples x Q rows of W, one vector accumulator per
// output summed along O, its lanes added once per block of O. (Not
// xsimd::haddp: in xsimd 8.1 it permutes lanes on AVX-512.)
inline constexpr std::size_t dot_rows = 4;
inline constexpr std::size_t dot_cols = simd_registers == 32 ? 5 : 2;
inline constexpr std::size_t dot_block = 1024;  // O values per block: the tile's rows stay in L1

// Calls f.template operator()<V>() with V = v, for 1 <= v <= Max.
template <std::size_t Max, class F>
[[gnu::always_inline]] inline void dispatch_vectors(std::size_t v, F&& f) {
  unroll<Max>([&](auto i) {
    if (v == i + 1) f.template operator()<i + 1>();
  });
}

// out rows [0, P) x vectors [0, V) (+)= in * w; `in` has row stride I, `out`
// row stride O, `w` w_stride. Initial value: out (accumulate), else bias, else 0.
template <class T, std::size_t P, std::size_t V>
inline void dense_tile(std::size_t I, std::size_t O, const T* in, T* out, const T* w, std::size_t w_stride,
                       const T* bias, bool accumulate) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  vec acc[P][V];
  unroll<P>([&](auto q) {
    unroll<V>([&](auto v) {
      acc[q][v] = accumulate ? vec::load_unaligned(out + q * O + v * width)
                             : (bias ? vec::load_unaligned(bias + v * width) : vec(T(0)));
    });
  });
  for (std::size_t k = 0; k < I; ++k) {
    vec wv[V];
    unroll<V>([&](auto v) { wv[v] = vec::load_unaligned(w + k * w_stride + v * width); });
    unroll<P>([&](auto q) {
      const vec a(in[q * I + k]);
      unroll<V>([&](auto v) { acc[q][v] = xsimd::fma(a, wv[v], acc[q][v]); });
    });
  }
  unroll<P>([&](auto q) { unroll<V>([&](auto v) { acc[q][v].store_unaligned(out + q * O + v * width); }); });
}

// dW rows [0, P) x vectors [0, V) += sum_s in[s][row] * dz[s][...]; `in`
// points at column `row 0` (row stride I), dz (row stride dz_stride) and dw
// (row stride O) at the first column.
template <class T, std::size_t P, std::size_t V>
inline void weight_grad_tile(std::size_t I, std::size_t O, std::size_t n, const T* in, const T* dz,
                             std::size_t dz_stride, T* dw) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  vec acc[P][V];
  unroll<P>([&](auto p) { unroll<V>([&](auto v) { acc[p][v] = vec(T(0)); }); });
  for (std::size_t s = 0; s < n; ++s) {
    vec d[V];
    unroll<V>([&](auto v) { d[v] = vec::load_unaligned(dz + s * dz_stride + v * width); });
    unroll<P>([&](auto p) {
      const vec a(in[s * I + p]);
      unroll<V>([&](auto v) { acc[p][v] = xsimd::fma(a, d[v], acc[p][v]); });
    });
  }
  unroll<P>([&](auto p) {
    unroll<V>([&](auto v) {
      T* target = dw + p * O + v * width;
      (vec::load_unaligned(target) + acc[p][v]).store_unaligned(target);
    });
  });
}

// din[s][i] += sum_o dz[s][o] * w[i][o] over o in [0, count) (count a
// multiple of the width), for P samples x Q rows of w.
template <class T, std::size_t P, std::size_t Q>
inline void input_grad_tile(std::size_t I, std::size_t O, std::size_t count, const T* dz, const T* w, T* din) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  vec acc[P * Q];
  unroll<P * Q>([&](auto i) { acc[i] = vec(T(0)); });
  for (std::size_t o = 0; o < count; o += width) {
    vec d[P];
    unroll<P>([&](auto p) { d[p] = vec::load_unaligned(dz + p * O + o); });
    unroll<Q>([&](auto q) {
      const vec wv = vec::load_unaligned(w + q * O + o);
      unroll<P>([&](auto p) { acc[p * Q + q] = xsimd::fma(d[p], wv, acc[p * Q + q]); });
    });
  }
  unroll<P * Q>([&](auto i) { din[(i / Q) * I + i % Q] += xsimd::hadd(acc[i]); });
}

// Per-thread scratch memory, kept between calls.
template <class T>
T* scratch(std::size_t count) {
  thread_local buffer<T> memory;
  if (memory.size() < count) memory.resize(count);
  return memory.data();
}

// Copies columns [0, cols) of `rows` rows (stride `stride`) into a contiguous
// panel. Rows of a large matrix are pages apart, so a tile reading them in
// place spends its time in TLB misses; a panel is read sequentially.
template <class T>
const T* pack_panel(const T* src, std::size_t rows, std::size_t stride, std::size_t cols) {
  T* panel = scratch<T>(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) std::copy_n(src + r * stride, cols, panel + r * cols);
  return panel;
}

// Rows per work item: all rows (one panel per column block) when there are
// enough column blocks to share out, else groups (more items, small panels).
inline std::size_t dense_group_rows(std::size_t rows, std::size_t col_blocks) {
  return col_blocks >= 8 ? std::max<std::size_t>(rows, 1) : dense_row_group;
}

}  // namespace detail

// out[n x O] (+)= in[n x I] * weights[I x O]; with `accumulate` false the bias
// (may be null) initialises out.
template <class T>
void dense_forward(std::size_t in_size, std::size_t out_size, const T* in, T* out, std::size_t n, const T* weights,
                   const T* bias, bool accumulate) {
  constexpr std::size_t width = simd_width<T>, P = detail::dense_rows, V = detail::dense_vectors;
  const std::size_t I = in_size, O = out_size, vectors = O / width;
  const std::size_t col_blocks = (vectors + V - 1) / V;
  const std::size_t group = detail::dense_group_rows(n, col_blocks), row_groups = (n + group - 1) / group;
  parallel_for(col_blocks * row_groups, [&](std::size_t item) {
    const std::size_t cb = item / row_groups, rg = item % row_groups;
    const std::size_t c = cb * V * width, v = std::min(V, vectors - cb * V);
    const std::size_t r0 = rg * group, r1 = std::min(n, r0 + group);
    const T* b = bias ? bias + c : nullptr;
    // Several tiles read this block of W: pack it once.
    const bool pack = r1 - r0 >= 2 * P;
    const T* w = pack ? detail::pack_panel(weights + c, I, O, v * width) : weights + c;
    const std::size_t w_stride = pack ? v * width : O;
    for (std::size_t r = r0; r < r1;) {
      const bool full = r + P <= r1;
      detail::dispatch_vectors<V>(v, [&]<std::size_t Vs>() {
        if (full) detail::dense_tile<T, P, Vs>(I, O, in + r * I, out + r * O + c, w, w_stride, b, accumulate);
        else detail::dense_tile<T, 1, Vs>(I, O, in + r * I, out + r * O + c, w, w_stride, b, accumulate);
      });
      r += full ? P : 1;
    }
  });
  // Columns past the last full vector (none for DeepID's sizes).
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t o = vectors * width; o < O; ++o) {
      T acc = accumulate ? out[s * O + o] : (bias ? bias[o] : T(0));
      for (std::size_t k = 0; k < I; ++k) acc += in[s * I + k] * weights[k * O + o];
      out[s * O + o] = acc;
    }
}

// Adds dweights += in^T dz, dbias += colsum(dz) (when not null), din += dz
// weights^T (when not null).
template <class T>
void dense_backward(std::size_t in_size, std::size_t out_size, const T* in, const T* dz, T* din, std::size_t n,
                    const T* weights, T* dweights, T* dbias) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, P = detail::dense_rows, V = detail::dense_vectors;
  const std::size_t I = in_size, O = out_size, vectors = O / width, main = vectors * width;
  const std::size_t col_blocks = (vectors + V - 1) / V;
  const std::size_t group = detail::dense_group_rows(I, col_blocks), row_groups = (I + group - 1) / group;

  // d(weights): tiles over (rows of I) x (vectors of O), summed over samples;
  // the block of dz they all read is packed once per item.
  parallel_for(col_blocks * row_groups, [&](std::size_t item) {
    const std::size_t cb = item / row_groups, rg = item % row_groups;
    const std::size_t c = cb * V * width, v = std::min(V, vectors - cb * V);
    const std::size_t k0 = rg * group, k1 = std::min(I, k0 + group);
    const bool pack = k1 - k0 >= 2 * P;
    const T* d = pack ? detail::pack_panel(dz + c, n, O, v * width) : dz + c;
    const std::size_t d_stride = pack ? v * width : O;
    for (std::size_t k = k0; k < k1;) {
      const bool full = k + P <= k1;
      detail::dispatch_vectors<V>(v, [&]<std::size_t Vs>() {
        if (full) detail::weight_grad_tile<T, P, Vs>(I, O, n, in + k, d, d_stride, dweights + k * O + c);
        else detail::weight_grad_tile<T, 1, Vs>(I, O, n, in + k, d, d_stride, dweights + k * O + c);
      });
      k += full ? P : 1;
    }
    if (dbias && rg == 0)
      for (std::size_t j = 0; j < v; ++j) {
        vec sum(T(0));
        for (std::size_t s = 0; s < n; ++s) sum += vec::load_unaligned(dz + s * O + c + j * width);
        (vec::load_unaligned(dbias + c + j * width) + sum).store_unaligned(dbias + c + j * width);
      }
  });
  for (std::size_t k = 0; k < I; ++k)
    for (std::size_t o = main; o < O; ++o) {
      T acc = T(0);
      for (std::size_t s = 0; s < n; ++s) acc += in[s * I + k] * dz[s * O + o];
      dweights[k * O + o] += acc;
    }
  if (dbias)
    for (std::size_t o = main; o < O; ++o)
      for (std::size_t s = 0; s < n; ++s) dbias[o] += dz[s * O + o];
  if (!din) return;

  // d(input): items are groups of samples x groups of rows of W; each walks
  // O in fixed blocks so its rows stay in cache.
  constexpr std::size_t DP = detail::dot_rows, Q = detail::dot_cols, sample_group = 32, w_group = 16 * Q;
  const std::size_t sample_groups = (n + sample_group - 1) / sample_group;
  const std::size_t w_groups = (I + w_group - 1) / w_group;
  parallel_for(sample_groups * w_groups, [&](std::size_t item) {
    const std::size_t s0 = (item / w_groups) * sample_group, s1 = std::min(n, s0 + sample_group);
    const std::size_t i0 = (item % w_groups) * w_group, i1 = std::min(I, i0 + w_group);
    for (std::size_t o = 0; o < main; o += detail::dot_block) {
      const std::size_t count = std::min(detail::dot_block, main - o);
      for (std::size_t s = s0; s < s1;) {
        const std::size_t p = s + DP <= s1 ? DP : 1;
        for (std::size_t i = i0; i < i1;) {
          const std::size_t q = i + Q <= i1 ? Q : 1;
          const T* d = dz + s * O + o;
          const T* w = weights + i * O + o;
          T* target = din + s * I + i;
          if (p == DP && q == Q) detail::input_grad_tile<T, DP, Q>(I, O, count, d, w, target);
          else if (p == DP) detail::input_grad_tile<T, DP, 1>(I, O, count, d, w, target);
          else if (q == Q) detail::input_grad_tile<T, 1, Q>(I, O, count, d, w, target);
          else detail::input_grad_tile<T, 1, 1>(I, O, count, d, w, target);
          i += q;
        }
        s += p;
      }
    }
    for (std::size_t s = s0; s < s1; ++s)
      for (std::size_t i = i0; i < i1; ++i) {
        T acc = T(0);
        for (std::size_t o = main; o < O; ++o) acc += dz[s * O + o] * weights[i * O + o];
        din[s * I + i] += acc;
      }
  });
}

}  // namespace kernels
DEEPID_NAMESPACE_END
