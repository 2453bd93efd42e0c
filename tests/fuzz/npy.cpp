// .npy reader: header only, float and double arrays (with the finite check),
// uint8 arrays and the rank-2 tensor reader, all on the same input.
#include "deepid/io/npy.hpp"
#include "fuzz_support.hpp"

namespace io = deepid::io;
using namespace deepid_fuzz;

namespace {
template <class Array>
void check_array(const Array& a) {
  std::size_t count = 1;
  for (auto d : a.shape) count *= d;
  require(a.values.size() == count, "npy array: values do not match the shape");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-input.npy";
  write_file(file, as_text(data, size));
  const std::string_view name = "fuzz-input.npy";
  expect_valid_or_error({name}, [&] {
    const auto h = io::read_npy_header(file);
    require(h.data_offset <= size, "npy header: data offset past the end of the file");
  });
  expect_valid_or_error({name}, [&] { check_array(io::read_npy<float>(file, {std::nullopt, true})); });
  expect_valid_or_error({name}, [&] { check_array(io::read_npy<double>(file)); });
  expect_valid_or_error({name}, [&] { check_array(io::read_npy_bytes(file)); });
  expect_valid_or_error({name}, [&] {
    const auto t = io::read_npy_tensor<float, 2>(file);
    require(t.size() == t.shape()[0] * t.shape()[1], "npy tensor: size does not match the shape");
  });
  return 0;
}
