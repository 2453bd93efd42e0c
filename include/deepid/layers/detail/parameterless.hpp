#pragma once
// Shared pieces of layers that own no parameters.
#include <cstddef>
#include <string>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/layers/layer.hpp"

DEEPID_NAMESPACE_BEGIN
namespace detail {

template <class T>
struct parameterless {
  static constexpr std::size_t param_count = 0;
  struct tensor_view {
    std::string name;
    std::vector<std::size_t> shape;
  };
  static std::vector<tensor_view> parameter_tensors() { return {}; }
  static std::size_t arena_index(std::size_t, std::size_t i) { return i; }
  void init(T*, rng&) {}
  void prepare(const T*) {}
};

}  // namespace detail
DEEPID_NAMESPACE_END
