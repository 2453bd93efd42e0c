#pragma once
// Feature files: an N x D float32 .npy (one face per row) and, beside it, the
// index of image names, one per line, in row order: features.npy +
// features.names.txt. NumPy reads the matrix as is.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/npy.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

struct feature_file {
  matrix<float> features;          // N x D
  std::vector<std::string> names;  // N image names
};

inline std::filesystem::path feature_names_path(const std::filesystem::path& npy) {
  auto p = npy;
  p.replace_extension(".names.txt");
  return p;
}

inline void save_features(const std::filesystem::path& npy, const matrix<float>& features,
                          const std::vector<std::string>& names) {
  if (names.size() != features.shape()[0])
    throw error(npy.string() + ": " + std::to_string(names.size()) + " names for " +
                std::to_string(features.shape()[0]) + " feature rows");
  std::string text;
  for (const auto& n : names) {
    if (n.find('\n') != std::string::npos) throw error(npy.string() + ": an image name contains a newline");
    text += n + "\n";
  }
  write_npy(npy, features);
  atomic_file index(feature_names_path(npy));
  index.write(text);
  index.commit();
}

inline feature_file load_features(const std::filesystem::path& npy) {
  feature_file f;
  f.features = read_npy_tensor<float, 2>(npy, npy_expect{std::nullopt, true});
  const auto index = feature_names_path(npy);
  std::ifstream in(index);
  if (!in) throw error(index.string() + ": cannot open the image-name index of " + npy.string());
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    f.names.push_back(line);
  }
  if (f.names.size() != f.features.shape()[0])
    throw error(index.string() + ": lists " + std::to_string(f.names.size()) + " names but " + npy.string() + " has " +
                std::to_string(f.features.shape()[0]) + " rows");
  return f;
}

}  // namespace io
DEEPID_NAMESPACE_END
