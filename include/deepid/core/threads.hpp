#pragma once
// The one thread-count control. Kernels parallelise across samples and
// regions, never inside one tiny map; results do not depend on the count.
#include <algorithm>

#include "deepid/core/config.hpp"

#if DEEPID_OPENMP
#include <omp.h>
#endif

DEEPID_NAMESPACE_BEGIN

namespace detail {
inline int& thread_setting() {
  static int threads = 0;  // 0: not set, use OpenMP's default
  return threads;
}
}  // namespace detail

// Sets the number of threads deepid's kernels use (1 when built without OpenMP).
inline void set_num_threads(int n) { detail::thread_setting() = std::max(1, n); }

inline int num_threads() {
#if DEEPID_OPENMP
  const int set = detail::thread_setting();
  return set > 0 ? set : omp_get_max_threads();
#else
  return 1;
#endif
}

DEEPID_NAMESPACE_END
