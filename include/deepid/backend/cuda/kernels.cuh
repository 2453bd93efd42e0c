#pragma once
// The definitions behind device_api.hpp, written once for two builds:
//  - nvcc (kernels.cu): each kernel is a __global__ loop over its index
//    space, the GEMMs are cuBLAS's strided batched ones;
//  - the host compiler with DEEPID_CUDA_EMULATE (emulated.cpp): the same
//    bodies run as loops on the CPU and the GEMMs by the definition of
//    cuBLAS's, so the index arithmetic is tested where no GPU is.
// Convolutions are im2col + GEMM: the patches of each weight bank side by
// side ([bank][sample][position][ky kx ci]), one GEMM per bank. Gradients
// that several outputs feed (col2im, pooling) are gathered by the input
// element, so no atomics are needed and the sums come out in a fixed order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "deepid/backend/cuda/device_api.hpp"
#include "deepid/core/rng.hpp"

#if defined(__CUDACC__) && !defined(DEEPID_CUDA_EMULATE)
#define DEEPID_CUDA_ON_DEVICE 1
#include <cublas_v2.h>
#include <cuda_runtime.h>
#define DEEPID_CUDA_LAMBDA __device__
#else
#define DEEPID_CUDA_ON_DEVICE 0
#define DEEPID_CUDA_LAMBDA
#endif

namespace deepid::cuda {
inline namespace api_v0 {
namespace detail {

// Samples per im2col chunk: the patches of a chunk take at most this much.
inline constexpr std::size_t chunk_bytes = std::size_t(256) << 20;

#if DEEPID_CUDA_ON_DEVICE

inline void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) throw failure(std::string("CUDA: ") + call + ": " + cudaGetErrorString(status));
}
inline void check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw failure(std::string("cuBLAS: ") + call + ": " + cublasGetStatusString(status));
}

template <class F>
__global__ void each_index_kernel(std::size_t count, F body) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) body(i);
}

// body(i) for every i < count, on the device (grid-stride loop).
template <class F>
void for_each_index(std::size_t count, F body) {
  if (count == 0) return;
  constexpr unsigned threads = 256;
  const std::size_t wanted = (count + threads - 1) / threads;
  const unsigned blocks = unsigned(std::min<std::size_t>(wanted, 65535u * 32u));
  each_index_kernel<<<blocks, threads>>>(count, body);
  check(cudaGetLastError(), "kernel launch");
}

// The process's cuBLAS handle, made on first use. It is never destroyed:
// at exit the driver may already be gone, and it frees the handle anyway.
inline cublasHandle_t blas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    return h;
  }();
  return handle;
}

inline cublasStatus_t gemm_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float* alpha,
                                   const float* a, int lda, long long sa, const float* b, int ldb, long long sb,
                                   const float* beta, float* c, int ldc, long long sc, int batch) {
  return cublasSgemmStridedBatched(blas(), ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}
inline cublasStatus_t gemm_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                   const double* alpha, const double* a, int lda, long long sa, const double* b,
                                   int ldb, long long sb, const double* beta, double* c, int ldc, long long sc,
                                   int batch) {
  return cublasDgemmStridedBatched(blas(), ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}

// Column-major C_b = alpha op(A_b) op(B_b) + beta C_b for b < batch, as cuBLAS defines it.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, std::size_t stride_a, const T* b, std::size_t ldb, std::size_t stride_b, T beta, T* c,
          std::size_t ldc, std::size_t stride_c, std::size_t batch) {
  if (m == 0 || n == 0 || batch == 0) return;
  check(gemm_batched(trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, int(m), int(n), int(k),
                     &alpha, a, int(lda), (long long)stride_a, b, int(ldb), (long long)stride_b, &beta, c, int(ldc),
                     (long long)stride_c, int(batch)),
        "gemm");
}

#else  // the CPU emulation

template <class F>
void for_each_index(std::size_t count, F body) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
  for (std::size_t i = 0; i < count; ++i) body(i);
}

