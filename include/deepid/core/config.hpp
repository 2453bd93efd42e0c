#pragma once
// Build settings that change layout or behaviour live in an inline namespace,
// so objects compiled with different settings cannot silently mix.

#if defined(_OPENMP)
#define DEEPID_OPENMP 1
#define DEEPID_ABI_OMP omp
#else
#define DEEPID_OPENMP 0
#define DEEPID_ABI_OMP noomp
#endif

// Floats per SIMD vector of the widest instruction set the compiler targets:
// packed weights and padded channel counts are laid out in such vectors.
// kernels/simd.hpp checks it against xsimd's own batch width.
#if defined(__AVX512F__)
#define DEEPID_SIMD_FLOATS 16
#elif defined(__AVX__)
#define DEEPID_SIMD_FLOATS 8
#elif defined(__SSE2__) || defined(__ARM_NEON)
#define DEEPID_SIMD_FLOATS 4
#else
#define DEEPID_SIMD_FLOATS 1
#endif

#define DEEPID_ABI_CONCAT_(a, b) a##_##b
#define DEEPID_ABI_CONCAT(a, b) DEEPID_ABI_CONCAT_(a, b)
#define DEEPID_ABI_SIMD DEEPID_ABI_CONCAT(simd, DEEPID_SIMD_FLOATS)
#define DEEPID_ABI_NAME DEEPID_ABI_CONCAT(DEEPID_ABI_CONCAT(v0, DEEPID_ABI_OMP), DEEPID_ABI_SIMD)

#define DEEPID_NAMESPACE_BEGIN namespace deepid { inline namespace DEEPID_ABI_NAME {
#define DEEPID_NAMESPACE_END } }

#define DEEPID_VERSION_MAJOR 0
#define DEEPID_VERSION_MINOR 1
#define DEEPID_VERSION_PATCH 0
