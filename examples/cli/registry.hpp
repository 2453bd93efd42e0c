#pragma once
// The deepid tool's named models. Each entry is type-erased behind plain
// function pointers so that only the registry_*.cpp translation units
// instantiate the networks; the subcommands include this light header.
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
  std::string head;    // empty on the main path
  std::size_t branch;  // inception branch, 0 outside modules
};

struct tensor_row {
  std::string name;  // "7.weight"
  std::vector<std::size_t> shape;
};

// One output of a model: a head or the main output (the last one).
struct output_row {
  std::string name;
  deepid::shape3 shape;
};

struct forward_job {
  std::string model_name;
  std::filesystem::path weights, input, output;
  std::string head;  // an output's name, "all", or empty: the main output
};

struct model_entry {
  std::string name;         // "deepid1-39x31x3", "deepid2-47x47x1-plain", ...
  std::string description;  // one line
  deepid::shape3 input;
  std::size_t feature_dim;
  std::size_t param_count;      // every layer, heads included
  std::uint64_t flops;
  std::size_t feature_params;   // the main path only (what feature extraction runs)
  std::uint64_t feature_flops;
  std::vector<output_row> outputs;  // heads first, the main output last
  std::vector<layer_row> (*layers)();
  std::vector<tensor_row> (*tensors)();  // PyTorch layout, as in the weights files
  void (*forward)(const forward_job& job);
  void (*export_seeded)(std::uint64_t seed, const std::filesystem::path& dir, const std::string& name);
};

// Each list is defined in its own translation unit.
std::vector<model_entry> deepid1_models();
std::vector<model_entry> deepid2_models();
std::vector<model_entry> deepid2plus_models();
std::vector<model_entry> deepid3_models();

// All models, in the order `deepid info` lists them.
const std::vector<model_entry>& all_models();

// The model called `name`; throws deepid::error naming the known models otherwise.
const model_entry& find_model(std::string_view name);

}  // namespace deepid_cli
