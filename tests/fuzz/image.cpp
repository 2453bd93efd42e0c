// Image decoding through the library's loader (face/image.hpp): JPEG, PNG and
// whatever else OpenCV recognises; the result must be an 8-bit BGR image.
#include "deepid/face/image.hpp"
#include "fuzz_support.hpp"

namespace face = deepid::face;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-input-image";
  write_file(file, as_text(data, size));
  expect_valid_or_error({"fuzz-input-image"}, [&] {
    const cv::Mat image = face::load_image(file);
    require(!image.empty() && image.type() == CV_8UC3, "image: not a non-empty 8-bit BGR image");
  });
  return 0;
}
