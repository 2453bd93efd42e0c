#pragma once
// Small SIMD tools shared by the register-tiled kernels: compile-time
// unrolling (so tile accumulators stay in registers and offsets fold into
// addressing), the register budget of the target, and stores/loads of the
// first Count lanes of a vector (masked on AVX-512, through a buffer
// elsewhere) for channel counts that are not a multiple of the width.
#include <cstddef>
#include <type_traits>
#include <utility>

#include "deepid/core/config.hpp"
#include "deepid/kernels/detail/xsimd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class T>
inline constexpr std::size_t simd_width = xsimd::batch<T>::size;
static_assert(simd_width<float> == DEEPID_SIMD_FLOATS,
              "deepid: xsimd's float batch width differs from DEEPID_SIMD_FLOATS (core/config.hpp), "
              "which names the inline namespace; teach config.hpp this instruction set");

// Vector registers a kernel may plan for (AVX-512 has 32, SSE/AVX 16).
inline constexpr std::size_t simd_registers =
    std::is_base_of_v<xsimd::avx512f, xsimd::default_arch> ? 32 : 16;

template <class T>
constexpr std::size_t padded_channels(std::size_t c) {
  return (c + simd_width<T> - 1) / simd_width<T> * simd_width<T>;
}

namespace detail {

// Calls f(std::integral_constant<std::size_t, I>) for I = 0 .. N-1, unrolled.
template <std::size_t N, class F>
[[gnu::always_inline]] inline void unroll(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
}

// Makes a pointer opaque to the optimiser. Tile loops read overlapping
// receptive fields; without this GCC rotates the overlapping scalars through
// the stack across iterations (predictive commoning) and spills accumulators.
template <class P>
[[gnu::always_inline]] inline void opaque(P*& p) {
#if defined(__GNUC__)
  asm("" : "+r"(p));
#endif
}

// A vector the compiler must hold in a register. In a register-tiled
// product, without this GCC folds each load of the shared operand into every
// FMA that uses it (one load per row of the tile instead of one), and the
// loads, not the FMAs, set the pace.
template <class T>
[[gnu::always_inline]] inline xsimd::batch<T> in_register(xsimd::batch<T> v) {
  auto r = static_cast<typename xsimd::batch<T>::register_type>(v);
#if defined(__GNUC__)
  asm("" : "+v"(r));
#endif
  return r;
}

// Stores / loads lanes [0, Count) of a vector; the rest of memory is untouched.
template <std::size_t Count, class T>
[[gnu::always_inline]] inline void store_first(const xsimd::batch<T>& v, T* p) {
  constexpr std::size_t width = simd_width<T>;
  static_assert(Count >= 1 && Count <= width);
  if constexpr (Count == width) {
    v.store_unaligned(p);
#if defined(__AVX512F__)
  } else if constexpr (std::is_same_v<T, float> && width == 16) {
    _mm512_mask_storeu_ps(p, __mmask16((1u << Count) - 1), v);
  } else if constexpr (std::is_same_v<T, double> && width == 8) {
    _mm512_mask_storeu_pd(p, __mmask8((1u << Count) - 1), v);
#endif
  } else {
    alignas(64) T tmp[width];
    v.store_aligned(tmp);
    for (std::size_t i = 0; i < Count; ++i) p[i] = tmp[i];
  }
}

template <std::size_t Count, class T>
[[gnu::always_inline]] inline xsimd::batch<T> load_first(const T* p) {
  constexpr std::size_t width = simd_width<T>;
  static_assert(Count >= 1 && Count <= width);
  if constexpr (Count == width) {
    return xsimd::batch<T>::load_unaligned(p);
#if defined(__AVX512F__)
  } else if constexpr (std::is_same_v<T, float> && width == 16) {
    return _mm512_maskz_loadu_ps(__mmask16((1u << Count) - 1), p);
  } else if constexpr (std::is_same_v<T, double> && width == 8) {
    return _mm512_maskz_loadu_pd(__mmask8((1u << Count) - 1), p);
#endif
  } else {
    alignas(64) T tmp[width] = {};
    for (std::size_t i = 0; i < Count; ++i) tmp[i] = p[i];
    return xsimd::batch<T>::load_aligned(tmp);
  }
}

}  // namespace detail
}  // namespace kernels
DEEPID_NAMESPACE_END
