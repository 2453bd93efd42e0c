// LFW lists: the same input read as a pair list (pairs.txt, View 1 lists) and
// as the names list (lfw-names.txt).
#include "deepid/face/lfw.hpp"
#include "fuzz_support.hpp"

namespace face = deepid::face;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-lfw-list.txt";
  write_file(file, as_text(data, size));
  const std::string_view name = "fuzz-lfw-list.txt";
  expect_valid_or_error({name}, [&] {
    const auto pairs = face::read_lfw_pairs(file);
    require(!pairs.empty(), "pair list: no pairs returned");
    for (const auto& p : pairs) require(p.fold >= 0 && !p.first.empty() && !p.second.empty(), "pair list: pair");
  });
  expect_valid_or_error({name}, [&] {
    for (const auto& p : face::read_lfw_names(file)) require(p.images >= 1 && !p.name.empty(), "names list: person");
  });
  return 0;
}