template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, std::size_t stride_a, const T* b, std::size_t ldb, std::size_t stride_b, T beta, T* c,
          std::size_t ldc, std::size_t stride_c, std::size_t batch) {
  for_each_index(batch * n, [=](std::size_t item) {
    const std::size_t g = item / n, j = item % n;
    const T* ab = a + g * stride_a;
    const T* bb = b + g * stride_b;
    T* cb = c + g * stride_c;
    for (std::size_t i = 0; i < m; ++i) {
      T sum = 0;
      for (std::size_t l = 0; l < k; ++l)
        sum += (trans_a ? ab[l + i * lda] : ab[i + l * lda]) * (trans_b ? bb[j + l * ldb] : bb[l + j * ldb]);
      // beta == 0 does not read C, as in cuBLAS.
      cb[i + j * ldc] = alpha * sum + (beta == T(0) ? T(0) : beta * cb[i + j * ldc]);
    }
  });
}

#endif

// Output position (oy, ox) as (bank, position within the bank's region).
struct bank_position {
  std::size_t bank, position;
};
constexpr bank_position bank_of(const conv_shape& g, std::size_t oy, std::size_t ox) {
  const std::size_t rh = g.region_h(), rw = g.region_w();
  return {(oy / rh) * g.grid_cols + ox / rw, (oy % rh) * rw + ox % rw};
}

// The patches of samples [first, first + count) in [bank][sample][position][k] order.
template <class T>
void im2col(const conv_shape& g, const T* in, std::size_t first, std::size_t count, T* cols) {
  const std::size_t K = g.patch(), P = g.region_positions();
  for_each_index(g.banks() * count * P * K, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::size_t k = i % K, p = (i / K) % P, s = (i / (K * P)) % count, bank = i / (K * P * count);
    const std::size_t ci = k % g.cin, kx = (k / g.cin) % g.kernel, ky = k / (g.cin * g.kernel);
    const std::size_t oy = (bank / g.grid_cols) * g.region_h() + p / g.region_w();
    const std::size_t ox = (bank % g.grid_cols) * g.region_w() + p % g.region_w();
    const long long iy = (long long)(oy * g.stride + ky) - (long long)g.pad;
    const long long ix = (long long)(ox * g.stride + kx) - (long long)g.pad;
    const bool inside = iy >= 0 && ix >= 0 && iy < (long long)g.h && ix < (long long)g.w;
    cols[i] = inside ? in[(((first + s) * g.h + std::size_t(iy)) * g.w + std::size_t(ix)) * g.cin + ci] : T(0);
  });
}

// Samples per chunk when each takes `per_sample` values of scratch.
template <class T>
std::size_t chunk_samples(std::size_t n, std::size_t per_sample) {
  const std::size_t fit = chunk_bytes / std::max<std::size_t>(1, per_sample * sizeof(T));
  return std::max<std::size_t>(1, std::min(n, fit));
}

}  // namespace detail

#if DEEPID_CUDA_ON_DEVICE

