#pragma once
// 3x3 convolutions (stride 1, padding 0 or 1) by Winograd's minimal filtering
// F(2x2, 3x3): each 2x2 block of outputs is computed from a 4x4 block of
// input as
//     Y = A^T [ (G g G^T) . (B^T d B) ] A,
// 16 products per input channel where the direct sum takes 36, so the
// multiply-adds of all three passes drop by 2.25x on even-sized maps. With
// U = G g G^T (the weights) and V = B^T d B (a tile of input), the 16
// element-wise products summed over channels are 16 matrix products
//     M[xi] (tiles x Cout) = V[xi] (tiles x Cin) * U[xi] (Cin x Cout),
// and the backward passes are the same products transposed:
//     dM = A dY A^T,  dV[xi] = dM[xi] U[xi]^T,  d(input tile) = B dV B^T,
//     dU[xi] = V[xi]^T dM[xi],  d(weights) = G^T dU G.
// Work goes a block of tiles at a time (transforms and products of a block
// stay in L2). Only 0, +-1 and 1/2 appear in the transforms, so in float the
// results stay within a few ulps of a direct sum's bound (see the tests).
//
// Determinism, as for the direct kernels: every sum has one order fixed by
// the geometry and the batch size. Forward items are blocks of tiles;
// backward items are fixed chunks of samples (each sample's input gradient
// is added tile after tile; d(weights) per chunk, the chunk partials
// reduced in chunk order).
#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include "deepid/core/buffer.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/conv_geometry.hpp"
#include "deepid/kernels/dense.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/simd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

// Whether a layer runs this way: float (the speed type; double, the type
// of gradient checks, keeps the direct kernels, where a weight that touches
// only zeros leaves every other sum bit-identical, so central differences
// see no rounding noise from it), one weight bank, 3x3, stride 1, padding 0
// or 1, and enough channels for the products to run at GEMM speed (a
// 3-channel first layer is faster direct). The kernels themselves work in
// float and double.
template <class T, conv_geometry G>
inline constexpr bool winograd_suits = std::is_same_v<T, float> && G.banks() == 1 && G.kernel == 3 &&
                                       G.stride == 1 && G.pad <= 1 && G.cin >= 16 && G.cout >= 16;

// What the kernels accept.
template <conv_geometry G>
inline constexpr bool winograd_geometry = G.banks() == 1 && G.kernel == 3 && G.stride == 1 && G.pad <= 1;

// The transformed weights, U[16][Cin][Cout padded] (padding lanes zero), and
// the bias [Cout padded].
template <class T>
struct winograd_weights {
  buffer<T> u, bias;
};

// Scratch kept by a layer between calls.
template <class T>
struct winograd_workspace {
  buffer<T> u, ut;      // U of the current weights, and U transposed [16][Cout][Cin padded]
  buffer<T> partial;    // d(U) and d(bias) of each chunk of samples
};

