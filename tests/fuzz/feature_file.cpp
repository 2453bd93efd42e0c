// Feature files (io/feature_file.hpp): the .npy matrix and its names index,
// cut from the input at `separator` (matrix first). Without the separator
// there is no names index.
#include "deepid/io/feature_file.hpp"
#include "fuzz_support.hpp"

namespace io = deepid::io;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path npy = scratch_dir() / "fuzz-features.npy";
  const auto parts = split_at(as_text(data, size), separator);
  write_file(npy, parts.first);
  std::error_code ignored;
  if (parts.found) write_file(io::feature_names_path(npy), parts.second);
  else fs::remove(io::feature_names_path(npy), ignored);
  expect_valid_or_error({"fuzz-features.npy", "fuzz-features.names.txt"}, [&] {
    const auto f = io::load_features(npy);
    require(f.names.size() == f.features.shape()[0], "feature file: one name per row");
    require(f.features.size() == f.features.shape()[0] * f.features.shape()[1], "feature file: matrix size");
  });
  return 0;
}
