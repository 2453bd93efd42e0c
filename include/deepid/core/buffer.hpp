#pragma once
// Cache-line aligned storage for parameter arenas, activations and packed
// weights, so SIMD loads never straddle a line at the start of a buffer.
#include <cstddef>
#include <new>
#include <vector>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

inline constexpr std::size_t buffer_alignment = 64;

template <class T>
struct aligned_allocator {
  using value_type = T;
  aligned_allocator() = default;
  template <class U>
  constexpr aligned_allocator(const aligned_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{buffer_alignment}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{buffer_alignment}); }

  template <class U>
  bool operator==(const aligned_allocator<U>&) const noexcept { return true; }
};

template <class T>
using buffer = std::vector<T, aligned_allocator<T>>;

DEEPID_NAMESPACE_END