namespace winograd {

inline constexpr std::size_t tile_inputs = 16;  // a 4x4 input tile, 2x2 outputs

// U[a][b] = sum over ky, kx of G[a][ky] g[ky][kx] G[b][kx], with
// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <class T>
inline std::array<T, 4> g_rows(T g0, T g1, T g2) {
  return {g0, T(0.5) * (g0 + g1 + g2), T(0.5) * (g0 - g1 + g2), g2};
}

// U = G g G^T of every (ci, co), into u[16][Cin][row] (row >= Cout); the
// weights are [ky][kx][ci][co].
template <class T>
void transform_weights(const conv_geometry& g, const T* weights, T* u, std::size_t row) {
  const std::size_t cin = g.cin, cout = g.cout;
  parallel_for(cin, [&](std::size_t ci) {
    for (std::size_t co = 0; co < cout; ++co) {
      const auto w = [&](std::size_t ky, std::size_t kx) { return weights[((ky * 3 + kx) * cin + ci) * cout + co]; };
      std::array<std::array<T, 4>, 3> rows;  // G applied along kx, for each ky
      for (std::size_t ky = 0; ky < 3; ++ky) rows[ky] = g_rows(w(ky, 0), w(ky, 1), w(ky, 2));
      for (std::size_t b = 0; b < 4; ++b) {
        const auto col = g_rows(rows[0][b], rows[1][b], rows[2][b]);
        for (std::size_t a = 0; a < 4; ++a) u[((a * 4 + b) * cin + ci) * row + co] = col[a];
      }
    }
  });
}

// Lanes [0, count) of a vector from / to memory; the rest reads as zero and
// is not written.
template <class T>
[[gnu::always_inline]] inline xsimd::batch<T> load_lanes(const T* p, std::size_t count) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  if (count >= width) return vec::load_unaligned(p);
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && width == 16) return _mm512_maskz_loadu_ps(__mmask16((1u << count) - 1), p);
  if constexpr (std::is_same_v<T, double> && width == 8) return _mm512_maskz_loadu_pd(__mmask8((1u << count) - 1), p);
#endif
  alignas(64) T tmp[width] = {};
  for (std::size_t i = 0; i < count; ++i) tmp[i] = p[i];
  return vec::load_aligned(tmp);
}

template <class T>
[[gnu::always_inline]] inline void store_lanes(const xsimd::batch<T>& v, T* p, std::size_t count) {
  constexpr std::size_t width = simd_width<T>;
  if (count >= width) return v.store_unaligned(p);
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && width == 16) return _mm512_mask_storeu_ps(p, __mmask16((1u << count) - 1), v);
  if constexpr (std::is_same_v<T, double> && width == 8) return _mm512_mask_storeu_pd(p, __mmask8((1u << count) - 1), v);
#endif
  alignas(64) T tmp[width];
  v.store_aligned(tmp);
  for (std::size_t i = 0; i < count; ++i) p[i] = tmp[i];
}

// c[q][v] (+)= sum over k < K of a[q * a_q + k * a_k] * b[k * b_k + v * width]
// for Q rows and V vectors: the register tile of the 16 products.
template <class T, std::size_t Q, std::size_t V>
inline void product_tile(std::size_t K, const T* a, std::size_t a_q, std::size_t a_k, const T* b, std::size_t b_k,
                         T* c, std::size_t c_q, bool accumulate) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  vec acc[Q][V];
  detail::unroll<Q>([&](auto q) {
    detail::unroll<V>([&](auto v) {
      acc[q][v] = accumulate ? vec::load_unaligned(c + q * c_q + v * width) : vec(T(0));
    });
  });
  for (std::size_t k = 0; k < K; ++k) {
    vec bv[V];
    detail::unroll<V>([&](auto v) { bv[v] = detail::in_register(vec::load_unaligned(b + k * b_k + v * width)); });
    const T* ak = a + k * a_k;
    detail::unroll<Q>([&](auto q) {
      const vec av(ak[q * a_q]);
      detail::unroll<V>([&](auto v) { acc[q][v] = xsimd::fma(av, bv[v], acc[q][v]); });
    });
  }
  detail::unroll<Q>([&](auto q) {
    detail::unroll<V>([&](auto v) { acc[q][v].store_unaligned(c + q * c_q + v * width); });
  });
}

// The register tile of the products: Q rows x V vectors of accumulators,
// plus V vectors of b and one broadcast (AVX2: 12 + 3 + 1 of 16 registers).
inline constexpr std::size_t product_rows = simd_registers == 32 ? 6 : 4;
inline constexpr std::size_t product_vectors = simd_registers == 32 ? 4 : 3;

