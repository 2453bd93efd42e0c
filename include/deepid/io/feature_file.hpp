#pragma once
// Feature files: an N x D float32 .npy (one face per row) and, beside it, the
// index of image names, one per line, in row order: features.npy +
// features.names.txt. NumPy reads the matrix as is.
//
// The index begins with a line "#deepid-features rows=N fnv1a=H" that records
// the matrix file's checksum: the two files cannot be replaced together, so a
// write interrupted between them leaves a pair the loader refuses instead of
// names shifted against rows. Indexes without the line (written by hand or by
// other tools) are read as plain name lists.
//
// Binary feature files (save_binary_features) hold bits instead: a uint8 .npy
// of N x ceil(D / 8) bytes in numpy.packbits order (io/packed_bits.hpp), bit
// = feature > 0, with the same names index. load_features reads both kinds;
// a binary file comes back as 0/1 floats, N x 8 ceil(D / 8), so every
// verifier (Joint Bayesian on 0/1 vectors, the Hamming verifier) takes it.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/checksum.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/io/npy.hpp"
#include "deepid/io/packed_bits.hpp"
#include "deepid/io/record_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

struct feature_file {
  matrix<float> features;          // N x D (binary files: 0/1, D = 8 x bytes per row)
  std::vector<std::string> names;  // N image names
  bool binary = false;             // read from a packed-bit (uint8) file
};

inline std::filesystem::path feature_names_path(const std::filesystem::path& npy) {
  auto p = npy;
  p.replace_extension(".names.txt");
  return p;
}

namespace detail {

inline constexpr std::string_view index_tag = "#deepid-features ";

inline std::string index_header(std::size_t rows, std::uint64_t checksum) {
  return std::string(index_tag) + "rows=" + std::to_string(rows) + " fnv1a=" + checksum_text(checksum) + "\n";
}

// The names, one a line; checks the count against the rows.
inline std::string names_text(const std::filesystem::path& npy, std::size_t rows, const std::vector<std::string>& names) {
  if (names.size() != rows)
    throw error(npy.string() + ": " + std::to_string(names.size()) + " names for " + std::to_string(rows) +
                " feature rows");
  std::string text;
  for (const auto& n : names) {
    if (n.find('\n') != std::string::npos) throw error(npy.string() + ": an image name contains a newline");
    if (n.rfind(index_tag, 0) == 0) throw error(npy.string() + ": an image name begins with '" + std::string(index_tag) + "'");
    text += n + "\n";
  }
  return text;
}

// Writes the matrix with `write_matrix` (which returns the file's checksum),
// then the index with that checksum. Names are checked first, so a bad list
// leaves both files as they were; a failure between the two renames leaves a
// pair the loader refuses.
template <class WriteMatrix>
void save_with_names(const std::filesystem::path& npy, std::size_t rows, const std::vector<std::string>& names,
                     WriteMatrix write_matrix) {
  const std::string text = names_text(npy, rows, names);
  const std::uint64_t checksum = write_matrix();
  atomic_file index(feature_names_path(npy));
  index.write(index_header(rows, checksum) + text);
  index.commit();
}

}  // namespace detail

inline void save_features(const std::filesystem::path& npy, const matrix<float>& features,
                          const std::vector<std::string>& names) {
  // load_features refuses non-finite values, so they are never written.
  const std::size_t bad = first_non_finite<float>(std::span<const float>(features.data(), features.size()));
  if (bad < features.size()) {
    const std::size_t dim = features.shape()[1];
    throw error(npy.string() + ": not written: feature " + std::to_string(bad % dim) + " of row " +
                std::to_string(bad / dim) + " is not finite");
  }
  detail::save_with_names(npy, features.shape()[0], names, [&] { return write_npy(npy, features); });
}

// Writes bit = feature > 0 of every value, packed (see the top of this file).
inline void save_binary_features(const std::filesystem::path& npy, const matrix<float>& features,
                                 const std::vector<std::string>& names) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = pack_positive_bits(features);
  } catch (const error& e) {
    throw error(npy.string() + ": " + e.what());
  }
  const std::size_t shape[2] = {features.shape()[0], packed_row_bytes(features.shape()[1])};
  detail::save_with_names(npy, features.shape()[0], names,
                          [&] { return write_npy<std::uint8_t>(npy, bytes, std::span<const std::size_t>(shape)); });
}

inline feature_file load_features(const std::filesystem::path& npy) {
  feature_file f;
  const npy_header header = read_npy_header(npy);
  if (header.dtype == npy_dtype::uint8) {
    if (header.shape.size() != 2)
      throw error(npy.string() + ": a binary feature file holds N x ceil(D/8) bytes (2 axes), found shape " +
                  shape_text(header.shape));
    const auto packed = read_npy_bytes(npy, npy_expect{std::vector<std::size_t>{any_extent, any_extent}});
    f.features = unpack_bits(packed.values, packed.shape[0], packed.shape[1]);
    f.binary = true;
  } else {
    f.features = read_npy_tensor<float, 2>(npy, npy_expect{std::nullopt, true});
  }
  const auto index = feature_names_path(npy);
  auto in = open_input(index, "the image-name index of " + npy.string());
  std::optional<std::string> checksum_line;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!checksum_line && f.names.empty() && line.rfind(detail::index_tag, 0) == 0) checksum_line = line;
    else f.names.push_back(line);
  }
  if (in.bad()) throw error(index.string() + ": read error");
  if (checksum_line && *checksum_line + "\n" != detail::index_header(f.names.size(), file_checksum(npy)))
    throw error(index.string() + ": does not belong to " + npy.string() +
                " (its recorded row count or checksum differs: one of the two files was replaced or damaged "
                "after they were written together)");
  if (f.names.size() != f.features.shape()[0])
    throw error(index.string() + ": lists " + std::to_string(f.names.size()) + " names but " + npy.string() + " has " +
                std::to_string(f.features.shape()[0]) + " rows");
  return f;
}

}  // namespace io
DEEPID_NAMESPACE_END
