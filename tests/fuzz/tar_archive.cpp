// The tar reader (face/tar_archive.hpp): index the archive, read every member.
#include "deepid/face/tar_archive.hpp"
#include "fuzz_support.hpp"

namespace face = deepid::face;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-input.tar";
  write_file(file, as_text(data, size));
  const std::string_view name = "fuzz-input.tar";
  expect_valid_or_error({name}, [&] {
    const face::tar_archive tar(file);
    require(tar.size() > 0, "tar: an archive without members was accepted");
    std::size_t total = 0;
    for (const auto& member : tar.names()) {
      require(tar.contains(member), "tar: a listed member is not contained");
      expect_valid_or_error({name}, [&] { total += tar.read(member).size(); });
    }
    require(total <= size, "tar: members hold more bytes than the archive");
  });
  return 0;
}
