#pragma once
// Static work splitting: item i always goes to the same place in the loop
// order, so results never depend on the thread count.
#include <cstddef>

#include "deepid/core/threads.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class F>
void parallel_for(std::size_t count, F&& body) {
#if DEEPID_OPENMP
  const int threads = static_cast<int>(count < std::size_t(num_threads()) ? count : num_threads());
  if (threads > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(count); ++i) body(std::size_t(i));
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) body(i);
}

}  // namespace kernels
DEEPID_NAMESPACE_END
