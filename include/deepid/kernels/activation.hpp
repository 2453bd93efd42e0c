#pragma once
// Element-wise kernels: ReLU and its gradient, vectorised.
#include <cstddef>

#include "deepid/core/config.hpp"
#include "deepid/kernels/detail/xsimd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class T>
void relu_forward(const T* in, T* out, std::size_t count) {
  using vec = xsimd::batch<T>;
  const std::size_t end = count / vec::size * vec::size;
  for (std::size_t i = 0; i < end; i += vec::size)
    xsimd::max(vec::load_unaligned(in + i), vec(T(0))).store_unaligned(out + i);
  for (std::size_t i = end; i < count; ++i) out[i] = in[i] > T(0) ? in[i] : T(0);
}

// din += dout where out > 0.
template <class T>
void relu_backward(const T* out, const T* dout, T* din, std::size_t count) {
  using vec = xsimd::batch<T>;
  const std::size_t end = count / vec::size * vec::size;
  for (std::size_t i = 0; i < end; i += vec::size) {
    const auto mask = vec::load_unaligned(out + i) > vec(T(0));
    const vec d = xsimd::select(mask, vec::load_unaligned(dout + i), vec(T(0)));
    (vec::load_unaligned(din + i) + d).store_unaligned(din + i);
  }
  for (std::size_t i = end; i < count; ++i)
    if (out[i] > T(0)) din[i] += dout[i];
}

}  // namespace kernels
DEEPID_NAMESPACE_END
