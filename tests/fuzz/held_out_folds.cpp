// Held-out folds files (eval/held_out_folds.hpp), read for LFW's ten folds.
#include "deepid/eval/held_out_folds.hpp"
#include "fuzz_support.hpp"

using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-held-out-folds.txt";
  write_file(file, as_text(data, size));
  expect_valid_or_error({"fuzz-held-out-folds.txt"}, [&] {
    const auto folds = deepid::eval::read_held_out_folds(file, 10);
    require(folds.has_value() && !folds->empty(), "held-out folds: none returned for an existing file");
    for (int f : *folds) require(f >= 0 && f < 10, "held-out folds: fold out of range");
  });
  return 0;
}
