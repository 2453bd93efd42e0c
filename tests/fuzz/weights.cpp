// Weights directories (io/weights_manifest.hpp, net/weights.hpp): the manifest model.txt and one tensor
// file, cut from the input at `separator` (manifest first). The other tensor
// files are a valid export of weights_model, written once. Without the
// separator the input is the manifest and the tensor file stays valid.
#include <vector>

#include "deepid/io/weights_manifest.hpp"
#include "deepid/net/weights.hpp"
#include "fuzz_support.hpp"
#include "weights_model.hpp"

namespace io = deepid::io;
using namespace deepid_fuzz;

namespace {
struct weights_fixture {
  fs::path dir = scratch_dir() / "fuzz-weights";
  std::string valid_tensor;  // the exported bytes of fuzzed_tensor
  weights_model model{deepid::init::seed{1}};
  weights_fixture() {
    deepid::export_weights(model, dir, "fuzz-model");
    std::ifstream in(io::weights_file(dir, fuzzed_tensor), std::ios::binary);
    valid_tensor.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static weights_fixture fixture;
  const auto parts = split_at(as_text(data, size), separator);
  write_file(fixture.dir / io::weights_manifest_file, parts.first);
  write_file(io::weights_file(fixture.dir, fuzzed_tensor), parts.found ? parts.second : fixture.valid_tensor);
  // Every error names the directory's own files, so the folder name is in it.
  expect_valid_or_error({"fuzz-weights"}, [&] {
    const auto m = io::read_weights_manifest(fixture.dir);
    for (const auto& t : m.tensors) require(!t.name.empty(), "weights manifest: tensor without a name");
  });
  const std::vector<float> before = fixture.model.get_parameter(fuzzed_tensor);
  const bool imported = expect_valid_or_error({"fuzz-weights"}, [&] { deepid::import_weights(fixture.model, fixture.dir); });
  // A failed import must leave the model as it was.
  if (!imported) require(fixture.model.get_parameter(fuzzed_tensor) == before, "import_weights changed the model and failed");
  return 0;
}