// c (rows x vectors*width) (+)= a (rows x K, strides a_q, a_k) * b (K x ...).
// Every c value is one FMA chain over k in order.
template <class T>
void product(std::size_t rows, std::size_t vectors, std::size_t K, const T* a, std::size_t a_q, std::size_t a_k,
             const T* b, std::size_t b_k, T* c, std::size_t c_q, bool accumulate) {
  constexpr std::size_t width = simd_width<T>, Q = product_rows, V = product_vectors;
  for (std::size_t v0 = 0; v0 < vectors; v0 += V) {
    const std::size_t nv = std::min(V, vectors - v0);
    for (std::size_t q0 = 0; q0 < rows; q0 += Q) {
      const std::size_t nq = std::min(Q, rows - q0);
      detail::dispatch_vectors<Q>(nq, [&]<std::size_t RQ>() {
        detail::dispatch_vectors<V>(nv, [&]<std::size_t RV>() {
          product_tile<T, RQ, RV>(K, a + q0 * a_q, a_q, a_k, b + v0 * width, b_k, c + q0 * c_q + v0 * width, c_q,
                                  accumulate);
        });
      });
    }
  }
}

// What the kernels are compiled for: the channels and the padding. The
// map's size is read at run time, so layers of the same channels share
// their code whatever their maps' sizes (the nets of 55x47 and 47x47
// patches do).
constexpr conv_geometry key_of(const conv_geometry& g) { return {g.cin, 3, 3, 3, 1, g.pad, g.cout, 1, 1}; }

// Where a tile lies: its sample and its first output row and column.
struct tile_origin {
  std::size_t sample, y, x;
};

// Tiles of one sample's output: ceil(out / 2) in each direction. Tiles are
// numbered across the batch, sample after sample, row after row.
struct tile_grid {
  std::size_t rows, cols;
  explicit tile_grid(const conv_geometry& g) : rows((g.out_h() + 1) / 2), cols((g.out_w() + 1) / 2) {}
  std::size_t per_sample() const { return rows * cols; }
  tile_origin origin(std::size_t t) const {
    const std::size_t in_sample = t % per_sample();
    return {t / per_sample(), in_sample / cols * 2, in_sample % cols * 2};
  }
  // The tile after o, without a division.
  tile_origin next(tile_origin o) const {
    if ((o.x += 2) < 2 * cols) return o;
    o.x = 0;
    if ((o.y += 2) < 2 * rows) return o;
    return {o.sample + 1, 0, 0};
  }
};

// Tiles per forward block: the block's V and M (16 x tiles x channels each)
// within about 384 KB, so that they and U stay in a 512 KB L2 or larger; a
// multiple of the register tile's rows.
template <class T, conv_geometry K>
constexpr std::size_t block_tiles() {
  constexpr std::size_t per_tile = tile_inputs * (padded_channels<T>(K.cin) + padded_channels<T>(K.cout)) * sizeof(T);
  constexpr std::size_t fit = 384 * 1024 / per_tile / product_rows * product_rows;
  return std::clamp<std::size_t>(fit, product_rows, 16 * product_rows);
}

// Tiles per backward block: d(U) sums over a block's tiles, so a block of
// at least 32 keeps its accumulators' loads and stores rare next to the
// FMAs, even where the channels are many and the maps small.
template <class T, conv_geometry K>
constexpr std::size_t backward_block_tiles() {
  return std::max<std::size_t>(block_tiles<T, K>(), 32);
}