void* allocate(std::size_t bytes) {
  void* p = nullptr;
  if (bytes > 0) detail::check(cudaMalloc(&p, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
  return p;
}
void release(void* p) noexcept {
  if (p) cudaFree(p);
}
void copy_to_device(void* device, const void* host, std::size_t bytes) {
  if (bytes) detail::check(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device");
}
void copy_to_host(void* host, const void* device, std::size_t bytes) {
  if (bytes) detail::check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
}
void copy_on_device(void* to, const void* from, std::size_t bytes) {
  if (bytes) detail::check(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy on the device");
}
void fill_zero(void* device, std::size_t bytes) {
  if (bytes) detail::check(cudaMemset(device, 0, bytes), "cudaMemset");
}
void synchronize() { detail::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }
int device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}
std::string device_description() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("no CUDA device (") + cudaGetErrorString(status) + ")";
  cudaDeviceProp prop{};
  if (count == 0 || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "no CUDA device";
  return std::string(prop.name) + ", " + std::to_string(prop.totalGlobalMem >> 20) + " MiB, compute capability " +
         std::to_string(prop.major) + "." + std::to_string(prop.minor);
}
double peak_fp32_flops() {
  int sms = 0, khz = 0, major = 0, minor = 0;
  if (device_count() == 0 || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0) != cudaSuccess)
    return 0;
  // FP32 lanes per multiprocessor: 64 on Volta, Turing and A100, 128 since.
  int lanes = 0;
  if (major == 7 || (major == 8 && minor == 0)) lanes = 64;
  else if (major == 8 || major == 9 || major == 10 || major == 12) lanes = 128;
  return double(sms) * double(khz) * 1e3 * lanes * 2;
}
bool emulated() { return false; }

#else

void* allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = std::malloc(bytes);
  if (!p) throw failure("emulated device: out of memory allocating " + std::to_string(bytes) + " bytes");
  return p;
}
void release(void* p) noexcept { std::free(p); }
void copy_to_device(void* device, const void* host, std::size_t bytes) {
  if (bytes) std::memcpy(device, host, bytes);
}
void copy_to_host(void* host, const void* device, std::size_t bytes) {
  if (bytes) std::memcpy(host, device, bytes);
}
void copy_on_device(void* to, const void* from, std::size_t bytes) {
  if (bytes) std::memmove(to, from, bytes);
}
void fill_zero(void* device, std::size_t bytes) {
  if (bytes) std::memset(device, 0, bytes);
}
void synchronize() {}
int device_count() { return 1; }
std::string device_description() { return "the CPU, emulating the CUDA kernels"; }
double peak_fp32_flops() { return 0; }
bool emulated() { return true; }

#endif

template <class T>
void ops<T>::nchw_to_nhwc(const T* in, T* out, std::size_t n, std::size_t c, std::size_t hw) {
  detail::for_each_index(n * c * hw, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::size_t ch = i % c, pixel = (i / c) % hw, b = i / (c * hw);
    out[i] = in[(b * c + ch) * hw + pixel];
  });
}

template <class T>
void ops<T>::nhwc_to_nchw(const T* in, T* out, std::size_t n, std::size_t c, std::size_t hw) {
  detail::for_each_index(n * c * hw, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::size_t pixel = i % hw, ch = (i / hw) % c, b = i / (c * hw);
    out[i] = in[(b * hw + pixel) * c + ch];
  });
}

template <class T>
void ops<T>::fill(T* to, std::size_t count, T value) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { to[i] = value; });
}

template <class T>
void ops<T>::add(const T* from, T* to, std::size_t count) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { to[i] += from[i]; });
}

template <class T>
void ops<T>::conv_forward(const conv_shape& g, bool relu, const T* in, T* out, std::size_t n, const T* params,
                          scratch& work) {
  const std::size_t K = g.patch(), P = g.region_positions(), B = g.banks(), cout = g.cout;
  const std::size_t positions = g.out_h() * g.out_w();
  const std::size_t chunk = detail::chunk_samples<T>(n, positions * (K + cout));
  T* cols = static_cast<T*>(work.reserve(chunk * positions * (K + cout) * sizeof(T)));
  T* products = cols + chunk * positions * K;
  const T* bias = params + g.weight_count();
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = std::min(chunk, n - first);
    detail::im2col(g, in, first, count, cols);
    detail::gemm<T>(false, false, cout, count * P, K, T(1), params, cout, g.bank_weights(), cols, K, count * P * K,
                    T(0), products, cout, count * P * cout, B);
    const std::size_t out_w = g.out_w();
    detail::for_each_index(count * positions * cout, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
      const std::size_t co = i % cout, pos = (i / cout) % positions, s = i / (cout * positions);
      const auto at = detail::bank_of(g, pos / out_w, pos % out_w);
      T v = products[((at.bank * count + s) * P + at.position) * cout + co] + bias[at.bank * cout + co];
      if (relu && !(v > T(0))) v = T(0);
      out[((first + s) * positions + pos) * cout + co] = v;
    });
  }
}

