#pragma once
// Scalar reference kernels: plain loops, obviously correct, used by the tests
// to check every vectorised kernel. Same layouts as the fast kernels (NHWC).
#include <algorithm>
#include <cstddef>
#include <limits>

#include "deepid/kernels/conv_geometry.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels::reference {

// out = [relu](bias + conv(in)); weights [banks][K][Cout], bias [banks][Cout].
template <class T>
void conv_forward(const conv_geometry& g, const T* in, T* out, std::size_t n, const T* weights,
                  const T* bias, bool relu) {
  const std::size_t ho = g.out_h(), wo = g.out_w(), k = g.kernel;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < ho; ++y)
      for (std::size_t x = 0; x < wo; ++x) {
        const std::size_t bank = (y / g.region_h()) * g.grid_cols + x / g.region_w();
        const T* wb = weights + bank * g.bank_weights();
        for (std::size_t co = 0; co < g.cout; ++co) {
          T acc = bias[bank * g.cout + co];
          for (std::size_t ky = 0; ky < k; ++ky)
            for (std::size_t kx = 0; kx < k; ++kx) {
              const long iy = long(y * g.stride + ky) - long(g.pad);
              const long ix = long(x * g.stride + kx) - long(g.pad);
              if (iy < 0 || ix < 0 || iy >= long(g.h) || ix >= long(g.w)) continue;
              for (std::size_t ci = 0; ci < g.cin; ++ci)
                acc += in[((s * g.h + iy) * g.w + ix) * g.cin + ci] *
                       wb[((ky * k + kx) * g.cin + ci) * g.cout + co];
            }
          out[((s * ho + y) * wo + x) * g.cout + co] = relu ? std::max(acc, T(0)) : acc;
        }
      }
}

// Adds the gradients of conv_forward. `out` is the forward output (needed for
// the fused ReLU mask); din may be null.
template <class T>
void conv_backward(const conv_geometry& g, const T* in, const T* out, const T* dout, T* din,
                   std::size_t n, const T* weights, T* dweights, T* dbias, bool relu) {
  const std::size_t ho = g.out_h(), wo = g.out_w(), k = g.kernel;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < ho; ++y)
      for (std::size_t x = 0; x < wo; ++x) {
        const std::size_t bank = (y / g.region_h()) * g.grid_cols + x / g.region_w();
        const T* wb = weights + bank * g.bank_weights();
        T* dwb = dweights + bank * g.bank_weights();
        for (std::size_t co = 0; co < g.cout; ++co) {
          const std::size_t o = ((s * ho + y) * wo + x) * g.cout + co;
          T dz = dout[o];
          if (relu && !(out[o] > T(0))) dz = T(0);
          dbias[bank * g.cout + co] += dz;
          for (std::size_t ky = 0; ky < k; ++ky)
            for (std::size_t kx = 0; kx < k; ++kx) {
              const long iy = long(y * g.stride + ky) - long(g.pad);
              const long ix = long(x * g.stride + kx) - long(g.pad);
              if (iy < 0 || ix < 0 || iy >= long(g.h) || ix >= long(g.w)) continue;
              for (std::size_t ci = 0; ci < g.cin; ++ci) {
                const std::size_t i = ((s * g.h + iy) * g.w + ix) * g.cin + ci;
                const std::size_t wi = ((ky * k + kx) * g.cin + ci) * g.cout + co;
                dwb[wi] += dz * in[i];
                if (din) din[i] += dz * wb[wi];
              }
            }
        }
      }
}

// Max pooling, NHWC, window `size`, step `stride`, `pad` rows and columns of
// -infinity around the map; ties go to the first.
template <class T>
void max_pool_forward(std::size_t c, std::size_t h, std::size_t w, std::size_t size, std::size_t stride,
                      const T* in, T* out, std::size_t n, std::size_t pad = 0) {
  const std::size_t ho = (h + 2 * pad - size) / stride + 1, wo = (w + 2 * pad - size) / stride + 1;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < ho; ++y)
      for (std::size_t x = 0; x < wo; ++x)
        for (std::size_t ch = 0; ch < c; ++ch) {
          T best = -std::numeric_limits<T>::infinity();
          for (std::size_t dy = 0; dy < size; ++dy)
            for (std::size_t dx = 0; dx < size; ++dx) {
              const long iy = long(y * stride + dy) - long(pad), ix = long(x * stride + dx) - long(pad);
              if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(w)) continue;
              best = std::max(best, in[((s * h + std::size_t(iy)) * w + std::size_t(ix)) * c + ch]);
            }
          out[((s * ho + y) * wo + x) * c + ch] = best;
        }
}

template <class T>
void max_pool_backward(std::size_t c, std::size_t h, std::size_t w, std::size_t size, std::size_t stride,
                       const T* in, const T* dout, T* din, std::size_t n, std::size_t pad = 0) {
  const std::size_t ho = (h + 2 * pad - size) / stride + 1, wo = (w + 2 * pad - size) / stride + 1;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t y = 0; y < ho; ++y)
      for (std::size_t x = 0; x < wo; ++x)
        for (std::size_t ch = 0; ch < c; ++ch) {
          std::size_t arg = 0;
          T best = -std::numeric_limits<T>::infinity();
          for (std::size_t dy = 0; dy < size; ++dy)
            for (std::size_t dx = 0; dx < size; ++dx) {
              const long iy = long(y * stride + dy) - long(pad), ix = long(x * stride + dx) - long(pad);
              if (iy < 0 || ix < 0 || iy >= long(h) || ix >= long(w)) continue;
              const std::size_t i = ((s * h + std::size_t(iy)) * w + std::size_t(ix)) * c + ch;
              if (in[i] > best) { best = in[i]; arg = i; }
            }
          din[arg] += dout[((s * ho + y) * wo + x) * c + ch];
        }
}

// out[n][o] = [relu](bias[o] + sum_i in[n][i] * weights[i][o]).
template <class T>
void dense_forward(std::size_t in_size, std::size_t out_size, const T* in, T* out, std::size_t n,
                   const T* weights, const T* bias, bool relu) {
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t o = 0; o < out_size; ++o) {
      T acc = bias ? bias[o] : T(0);
      for (std::size_t i = 0; i < in_size; ++i) acc += in[s * in_size + i] * weights[i * out_size + o];
      out[s * out_size + o] = relu ? std::max(acc, T(0)) : acc;
    }
}

// Adds dweights[i][o] += sum_n in[n][i] dz[n][o], dbias[o] += sum_n dz[n][o]
// and din[n][i] += sum_o dz[n][o] weights[i][o]; dbias and din may be null.
template <class T>
void dense_backward(std::size_t in_size, std::size_t out_size, const T* in, const T* dz, T* din, std::size_t n,
                    const T* weights, T* dweights, T* dbias) {
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t o = 0; o < out_size; ++o) {
      const T d = dz[s * out_size + o];
      if (dbias) dbias[o] += d;
      for (std::size_t i = 0; i < in_size; ++i) {
        dweights[i * out_size + o] += in[s * in_size + i] * d;
        if (din) din[s * in_size + i] += d * weights[i * out_size + o];
      }
    }
}

}  // namespace kernels::reference
DEEPID_NAMESPACE_END
