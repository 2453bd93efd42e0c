#pragma once
// The convolution kernels for ordinary, locally shared and locally connected
// layers (one code path: a layer is a grid of weight banks).
//
// Forward is a direct, register-blocked xsimd kernel: a tile of P output
// positions x V vectors of output channels is accumulated in registers while
// the receptive fields are read in place (NHWC makes each kernel row one
// contiguous run of kernel*Cin values), so no im2col copy is made. Positions
// of a tile share one bank: for a locally connected layer they are the same
// position in P different samples. Backward uses im2col and Eigen GEMMs over
// fixed chunks of samples, reduced in a fixed order.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "deepid/core/buffer.hpp"
#include "deepid/kernels/conv_geometry.hpp"
#include "deepid/kernels/detail/eigen.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class T>
inline constexpr std::size_t simd_width = xsimd::batch<T>::size;

template <class T>
constexpr std::size_t padded_channels(std::size_t c) {
  return (c + simd_width<T> - 1) / simd_width<T> * simd_width<T>;
}

// Weights repacked for the forward kernel: [banks][K][Cout rounded up to the
// SIMD width], bias [banks][Cout rounded up]; padding lanes are zero.
template <class T>
struct packed_conv_weights {
  buffer<T> weights, bias;
};

template <class T>
void pack_conv_weights(const conv_geometry& g, const T* weights, const T* bias, packed_conv_weights<T>& p) {
  const std::size_t cp = padded_channels<T>(g.cout), k = g.patch();
  p.weights.assign(g.banks() * k * cp, T(0));
  p.bias.assign(g.banks() * cp, T(0));
  for (std::size_t b = 0; b < g.banks(); ++b) {
    for (std::size_t i = 0; i < k; ++i)
      std::copy_n(weights + (b * k + i) * g.cout, g.cout, p.weights.data() + (b * k + i) * cp);
    std::copy_n(bias + b * g.cout, g.cout, p.bias.data() + b * cp);
  }
}

namespace detail {

// Copies n samples into a zero-bordered buffer (only when the layer pads).
template <class T>
void pad_input(const conv_geometry& g, const T* in, T* padded, std::size_t n) {
  const std::size_t hp = g.padded_h(), wp = g.padded_w(), c = g.cin;
  std::fill_n(padded, n * g.padded_in_size(), T(0));
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < g.h; ++y)
      std::copy_n(in + (s * g.h + y) * g.w * c, g.w * c, padded + ((s * hp + y + g.pad) * wp + g.pad) * c);
}

// Accumulates one tile: rows[q] points at the top-left input element of output
// position q's receptive field; acc[q][v] covers channels (c0 + v) * width.
template <class T, conv_geometry G, std::size_t P, std::size_t V, bool Relu>
inline void conv_tile(const T* const* rows, T* const* outs, std::size_t valid, const T* w, const T* b,
                      std::size_t c0) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = vec::size;
  constexpr std::size_t cp = padded_channels<T>(G.cout);
  constexpr std::size_t run = G.kernel * G.cin;       // contiguous values per kernel row
  constexpr std::size_t row_step = G.padded_w() * G.cin;  // next input row

  vec acc[P][V];
  for (std::size_t v = 0; v < V; ++v) {
    const vec bias = vec::load_aligned(b + (c0 + v) * width);
    for (std::size_t q = 0; q < P; ++q) acc[q][v] = bias;
  }
  for (std::size_t ky = 0; ky < G.kernel; ++ky) {
    const T* wk = w + ky * run * cp + c0 * width;
    for (std::size_t j = 0; j < run; ++j) {
      vec wv[V];
      for (std::size_t v = 0; v < V; ++v) wv[v] = vec::load_aligned(wk + j * cp + v * width);
      for (std::size_t q = 0; q < P; ++q) {
        const vec a(rows[q][ky * row_step + j]);
        for (std::size_t v = 0; v < V; ++v) acc[q][v] = xsimd::fma(a, wv[v], acc[q][v]);
      }
    }
  }
  for (std::size_t q = 0; q < valid; ++q)
    for (std::size_t v = 0; v < V; ++v) {
      vec r = acc[q][v];
      if constexpr (Relu) r = xsimd::max(r, vec(T(0)));
      const std::size_t c = (c0 + v) * width;
      if (c + width <= G.cout) {
        r.store_unaligned(outs[q] + c);
      } else {
        alignas(64) T tmp[width];
        r.store_aligned(tmp);
        std::copy_n(tmp, G.cout - c, outs[q] + c);
      }
    }
}

// Runs every channel chunk of one tile: chunks of 3 vectors, then 2 or 1.
template <class T, conv_geometry G, std::size_t P, bool Relu>
inline void conv_tile_all_channels(const T* const* rows, T* const* outs, std::size_t valid, const T* w,
                                   const T* b) {
  constexpr std::size_t vectors = padded_channels<T>(G.cout) / simd_width<T>;
  std::size_t c0 = 0;
  for (; c0 + 3 <= vectors && vectors - c0 != 4; c0 += 3) conv_tile<T, G, P, 3, Relu>(rows, outs, valid, w, b, c0);
  for (; c0 + 2 <= vectors; c0 += 2) conv_tile<T, G, P, 2, Relu>(rows, outs, valid, w, b, c0);
  if (c0 < vectors) conv_tile<T, G, P, 1, Relu>(rows, outs, valid, w, b, c0);
}

}  // namespace detail