// V = B^T d B of tiles [g0, g0 + count) (NHWC input of the batch, maps of
// geometry g), into v[16][block][Cin padded]; input outside the map reads as
// zero. With B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
template <class T, conv_geometry K>
void transform_input(const conv_geometry& g, const T* in, std::size_t g0, std::size_t count, T* v,
                     std::size_t block) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cip = padded_channels<T>(K.cin);
  constexpr std::ptrdiff_t pad = K.pad;
  const std::ptrdiff_t h = std::ptrdiff_t(g.h), w = std::ptrdiff_t(g.w);
  const tile_grid grid(g);
  tile_origin o = grid.origin(g0);
  for (std::size_t i = 0; i < count; ++i, o = grid.next(o)) {
    const T* sample = in + o.sample * g.in_size();
    const std::ptrdiff_t y0 = std::ptrdiff_t(o.y) - pad, x0 = std::ptrdiff_t(o.x) - pad;
    const T* at[4][4];
    for (std::ptrdiff_t r = 0; r < 4; ++r)
      for (std::ptrdiff_t c = 0; c < 4; ++c) {
        const std::ptrdiff_t y = y0 + r, x = x0 + c;
        at[r][c] = (y >= 0 && y < h && x >= 0 && x < w) ? sample + (y * w + x) * std::ptrdiff_t(K.cin) : nullptr;
      }
    for (std::size_t c0 = 0; c0 < cip; c0 += width) {
      const std::size_t lanes = std::min(width, K.cin - c0);
      vec d[4][4];
      for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 4; ++c) d[r][c] = at[r][c] ? load_lanes(at[r][c] + c0, lanes) : vec(T(0));
      vec s[4][4];  // B^T d
      for (std::size_t c = 0; c < 4; ++c) {
        s[0][c] = d[0][c] - d[2][c];
        s[1][c] = d[1][c] + d[2][c];
        s[2][c] = d[2][c] - d[1][c];
        s[3][c] = d[1][c] - d[3][c];
      }
      for (std::size_t r = 0; r < 4; ++r) {  // (B^T d) B
        const vec out[4] = {s[r][0] - s[r][2], s[r][1] + s[r][2], s[r][2] - s[r][1], s[r][1] - s[r][3]};
        for (std::size_t c = 0; c < 4; ++c) out[c].store_aligned(v + ((r * 4 + c) * block + i) * cip + c0);
      }
    }
  }
}

// winograd_forward on maps of geometry g; compiled once per key_of(g).
template <class T, conv_geometry K, bool Relu>
[[gnu::noinline]] void forward(const conv_geometry& g, const T* in, T* out, std::size_t n,
                               const winograd_weights<T>& weights) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cip = padded_channels<T>(K.cin), cop = padded_channels<T>(K.cout);
  // Blocks of up to block_tiles, smaller where that leaves a thread without
  // two of them (batch 1 on small maps). A tile's outputs do not depend on
  // its block, so neither do the results.
  constexpr std::size_t rows = product_rows;
  const tile_grid grid(g);
  const std::size_t tiles = n * grid.per_sample(), items = 2 * std::size_t(num_threads());
  const std::size_t share = ((tiles + items - 1) / items + rows - 1) / rows * rows;
  const std::size_t block = std::clamp(share, rows, block_tiles<T, K>());
  parallel_for((tiles + block - 1) / block, [&](std::size_t item) {
    const std::size_t g0 = item * block, count = std::min(block, tiles - g0);
    T* v = detail::scratch<T, 0>(tile_inputs * block * cip);
    T* m = detail::scratch<T, 1>(tile_inputs * block * cop);
    transform_input<T, K>(g, in, g0, count, v, block);
    for (std::size_t xi = 0; xi < tile_inputs; ++xi)
      product(count, cop / width, K.cin, v + xi * block * cip, cip, 1, weights.u.data() + xi * K.cin * cop,
                        cop, m + xi * block * cop, cop, false);
    // Y = A^T M A with A^T = [1 1 1 0; 0 1 -1 -1], then bias and ReLU.
    tile_origin at = grid.origin(g0);
    for (std::size_t i = 0; i < count; ++i, at = grid.next(at)) {
      const auto [s, y0, x0] = at;
      T* o = out + s * g.out_size();
      const bool full_rows = y0 + 1 < g.out_h(), full_cols = x0 + 1 < g.out_w();
      for (std::size_t c0 = 0; c0 < cop; c0 += width) {
        vec p[4][4];
        for (std::size_t r = 0; r < 4; ++r)
          for (std::size_t c = 0; c < 4; ++c) p[r][c] = vec::load_aligned(m + ((r * 4 + c) * block + i) * cop + c0);
        vec a[2][4];
        for (std::size_t c = 0; c < 4; ++c) {
          a[0][c] = p[0][c] + p[1][c] + p[2][c];
          a[1][c] = p[1][c] - p[2][c] - p[3][c];
        }
        const vec b = vec::load_aligned(weights.bias.data() + c0);
        const std::size_t lanes = std::min(width, K.cout - c0);
        for (std::size_t r = 0; r < (full_rows ? 2u : 1u); ++r) {
          vec y[2] = {a[r][0] + a[r][1] + a[r][2] + b, a[r][1] - a[r][2] - a[r][3] + b};
          for (std::size_t c = 0; c < (full_cols ? 2u : 1u); ++c) {
            if constexpr (Relu) y[c] = xsimd::max(y[c], vec(T(0)));
            store_lanes(y[c], o + ((y0 + r) * g.out_w() + x0 + c) * K.cout + c0, lanes);
          }
        }
      }
    }
  });
}