template <class T>
void ops<T>::conv_backward(const conv_shape& g, bool relu, const T* in, const T* out, const T* dout, T* din,
                           std::size_t n, const T* params, T* dparams, scratch& work) {
  const std::size_t K = g.patch(), P = g.region_positions(), B = g.banks(), cout = g.cout;
  const std::size_t positions = g.out_h() * g.out_w(), out_w = g.out_w();
  const std::size_t per_sample = positions * (2 * K + cout + 1);
  const std::size_t chunk = detail::chunk_samples<T>(n, per_sample);
  T* cols = static_cast<T*>(work.reserve(chunk * per_sample * sizeof(T)));
  T* dz = cols + chunk * positions * K;
  T* dcols = dz + chunk * positions * cout;
  T* ones = dcols + chunk * positions * K;  // sums the rows of dz by a GEMM
  detail::for_each_index(chunk * positions, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { ones[i] = T(1); });
  T* dbias = dparams + g.weight_count();
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = std::min(chunk, n - first);
    // dLoss/d(pre-activation), in the banks' order.
    detail::for_each_index(B * count * P * cout, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
      const std::size_t co = i % cout, p = (i / cout) % P, s = (i / (cout * P)) % count, bank = i / (cout * P * count);
      const std::size_t oy = (bank / g.grid_cols) * g.region_h() + p / g.region_w();
      const std::size_t ox = (bank % g.grid_cols) * g.region_w() + p % g.region_w();
      const std::size_t at = ((first + s) * positions + oy * out_w + ox) * cout + co;
      dz[i] = relu && !(out[at] > T(0)) ? T(0) : dout[at];
    });
    detail::im2col(g, in, first, count, cols);
    // dW_bank += dz_bank^T cols_bank (row-major [k][cout]).
    detail::gemm<T>(false, true, cout, K, count * P, T(1), dz, cout, count * P * cout, cols, K, count * P * K, T(1),
                    dparams, cout, g.bank_weights(), B);
    // dbias_bank += dz_bank^T 1.
    detail::gemm<T>(false, false, cout, 1, count * P, T(1), dz, cout, count * P * cout, ones, count * P, 0, T(1), dbias,
                    cout, cout, B);
    if (!din) continue;
    detail::gemm<T>(true, false, K, count * P, cout, T(1), params, cout, g.bank_weights(), dz, cout, count * P * cout,
                    T(0), dcols, K, count * P * K, B);
    // col2im: each input value sums the patch entries that read it.
    detail::for_each_index(count * g.h * g.w * g.cin, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
      const std::size_t ci = i % g.cin, ix = (i / g.cin) % g.w, iy = (i / (g.cin * g.w)) % g.h;
      const std::size_t s = i / (g.cin * g.w * g.h);
      T sum = 0;
      for (std::size_t ky = 0; ky < g.kernel; ++ky) {
        const long long ty = (long long)(iy + g.pad) - (long long)ky;
        if (ty < 0 || ty % (long long)g.stride != 0 || std::size_t(ty) / g.stride >= g.out_h()) continue;
        const std::size_t oy = std::size_t(ty) / g.stride;
        for (std::size_t kx = 0; kx < g.kernel; ++kx) {
          const long long tx = (long long)(ix + g.pad) - (long long)kx;
          if (tx < 0 || tx % (long long)g.stride != 0 || std::size_t(tx) / g.stride >= out_w) continue;
          const auto at = detail::bank_of(g, oy, std::size_t(tx) / g.stride);
          sum += dcols[((at.bank * count + s) * P + at.position) * K + (ky * g.kernel + kx) * g.cin + ci];
        }
      }
      din[(first * g.h * g.w) * g.cin + i] += sum;
    });
  }
}

template <class T>
void ops<T>::pool_forward(const pool_shape& p, const T* in, T* out, std::size_t n) {
  const std::size_t oh = p.out_h(), ow = p.out_w();
  detail::for_each_index(n * oh * ow * p.c, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::size_t c = i % p.c, x = (i / p.c) % ow, y = (i / (p.c * ow)) % oh, s = i / (p.c * ow * oh);
    const std::size_t r0 = y * p.stride > p.pad ? y * p.stride - p.pad : 0;
    const std::size_t r1 = std::min(p.h, y * p.stride + p.size - p.pad);
    const std::size_t q0 = x * p.stride > p.pad ? x * p.stride - p.pad : 0;
    const std::size_t q1 = std::min(p.w, x * p.stride + p.size - p.pad);
    T best = in[((s * p.h + r0) * p.w + q0) * p.c + c];
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t q = q0; q < q1; ++q) {
        const T v = in[((s * p.h + r) * p.w + q) * p.c + c];
        best = v > best ? v : best;
      }
    out[i] = best;
  });
}

