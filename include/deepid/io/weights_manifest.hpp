#pragma once
// Interop weights folders: one NumPy file per parameter tensor,
// <dir>/<name>.npy in PyTorch layout (names "<layer>.weight", "<layer>.bias"
// as in the layer table), plus a small manifest <dir>/model.txt naming the
// model and listing the tensors. docs/weights.md gives every layout.
//
// This header knows the folder and its manifest; net/weights.hpp exports and
// imports a model's weights through them.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/parameter_info.hpp"
#include "deepid/io/checksum.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/io/npy.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

inline constexpr std::string_view weights_manifest_file = "model.txt";
inline constexpr std::string_view weights_format = "deepid-weights 1";

struct weights_manifest {
  std::string model;                    // registry name, e.g. "deepid1-39x31x3"
  std::string dtype;                    // "float32" or "float64"
  std::vector<parameter_info> tensors;  // in model order
  // FNV-1a of each tensor's .npy file as exported; manifests written by hand
  // or by older versions may leave it out.
  std::map<std::string, std::uint64_t> checksums;
};

inline std::filesystem::path weights_file(const std::filesystem::path& dir, const std::string& tensor) {
  return dir / (tensor + ".npy");
}

inline std::string manifest_text(const weights_manifest& m) {
  std::size_t total = 0;
  for (const auto& t : m.tensors) total += t.size();
  std::string text = "# deepid interop weights: <name>.npy per tensor, PyTorch layout (see docs/weights.md)\n";
  text += "format " + std::string(weights_format) + "\n";
  text += "model " + m.model + "\n";
  text += "dtype " + m.dtype + "\n";
  text += "parameters " + std::to_string(total) + "\n";
  for (const auto& t : m.tensors) {
    text += "tensor " + t.name + " " + shape_text(t.shape);
    if (const auto it = m.checksums.find(t.name); it != m.checksums.end()) text += " fnv1a=" + checksum_text(it->second);
    text += "\n";
  }
  return text;
}

// Parses <dir>/model.txt; errors name the file and the line.
inline weights_manifest read_weights_manifest(const std::filesystem::path& dir) {
  const auto file = dir / weights_manifest_file;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw error(file.string() + ": file not found");
  auto in = open_input(file, "the weights manifest");
  weights_manifest m;
  bool format_seen = false;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key, value, extra;
    words >> key >> value;
    auto bad = [&](const std::string& what) {
      return error(file.string() + ": line " + std::to_string(number) + ": " + what);
    };
    if (value.empty()) throw bad("'" + key + "' has no value");
    if (key == "format") {
      std::string version;
      words >> version;
      if (value + " " + version != weights_format)
        throw bad("unsupported format '" + value + " " + version + "' (expected '" + std::string(weights_format) + "')");
      format_seen = true;
    } else if (key == "model") {
      m.model = value;
    } else if (key == "dtype") {
      m.dtype = value;
    } else if (key == "parameters") {
      // informative
    } else if (key == "tensor") {
      std::string shape;
      words >> shape;
      if (shape.empty()) throw bad("tensor '" + value + "' has no shape");
      parameter_info t{value, {}};
      if (shape != "()") {
        std::size_t start = 0;
        while (start <= shape.size()) {
          const std::size_t end = std::min(shape.find('x', start), shape.size());
          const std::string dim = shape.substr(start, end - start);
          std::size_t extent = 0;
          const auto [stop, ec] = std::from_chars(dim.data(), dim.data() + dim.size(), extent);
          if (dim.empty() || ec != std::errc() || stop != dim.data() + dim.size())
            throw bad("tensor '" + value + "': bad shape '" + shape + "'");
          t.shape.push_back(extent);
          start = end + 1;
        }
      }
      if (std::string field; words >> field) {
        std::uint64_t checksum = 0;
        const char* first = field.data() + std::min<std::size_t>(6, field.size());
        const auto [stop, ec] = std::from_chars(first, field.data() + field.size(), checksum, 16);
        if (field.rfind("fnv1a=", 0) != 0 || field.size() != 22 || ec != std::errc() || stop != field.data() + field.size())
          throw bad("tensor '" + value + "': '" + field + "' is not a checksum (expected fnv1a= and 16 hex digits)");
        m.checksums[value] = checksum;
      }
      m.tensors.push_back(std::move(t));
    } else {
      throw bad("unknown entry '" + key + "'");
    }
  }
  if (!format_seen) throw error(file.string() + ": not a deepid weights manifest (no 'format' line)");
  return m;
}

}  // namespace io
DEEPID_NAMESPACE_END
