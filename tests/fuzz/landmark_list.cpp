// Landmark lists (face/landmark_list.hpp), and landmark validation of every
// row read (face/landmarks.hpp), which the loaders run on each face.
#include "deepid/face/landmark_list.hpp"
#include "fuzz_support.hpp"

namespace face = deepid::face;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-landmarks.txt";
  write_file(file, as_text(data, size));
  const std::string_view name = "fuzz-landmarks.txt";
  expect_valid_or_error({name}, [&] {
    const auto list = face::landmark_list::read(file);
    require(list.size() > 0, "landmark list: empty list returned");
    for (const auto& row : list.rows()) {
      require(list.contains(row.image) && &list.at(row.image) == &row, "landmark list: name index");
      expect_valid_or_error({name}, [&] {
        face::validate(row.points, 250, 250, file.string() + ":" + std::to_string(row.line));
      });
    }
  });
  return 0;
}
