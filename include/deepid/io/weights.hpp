#pragma once
// Interop weights: a directory with one NumPy file per parameter tensor,
// <dir>/<name>.npy in PyTorch layout (names "<layer>.weight", "<layer>.bias"
// as in the layer table), plus a small manifest <dir>/model.txt naming the
// model and listing the tensors. docs/weights.md gives every layout.
//
// Import reads and checks every file before it changes the model, so a
// failed import leaves the model as it was. Errors name the file and say what
// was expected and what was found (missing file, wrong shape, NaN, ...).
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/checksum.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/io/npy.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/net/model.hpp"

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

// Writes every parameter tensor of `m` as <dir>/<name>.npy, then model.txt
// with each file's checksum. The directory is created if needed; each file is
// replaced atomically. An export that fails part-way leaves new tensor files
// beside the old manifest, whose checksums make import refuse the mixture.
template <class Net, class T>
void export_weights(const model<Net, T>& m, const std::filesystem::path& dir, std::string_view model_name = "custom") {
  std::error_code ec, ignored;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::is_directory(dir, ignored)) {
    const std::string why = std::filesystem::exists(dir, ignored) ? "a file of that name exists" : ec.message();
    throw error(dir.string() + ": cannot create the weights directory (" + why + ")");
  }
  weights_manifest manifest{std::string(model_name), dtype_name(dtype_of<T>()), m.parameter_tensors(), {}};
  for (const auto& t : manifest.tensors) {
    const std::vector<T> values = m.get_parameter(t.name);
    manifest.checksums[t.name] = write_npy<T>(weights_file(dir, t.name), values, t.shape);
  }
  atomic_file out(dir / weights_manifest_file);
  out.write(manifest_text(manifest));
  out.commit();
}

// Reads every parameter tensor of `m` from <dir>/<name>.npy (float32 or
// float64, exact PyTorch shape, finite values). When <dir>/model.txt exists it
// must list the same tensors and, if `model_name` is given, name that model.
template <class Net, class T>
void import_weights(model<Net, T>& m, const std::filesystem::path& dir, std::string_view model_name = "") {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) throw error(dir.string() + ": weights directory not found");
  if (!std::filesystem::is_directory(dir, ec)) throw error(dir.string() + ": not a directory (expected a weights directory)");
  const auto tensors = m.parameter_tensors();
  const auto manifest_path = dir / weights_manifest_file;
  std::map<std::string, std::uint64_t> checksums;
  if (std::filesystem::exists(manifest_path, ec)) {
    const weights_manifest manifest = read_weights_manifest(dir);
    checksums = manifest.checksums;
    if (!model_name.empty() && manifest.model != model_name)
      throw error(manifest_path.string() + ": the weights are for model '" + manifest.model + "', not '" +
                  std::string(model_name) + "'");
    for (const auto& t : manifest.tensors) {
      const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const auto& mt) { return mt.name == t.name; });
      if (it == tensors.end())
        throw error(manifest_path.string() + ": lists tensor '" + t.name + "', which the model does not have");
      if (it->shape != t.shape)
        throw error(manifest_path.string() + ": tensor '" + t.name + "' has shape " + shape_text(t.shape) +
                    ", the model expects " + shape_text(it->shape));
    }
  }
  std::vector<std::vector<T>> values;
  values.reserve(tensors.size());
  for (const auto& t : tensors) {
    npy_expect expect;
    expect.shape = t.shape;
    expect.finite = true;
    values.push_back(read_npy<T>(weights_file(dir, t.name), expect).values);
    // Checked after the file reads cleanly, so a damaged file gets the more
    // precise message; this catches a sound file from another export.
    if (const auto it = checksums.find(t.name); it != checksums.end() && file_checksum(weights_file(dir, t.name)) != it->second)
      throw error(weights_file(dir, t.name).string() + ": not the file " + manifest_path.string() +
                  " lists (its checksum differs: the folder mixes files of two exports, or the file changed since); "
                  "export again, or remove model.txt to import the files as they are");
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) m.set_parameter(tensors[i].name, values[i]);
}

}  // namespace io
DEEPID_NAMESPACE_END
