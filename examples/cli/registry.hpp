#pragma once
// The deepid tool's named models. Each entry is type-erased behind plain
// function pointers so that only registry_deepid1.cpp and registry_deepid2.cpp
// instantiate the 16 networks; the subcommands include this light header.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <deepid/core/shape.hpp>

namespace deepid_cli {

struct layer_row {
  std::size_t index;
  std::string name;
  deepid::shape3 out_shape;
  std::size_t params;
  std::uint64_t flops;
};

struct tensor_row {
  std::string name;  // "7.weight"
  std::vector<std::size_t> shape;
};

struct forward_job {
  std::string model_name;
  std::filesystem::path weights, input, output;
};

struct model_entry {
  std::string name;         // "deepid1-39x31x3", "deepid2-47x47x1-plain", ...
  std::string description;  // one line
  deepid::shape3 input;
  std::size_t feature_dim;
  std::size_t param_count;
  std::uint64_t flops;
  std::vector<layer_row> (*layers)();
  std::vector<tensor_row> (*tensors)();  // PyTorch layout, as in the weights files
  void (*forward)(const forward_job& job);
  void (*export_seeded)(std::uint64_t seed, const std::filesystem::path& dir, const std::string& name);
};

// Each list is defined in its own translation unit.
std::vector<model_entry> deepid1_models();
std::vector<model_entry> deepid2_models();

// All models, in the order `deepid info` lists them.
const std::vector<model_entry>& all_models();

// The model called `name`; throws deepid::error naming the known models otherwise.
const model_entry& find_model(std::string_view name);

}  // namespace deepid_cli
