// The CelebA listing (face/face_set.hpp read_celeba), on a folder built from
// the input: identity.txt, the landmark list and, when a second separator
// follows, the image tar; without it the images are an (empty) folder. Every
// listed face's image is then loaded from the store.
#include "deepid/face/face_set.hpp"
#include "fuzz_support.hpp"

namespace face = deepid::face;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path root = scratch_dir() / "fuzz-celeba";
  std::error_code ignored;
  fs::remove_all(root, ignored);
  fs::create_directories(root);
  const auto identity = split_at(as_text(data, size), separator);
  const auto rest = split_at(identity.second, separator);
  write_file(root / "identity.txt", identity.first);
  write_file(root / "landmarks_aligned_yunet.txt", rest.first);
  if (rest.found) write_file(root / "celeba_subset_aligned_178x218.tar", rest.second);
  else fs::create_directories(root / "img_align_yunet");
  // Every file the loader reads lies in the folder, so its errors name it.
  expect_valid_or_error({"fuzz-celeba"}, [&] {
    const auto set = face::read_celeba(root);
    require(!set.faces.empty() && set.identities() > 0, "celeba: an empty set was accepted");
    for (const auto& f : set.faces) {
      require(f.identity >= 0 && std::size_t(f.identity) < set.identities(), "celeba: label out of range");
      expect_valid_or_error({"fuzz-celeba"}, [&] { set.images.load(f.image); });
    }
  });
  return 0;
}
