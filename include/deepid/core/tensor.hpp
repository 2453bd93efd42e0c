#pragma once
// Tensor types at the public API. Activations are NCHW (as NumPy and PyTorch),
// features are N x D. Kernels may pack differently inside.
#include <cstddef>
#include <string>

#include "deepid/core/config.hpp"
#include "deepid/core/detail/xtensor.hpp"

DEEPID_NAMESPACE_BEGIN

template <class T, std::size_t Rank>
using tensor = xt::xtensor<T, Rank>;

template <class T>
using batch4 = xt::xtensor<T, 4>;  // N x C x H x W

template <class T>
using matrix = xt::xtensor<T, 2>;  // N x D

template <class Shape>
std::string shape_string(const Shape& s) {
  std::string text;
  for (std::size_t i = 0; i < s.size(); ++i) text += (i ? "x" : "") + std::to_string(s[i]);
  return text;
}

DEEPID_NAMESPACE_END