template <class T>
void ops<T>::pool_backward(const pool_shape& p, const T* in, const T* dout, T* din, std::size_t n) {
  const std::size_t oh = p.out_h(), ow = p.out_w();
  detail::for_each_index(n * p.h * p.w * p.c, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::size_t c = i % p.c, ix = (i / p.c) % p.w, iy = (i / (p.c * p.w)) % p.h, s = i / (p.c * p.w * p.h);
    // Windows y with y stride - pad <= iy < y stride - pad + size.
    const std::size_t y_last = std::min(oh - 1, (iy + p.pad) / p.stride);
    const std::size_t x_last = std::min(ow - 1, (ix + p.pad) / p.stride);
    const std::size_t y_first = iy + p.pad + 1 > p.size ? (iy + p.pad + 1 - p.size + p.stride - 1) / p.stride : 0;
    const std::size_t x_first = ix + p.pad + 1 > p.size ? (ix + p.pad + 1 - p.size + p.stride - 1) / p.stride : 0;
    T sum = 0;
    for (std::size_t y = y_first; y <= y_last; ++y)
      for (std::size_t x = x_first; x <= x_last; ++x) {
        const std::size_t r0 = y * p.stride > p.pad ? y * p.stride - p.pad : 0;
        const std::size_t r1 = std::min(p.h, y * p.stride + p.size - p.pad);
        const std::size_t q0 = x * p.stride > p.pad ? x * p.stride - p.pad : 0;
        const std::size_t q1 = std::min(p.w, x * p.stride + p.size - p.pad);
        std::size_t top_r = r0, top_q = q0;
        T top = in[((s * p.h + r0) * p.w + q0) * p.c + c];
        for (std::size_t r = r0; r < r1; ++r)
          for (std::size_t q = q0; q < q1; ++q) {
            const T v = in[((s * p.h + r) * p.w + q) * p.c + c];
            if (v > top) top = v, top_r = r, top_q = q;
          }
        if (top_r == iy && top_q == ix) sum += dout[((s * oh + y) * ow + x) * p.c + c];
      }
    din[i] += sum;
  });
}

template <class T>
void ops<T>::relu_forward(const T* in, T* out, std::size_t count) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { out[i] = in[i] > T(0) ? in[i] : T(0); });
}

template <class T>
void ops<T>::relu_backward(const T* out, const T* dout, T* din, std::size_t count) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    if (out[i] > T(0)) din[i] += dout[i];
  });
}

template <class T>
void ops<T>::relu_mask(const T* out, const T* dout, T* dz, std::size_t count) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { dz[i] = out[i] > T(0) ? dout[i] : T(0); });
}

template <class T>
void ops<T>::dense_bias(const T* bias, T* out, std::size_t n, std::size_t units) {
  detail::for_each_index(n * units, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { out[i] = bias[i % units]; });
}

template <class T>
void ops<T>::dense_accumulate(const T* in, std::size_t inputs, const T* weights, T* out, std::size_t n,
                              std::size_t units) {
  detail::gemm<T>(false, false, units, n, inputs, T(1), weights, units, 0, in, inputs, 0, T(1), out, units, 0, 1);
}

template <class T>
void ops<T>::dense_backward(const T* in, std::size_t inputs, const T* dz, T* din, std::size_t n, std::size_t units,
                            const T* weights, T* dweights, T* dbias, const T* ones) {
  detail::gemm<T>(false, true, units, inputs, n, T(1), dz, units, 0, in, inputs, 0, T(1), dweights, units, 0, 1);
  if (dbias) detail::gemm<T>(false, false, units, 1, n, T(1), dz, units, 0, ones, n, 0, T(1), dbias, units, 0, 1);
  if (din) detail::gemm<T>(true, false, inputs, n, units, T(1), weights, units, 0, dz, units, 0, T(1), din, inputs, 0, 1);
}

