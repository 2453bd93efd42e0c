#pragma once
// One parameter tensor in PyTorch layout: its name and shape. A model lists
// its parameters with it (net/model.hpp) and a weights manifest lists the
// tensors of a weights folder with it (io/weights_manifest.hpp).
#include <cstddef>
#include <string>
#include <vector>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

struct parameter_info {
  std::string name;  // "<layer index>.<weight|bias>"
  std::vector<std::size_t> shape;
  std::size_t size() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

DEEPID_NAMESPACE_END
