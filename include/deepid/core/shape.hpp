#pragma once
// Shapes of one sample's activation: channels x rows x columns (C x H x W).
// The batch size is never part of a shape: it is a run-time value.
#include <cstddef>
#include <string>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

struct shape3 {
  std::size_t c = 0, h = 0, w = 0;

  constexpr std::size_t size() const { return c * h * w; }
  constexpr bool operator==(const shape3&) const = default;

  std::string str() const {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  }
};

// The input of a patch net: C channels (3 RGB, 1 gray), H rows, W columns.
template <std::size_t C, std::size_t H, std::size_t W>
struct patch_shape {
  static_assert(C > 0 && H > 0 && W > 0, "patch_shape: channels, rows and columns must be positive");
  static constexpr shape3 value{C, H, W};
};

DEEPID_NAMESPACE_END
