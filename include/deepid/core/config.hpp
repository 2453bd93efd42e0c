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

#define DEEPID_ABI_CONCAT_(a, b) a##_##b
#define DEEPID_ABI_CONCAT(a, b) DEEPID_ABI_CONCAT_(a, b)
#define DEEPID_ABI_NAME DEEPID_ABI_CONCAT(v0, DEEPID_ABI_OMP)

#define DEEPID_NAMESPACE_BEGIN namespace deepid { inline namespace DEEPID_ABI_NAME {
#define DEEPID_NAMESPACE_END } }

#define DEEPID_VERSION_MAJOR 0
#define DEEPID_VERSION_MINOR 1
#define DEEPID_VERSION_PATCH 0