template <class T>
void ops<T>::concat_forward(const T* in, std::size_t channels, T* out, std::size_t out_channels, std::size_t offset,
                            std::size_t pixels) {
  detail::for_each_index(pixels * channels, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    out[(i / channels) * out_channels + offset + i % channels] = in[i];
  });
}

template <class T>
void ops<T>::concat_backward(const T* dout, std::size_t out_channels, std::size_t offset, T* din,
                             std::size_t channels, std::size_t pixels) {
  detail::for_each_index(pixels * channels, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    din[i] += dout[(i / channels) * out_channels + offset + i % channels];
  });
}

template <class T>
void ops<T>::dropout_forward(const T* in, T* out, T* mask, std::size_t count, std::size_t size, double rate,
                             std::uint64_t call, const std::uint64_t* samples) {
  const T scale = T(1.0 / (1.0 - rate));
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    const std::uint64_t index = samples ? samples[i / size] * size + i % size : i;
    const double u = double(deepid::mix64(call + index) >> 11) * 0x1.0p-53;
    mask[i] = u < rate ? T(0) : scale;
    out[i] = in[i] * mask[i];
  });
}

template <class T>
void ops<T>::dropout_backward(const T* dout, const T* mask, T* din, std::size_t count) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) { din[i] += dout[i] * mask[i]; });
}

template <class T>
void ops<T>::softmax_cross_entropy(const T* logits, const std::int32_t* labels, std::size_t n, std::size_t classes,
                                   double count, T* dlogits, double* row_loss, unsigned char* hits) {
  detail::for_each_index(n, [=] DEEPID_CUDA_LAMBDA(std::size_t s) {
    const T* z = logits + s * classes;
    T* d = dlogits + s * classes;
    T top = z[0];
    std::size_t first = 0;
    for (std::size_t k = 1; k < classes; ++k)
      if (z[k] > top) top = z[k], first = k;
    double total = 0;
    for (std::size_t k = 0; k < classes; ++k) {
      const T e = T(::exp(double(z[k] - top)));
      total += double(e);
      d[k] = e;
    }
    const std::size_t label = std::size_t(labels[s]);
    row_loss[s] = ::log(total) - double(z[label] - top);
    hits[s] = first == label;
    const T scale = T(1.0 / (total * count));
    for (std::size_t k = 0; k < classes; ++k) d[k] *= scale;
    d[label] -= T(1.0 / count);
  });
}

namespace detail {
// |fi - fj|_2 squared, |fi - fj|_1, or the cosine's three dot products.
template <class T>
DEEPID_CUDA_LAMBDA inline double squared_distance(const T* fi, const T* fj, std::size_t dim) {
  double d2 = 0;
  for (std::size_t k = 0; k < dim; ++k) d2 += double(fi[k] - fj[k]) * double(fi[k] - fj[k]);
  return d2;
}
template <class T>
DEEPID_CUDA_LAMBDA inline double l1_distance(const T* fi, const T* fj, std::size_t dim) {
  double d = 0;
  for (std::size_t k = 0; k < dim; ++k) d += ::fabs(double(fi[k] - fj[k]));
  return d;
}
struct cosine_terms {
  double c, na, nb;  // similarity and the two norms (each at least 1e-12)
};
template <class T>
DEEPID_CUDA_LAMBDA inline cosine_terms cosine_of(const T* fi, const T* fj, std::size_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t k = 0; k < dim; ++k)
    ab += double(fi[k]) * fj[k], aa += double(fi[k]) * fi[k], bb += double(fj[k]) * fj[k];
  const double na = ::sqrt(aa > 1e-24 ? aa : 1e-24), nb = ::sqrt(bb > 1e-24 ? bb : 1e-24);
  return {ab / (na * nb), na, nb};
}
}  // namespace detail

template <class T>
void ops<T>::pair_measures(pair_loss kind, const T* f, std::size_t m, std::size_t dim, double* measures) {
  detail::for_each_index(m, [=] DEEPID_CUDA_LAMBDA(std::size_t k) {
    const T* fi = f + k * dim;
    const T* fj = f + (m + k) * dim;
    measures[k] = kind == pair_loss::l1       ? detail::l1_distance(fi, fj, dim)
                  : kind == pair_loss::cosine ? detail::cosine_of(fi, fj, dim).c
                                              : ::sqrt(detail::squared_distance(fi, fj, dim));
  });
}