// winograd_backward on maps of geometry g; compiled once per key_of(g).
template <class T, conv_geometry K, bool Relu>
[[gnu::noinline]] void backward(const conv_geometry& g, const T* in, const T* out, const T* dout, T* din,
                                std::size_t n, const T* weights, T* dweights, T* dbias, winograd_workspace<T>& ws) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cip = padded_channels<T>(K.cin), cop = padded_channels<T>(K.cout);
  constexpr std::size_t block = backward_block_tiles<T, K>();
  const tile_grid grid(g);
  const std::size_t tiles = grid.per_sample();
  constexpr std::size_t xis = tile_inputs;
  constexpr std::size_t partial_size = xis * K.cin * cop + cop;  // d(U), then d(bias)

  // Chunks of samples: a function of n only (at most 8 partials to reduce).
  const std::size_t chunk = (n + 7) / 8, chunks = (n + chunk - 1) / chunk;
  ws.u.assign(xis * K.cin * cop, T(0));
  transform_weights(g, weights, ws.u.data(), cop);
  if (din) {
    // U^T [16][Cout][Cin padded] for d(V) = d(M) U^T.
    ws.ut.assign(xis * K.cout * cip, T(0));
    parallel_for(xis, [&](std::size_t xi) {
      detail::transpose_into(ws.u.data() + xi * K.cin * cop, cop, K.cout, K.cin, ws.ut.data() + xi * K.cout * cip,
                             cip);
    });
  }
  ws.partial.assign(chunks * partial_size, T(0));

  parallel_for(chunks, [&](std::size_t c) {
    T* du = ws.partial.data() + c * partial_size;
    T* db = du + xis * K.cin * cop;
    T* v = detail::scratch<T, 0>(xis * block * cip);
    T* m = detail::scratch<T, 1>(xis * block * cop);
    const std::size_t first = c * chunk * tiles, end = std::min(n, (c + 1) * chunk) * tiles;
    for (std::size_t g0 = first; g0 < end; g0 += block) {
        const std::size_t count = std::min(block, end - g0);
        // d(M) = A dZ A^T, with dZ the ReLU-masked d(output), zero outside
        // the map; A = [1 0; 1 1; 1 -1; 0 -1]. d(bias) sums dZ.
        tile_origin at = grid.origin(g0);
        for (std::size_t i = 0; i < count; ++i, at = grid.next(at)) {
          const auto [s, y0, x0] = at;
          for (std::size_t c0 = 0; c0 < cop; c0 += width) {
            const std::size_t lanes = std::min(width, K.cout - c0);
            vec z[2][2];
            for (std::size_t r = 0; r < 2; ++r)
              for (std::size_t q = 0; q < 2; ++q) {
                z[r][q] = vec(T(0));
                if (y0 + r >= g.out_h() || x0 + q >= g.out_w()) continue;
                const std::size_t at = ((s * g.out_h() + y0 + r) * g.out_w() + x0 + q) * K.cout + c0;
                z[r][q] = load_lanes(dout + at, lanes);
                if constexpr (Relu)
                  z[r][q] = xsimd::select(load_lanes(out + at, lanes) > vec(T(0)), z[r][q], vec(T(0)));
              }
            vec bsum = vec::load_aligned(db + c0);
            bsum += z[0][0];
            bsum += z[0][1];
            bsum += z[1][0];
            bsum += z[1][1];
            bsum.store_aligned(db + c0);
            vec a[4][2];
            for (std::size_t q = 0; q < 2; ++q) {
              a[0][q] = z[0][q];
              a[1][q] = z[0][q] + z[1][q];
              a[2][q] = z[0][q] - z[1][q];
              a[3][q] = -z[1][q];
            }
            for (std::size_t r = 0; r < 4; ++r) {
              const vec row[4] = {a[r][0], a[r][0] + a[r][1], a[r][0] - a[r][1], -a[r][1]};
              for (std::size_t q = 0; q < 4; ++q) row[q].store_aligned(m + ((r * 4 + q) * block + i) * cop + c0);
            }
          }
        }
        transform_input<T, K>(g, in, g0, count, v, block);
        // d(U)[xi] += V[xi]^T d(M)[xi]: rows are input channels, summed over tiles.
        for (std::size_t xi = 0; xi < xis; ++xi)
          product(K.cin, cop / width, count, v + xi * block * cip, 1, cip, m + xi * block * cop, cop,
                            du + xi * K.cin * cop, cop, true);
        if (!din) continue;
        // d(V)[xi] = d(M)[xi] U[xi]^T, over V's storage (V is no longer needed).
        for (std::size_t xi = 0; xi < xis; ++xi)
          product(count, cip / width, K.cout, m + xi * block * cop, cop, 1, ws.ut.data() + xi * K.cout * cip,
                            cip, v + xi * block * cip, cip, false);
        // d(input tile) = B d(V) B^T, added where the tile lies on the map.
        tile_origin o = grid.origin(g0);
        for (std::size_t i = 0; i < count; ++i, o = grid.next(o)) {
          T* ds = din + o.sample * g.in_size();
          const std::ptrdiff_t y0 = std::ptrdiff_t(o.y) - std::ptrdiff_t(K.pad);
          const std::ptrdiff_t x0 = std::ptrdiff_t(o.x) - std::ptrdiff_t(K.pad);
          for (std::size_t c0 = 0; c0 < cip; c0 += width) {
            const std::size_t lanes = std::min(width, K.cin - c0);
            vec p[4][4];
            for (std::size_t r = 0; r < 4; ++r)
              for (std::size_t q = 0; q < 4; ++q) p[r][q] = vec::load_aligned(v + ((r * 4 + q) * block + i) * cip + c0);
            // B x: [x0, x1 - x2 + x3, x1 + x2 - x0, -x3], along rows then columns.
            vec e[4][4];
            for (std::size_t q = 0; q < 4; ++q) {
              e[0][q] = p[0][q];
              e[1][q] = p[1][q] - p[2][q] + p[3][q];
              e[2][q] = p[1][q] + p[2][q] - p[0][q];
              e[3][q] = -p[3][q];
            }
            for (std::size_t r = 0; r < 4; ++r) {
              const std::ptrdiff_t y = y0 + std::ptrdiff_t(r);
              if (y < 0 || y >= std::ptrdiff_t(g.h)) continue;
              const vec row[4] = {e[r][0], e[r][1] - e[r][2] + e[r][3], e[r][1] + e[r][2] - e[r][0], -e[r][3]};
              for (std::size_t q = 0; q < 4; ++q) {
                const std::ptrdiff_t x = x0 + std::ptrdiff_t(q);
                if (x < 0 || x >= std::ptrdiff_t(g.w)) continue;
                T* at = ds + (std::size_t(y) * g.w + std::size_t(x)) * K.cin + c0;
                store_lanes(load_lanes(at, lanes) + row[q], at, lanes);
              }
            }
          }
        }
      }
  });

  // The chunk partials in chunk order, then d(weights) = G^T d(U) G:
  // G^T x = [x0 + (x1 + x2) / 2, (x1 - x2) / 2, (x1 + x2) / 2 + x3].
  parallel_for(K.cin, [&](std::size_t ci) {
    for (std::size_t co = 0; co < K.cout; ++co) {
      T du[4][4];
      for (std::size_t xi = 0; xi < xis; ++xi) {
        T sum = T(0);
        for (std::size_t c = 0; c < chunks; ++c) sum += ws.partial[c * partial_size + (xi * K.cin + ci) * cop + co];
        du[xi / 4][xi % 4] = sum;
      }
      const auto gt = [](T x0, T x1, T x2, T x3) {
        return std::array<T, 3>{x0 + T(0.5) * (x1 + x2), T(0.5) * (x1 - x2), T(0.5) * (x1 + x2) + x3};
      };
      std::array<std::array<T, 3>, 4> rows;  // G^T applied along b, for each a
      for (std::size_t a = 0; a < 4; ++a) rows[a] = gt(du[a][0], du[a][1], du[a][2], du[a][3]);
      for (std::size_t kx = 0; kx < 3; ++kx) {
        const auto col = gt(rows[0][kx], rows[1][kx], rows[2][kx], rows[3][kx]);
        for (std::size_t ky = 0; ky < 3; ++ky) dweights[((ky * 3 + kx) * K.cin + ci) * K.cout + co] += col[ky];
      }
    }
  });
  for (std::size_t co = 0; co < K.cout; ++co) {
    T sum = T(0);
    for (std::size_t c = 0; c < chunks; ++c) sum += ws.partial[c * partial_size + xis * K.cin * cop + co];
    dbias[co] += sum;
  }
}

}  // namespace winograd