// out = [relu](bias + conv(in)) for n samples, NHWC.
template <class T, conv_geometry G, bool Relu>
void conv_forward(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed) {
  constexpr std::size_t P = 4;
  constexpr std::size_t cp = padded_channels<T>(G.cout);
  buffer<T> padded;
  if constexpr (G.pad > 0) {
    padded.resize(n * G.padded_in_size());
    detail::pad_input(G, in, padded.data(), n);
    in = padded.data();
  }
  const std::size_t rows_per_bank = n * G.region_positions();
  const std::size_t tiles_per_bank = (rows_per_bank + P - 1) / P;
  const T* weights = packed.weights.data();
  const T* bias = packed.bias.data();

  parallel_for(G.banks() * tiles_per_bank, [&](std::size_t item) {
    const std::size_t bank = item / tiles_per_bank;
    const std::size_t first = (item % tiles_per_bank) * P;
    const std::size_t valid = std::min(P, rows_per_bank - first);
    const T* rows[P];
    T* outs[P];
    for (std::size_t q = 0; q < P; ++q) {
      const std::size_t r = first + std::min(q, valid - 1);
      // Row order within a bank: position-major for one bank per position
      // (locally connected: a tile spans samples), sample-major otherwise.
      std::size_t s, p;
      if constexpr (G.region_positions() == 1) {
        s = r, p = 0;
      } else {
        s = r / G.region_positions(), p = r % G.region_positions();
      }
      const std::size_t y = G.out_row(bank, p), x = G.out_col(bank, p);
      rows[q] = in + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
      outs[q] = out + ((s * G.out_h() + y) * G.out_w() + x) * G.cout;
    }
    detail::conv_tile_all_channels<T, G, P, Relu>(rows, outs, valid, weights + bank * G.patch() * cp,
                                                  bias + bank * cp);
  });
}

// Adds to dweights/dbias (and din when not null) the gradients of conv_forward.
// `out` is the forward output, used for the fused ReLU mask.
template <class T, conv_geometry G, bool Relu>
void conv_backward(const T* in, const T* out, const T* dout, T* din, std::size_t n, const T* weights,
                   T* dweights, T* dbias) {
  using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using cmap = Eigen::Map<const matrix>;
  constexpr std::size_t chunk = 8;  // fixed: partial sums never depend on the thread count
  constexpr std::size_t k = G.patch(), cout = G.cout, positions = G.region_positions();
  constexpr std::size_t grads = G.param_count();
  const std::size_t chunks = (n + chunk - 1) / chunk;

  buffer<T> padded, dpadded;
  if constexpr (G.pad > 0) {
    padded.resize(n * G.padded_in_size());
    detail::pad_input(G, in, padded.data(), n);
    in = padded.data();
    if (din) dpadded.assign(n * G.padded_in_size(), T(0));
  }
  T* dinp = G.pad > 0 ? (din ? dpadded.data() : nullptr) : din;

  std::vector<buffer<T>> partial(chunks);
  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t s0 = c * chunk, s1 = std::min(n, s0 + chunk), m = (s1 - s0) * positions;
    partial[c].assign(grads, T(0));
    matrix col(m, k), dz(m, cout), dcol;
    for (std::size_t bank = 0; bank < G.banks(); ++bank) {
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t p = 0; p < positions; ++p) {
          const std::size_t r = (s - s0) * positions + p;
          const std::size_t y = G.out_row(bank, p), x = G.out_col(bank, p);
          const T* src = in + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
          for (std::size_t ky = 0; ky < G.kernel; ++ky)
            std::copy_n(src + ky * G.padded_w() * G.cin, G.kernel * G.cin, col.data() + r * k + ky * G.kernel * G.cin);
          const std::size_t o = ((s * G.out_h() + y) * G.out_w() + x) * cout;
          for (std::size_t co = 0; co < cout; ++co)
            dz(r, co) = (!Relu || out[o + co] > T(0)) ? dout[o + co] : T(0);
        }
      Eigen::Map<matrix> dw(partial[c].data() + bank * k * cout, k, cout);
      dw.noalias() += col.transpose() * dz;
      Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> db(partial[c].data() + G.weight_count() + bank * cout, cout);
      db += dz.colwise().sum();
      if (!dinp) continue;
      dcol.noalias() = dz * cmap(weights + bank * k * cout, k, cout).transpose();
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t p = 0; p < positions; ++p) {
          const std::size_t r = (s - s0) * positions + p;
          const std::size_t y = G.out_row(bank, p), x = G.out_col(bank, p);
          T* dst = dinp + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
          for (std::size_t ky = 0; ky < G.kernel; ++ky) {
            T* d = dst + ky * G.padded_w() * G.cin;
            const T* src = dcol.data() + r * k + ky * G.kernel * G.cin;
            for (std::size_t j = 0; j < G.kernel * G.cin; ++j) d[j] += src[j];
          }
        }
    }
  });

  // Fixed-order reduction of the chunk partials, parallel over parameters.
  constexpr std::size_t block = 1024;
  parallel_for((grads + block - 1) / block, [&](std::size_t b) {
    const std::size_t i0 = b * block, i1 = std::min(grads, i0 + block);
    for (std::size_t c = 0; c < chunks; ++c)
      for (std::size_t i = i0; i < i1; ++i) {
        T& target = i < G.weight_count() ? dweights[i] : dbias[i - G.weight_count()];
        target += partial[c][i];
      }
  });

  if constexpr (G.pad > 0) {
    if (din)
      for (std::size_t s = 0; s < n; ++s)
        for (std::size_t y = 0; y < G.h; ++y)
          for (std::size_t j = 0; j < G.w * G.cin; ++j)
            din[(s * G.h + y) * G.w * G.cin + j] +=
                dpadded[((s * G.padded_h() + y + G.pad) * G.padded_w() + G.pad) * G.cin + j];
  }
}

}  // namespace kernels
DEEPID_NAMESPACE_END
