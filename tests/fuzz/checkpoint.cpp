// Training checkpoints: read_checkpoint for the architecture the seeds were
// written for ("fuzz-net", 6 parameters), on the input with its record
// checksum made right.
#include "deepid/train/checkpoint.hpp"
#include "fuzz_support.hpp"

using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-input.ckpt";
  write_file(file, with_record_checksum(as_text(data, size)));
  expect_valid_or_error({"fuzz-input.ckpt"}, [&] {
    const auto s = deepid::train::read_checkpoint(file, "fuzz-net", 6);
    require(s.params.size() == 6 && s.velocity.size() == 6, "checkpoint: parameter count");
    require(s.heads.size() == s.head_names.size(), "checkpoint: one state per head");
    for (const auto& e : s.history) require(e.heads.size() == s.heads.size(), "checkpoint: head history");
  });
  return 0;
}