// Transforms the weights (layout [ky][kx][ci][co]) and copies the bias.
template <class T>
void pack_winograd_weights(const conv_geometry& g, const T* weights, const T* bias, winograd_weights<T>& p) {
  const std::size_t cop = padded_channels<T>(g.cout);
  p.u.assign(winograd::tile_inputs * g.cin * cop, T(0));
  winograd::transform_weights(g, weights, p.u.data(), cop);
  p.bias.assign(cop, T(0));
  std::copy_n(bias, g.cout, p.bias.data());
}

// out = [relu](bias + conv(in)) for n samples, NHWC.
template <class T, conv_geometry G, bool Relu>
void winograd_forward(const T* in, T* out, std::size_t n, const winograd_weights<T>& weights) {
  static_assert(winograd_geometry<G>, "Winograd F(2x2, 3x3): one bank, 3x3, stride 1, padding 0 or 1");
  winograd::forward<T, winograd::key_of(G), Relu>(G, in, out, n, weights);
}

// Adds to dweights/dbias (and din when not null) the gradients of
// winograd_forward; `out` is the forward output (for the fused ReLU mask),
// `weights` the layer's [ky][kx][ci][co] weights.
template <class T, conv_geometry G, bool Relu>
void winograd_backward(const T* in, const T* out, const T* dout, T* din, std::size_t n, const T* weights,
                       T* dweights, T* dbias, winograd_workspace<T>& ws) {
  static_assert(winograd_geometry<G>, "Winograd F(2x2, 3x3): one bank, 3x3, stride 1, padding 0 or 1");
  winograd::backward<T, winograd::key_of(G), Relu>(G, in, out, dout, din, n, weights, dweights, dbias, ws);
}

}  // namespace kernels
DEEPID_NAMESPACE_END