template <class T>
void ops<T>::pair_losses(pair_loss kind, const T* f, std::size_t m, std::size_t dim, const unsigned char* same,
                         const double* margins, double cos_w, double cos_b, T* g, double* loss, double* dw,
                         double* db) {
  detail::for_each_index(m, [=] DEEPID_CUDA_LAMBDA(std::size_t k) {
    const T* fi = f + k * dim;
    const T* fj = f + (m + k) * dim;
    T* gi = g + k * dim;
    T* gj = g + (m + k) * dim;
    const bool is_same = same[k] != 0;
    const double margin = margins[k];
    dw[k] = db[k] = 0;
    if (kind == pair_loss::cosine) {
      const detail::cosine_terms t = detail::cosine_of(fi, fj, dim);
      const double s = 1.0 / (1.0 + ::exp(-(cos_w * t.c + cos_b))), y = is_same ? 1.0 : 0.0;
      const double dz = -(y - s) * s * (1 - s);
      dw[k] = dz * t.c, db[k] = dz;
      const double gc = dz * cos_w;
      for (std::size_t i = 0; i < dim; ++i) {
        gi[i] = T(gc * (double(fj[i]) / (t.na * t.nb) - t.c * double(fi[i]) / (t.na * t.na)));
        gj[i] = T(gc * (double(fi[i]) / (t.na * t.nb) - t.c * double(fj[i]) / (t.nb * t.nb)));
      }
      loss[k] = 0.5 * (y - s) * (y - s);
      return;
    }
    // The pairs that add nothing: a zero gradient.
    double scale = 0;  // g_i = scale * (fi - fj) (L2 forms) or scale * sign(fi - fj) (l1)
    if (kind == pair_loss::l1) {
      const double d = detail::l1_distance(fi, fj, dim);
      const bool active = is_same || d < margin;
      scale = active ? (is_same ? 1.0 : -1.0) : 0.0;
      loss[k] = !active ? 0.0 : is_same ? d : margin - d;
    } else {
      const double d2 = detail::squared_distance(fi, fj, dim), d = ::sqrt(d2);
      if (is_same) {
        scale = kind == pair_loss::l2_neg ? 0.0 : 1.0;
        loss[k] = kind == pair_loss::l2_neg ? 0.0 : 0.5 * d2;
      } else {
        const bool active = kind != pair_loss::l2_pos && d < margin;
        scale = active ? -(margin - d) / (d > 1e-12 ? d : 1e-12) : 0.0;
        loss[k] = active ? 0.5 * (margin - d) * (margin - d) : 0.0;
      }
    }
    for (std::size_t i = 0; i < dim; ++i) {
      const T diff = fi[i] - fj[i];
      T v;
      if (kind == pair_loss::l1) v = T(scale * (diff > T(0) ? 1.0 : diff < T(0) ? -1.0 : 0.0));
      else if (kind != pair_loss::l2_neg && is_same) v = diff;  // the same pair's gradient is fi - fj exactly
      else v = T(scale * double(diff));
      gi[i] = v, gj[i] = -v;
    }
  });
}

template <class T>
void ops<T>::joint_gradient(const T* dident, const T* gv, T* out, std::size_t count, double w, double scale) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    out[i] = T(w * (2 * double(dident[i]) + scale * double(gv[i])));
  });
}

template <class T>
void ops<T>::sgd_step(T* weights, T* velocity, const T* gradients, std::size_t count, T momentum, T lr, T decay) {
  detail::for_each_index(count, [=] DEEPID_CUDA_LAMBDA(std::size_t i) {
    velocity[i] = momentum * velocity[i] - lr * (gradients[i] + decay * weights[i]);
    weights[i] += velocity[i];
  });
}

template struct ops<float>;
template struct ops<double>;

}  // namespace api_v0
}  // namespace deepid::cuda
