#pragma once
// A model's weights exported to and imported from an interop weights folder
// (io/weights_manifest.hpp; docs/weights.md gives every layout).
//
// Import reads and checks every file before it changes the model, so a
// failed import leaves the model as it was. Errors name the file and say what
// was expected and what was found (missing file, wrong shape, NaN, ...).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/checksum.hpp"
#include "deepid/io/npy.hpp"
#include "deepid/io/weights_manifest.hpp"
#include "deepid/net/model.hpp"

DEEPID_NAMESPACE_BEGIN

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
  io::weights_manifest manifest{std::string(model_name), io::dtype_name(io::dtype_of<T>()), {}, {}};
  manifest.tensors = m.parameter_tensors();
  for (const auto& t : manifest.tensors) {
    const std::vector<T> values = m.get_parameter(t.name);
    manifest.checksums[t.name] = io::write_npy<T>(io::weights_file(dir, t.name), values, t.shape);
  }
  io::atomic_file out(dir / io::weights_manifest_file);
  out.write(io::manifest_text(manifest));
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
  const auto manifest_path = dir / io::weights_manifest_file;
  std::map<std::string, std::uint64_t> checksums;
  if (std::filesystem::exists(manifest_path, ec)) {
    const io::weights_manifest manifest = io::read_weights_manifest(dir);
    checksums = manifest.checksums;
    if (!model_name.empty() && manifest.model != model_name)
      throw error(manifest_path.string() + ": the weights are for model '" + manifest.model + "', not '" +
                  std::string(model_name) + "'");
    for (const auto& t : manifest.tensors) {
      const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const auto& mt) { return mt.name == t.name; });
      if (it == tensors.end())
        throw error(manifest_path.string() + ": lists tensor '" + t.name + "', which the model does not have");
      if (it->shape != t.shape)
        throw error(manifest_path.string() + ": tensor '" + t.name + "' has shape " + io::shape_text(t.shape) +
                    ", the model expects " + io::shape_text(it->shape));
    }
  }
  std::vector<std::vector<T>> values;
  values.reserve(tensors.size());
  for (const auto& t : tensors) {
    io::npy_expect expect;
    expect.shape = t.shape;
    expect.finite = true;
    const auto file = io::weights_file(dir, t.name);
    values.push_back(io::read_npy<T>(file, expect).values);
    // Checked after the file reads cleanly, so a damaged file gets the more
    // precise message; this catches a sound file from another export.
    if (const auto it = checksums.find(t.name); it != checksums.end() && io::file_checksum(file) != it->second)
      throw error(file.string() + ": not the file " + manifest_path.string() +
                  " lists (its checksum differs: the folder mixes files of two exports, or the file changed since); "
                  "export again, or remove model.txt to import the files as they are");
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) m.set_parameter(tensors[i].name, values[i]);
}

DEEPID_NAMESPACE_END
