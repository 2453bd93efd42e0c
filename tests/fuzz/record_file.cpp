// Record files: the reader of a record of kind "fuzz" (version <= 2), and the
// typed accessors on the sections the seeds hold.
#include <algorithm>

#include "deepid/io/record_file.hpp"
#include "fuzz_support.hpp"

namespace io = deepid::io;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path file = scratch_dir() / "fuzz-input.rec";
  write_file(file, as_text(data, size));
  const std::string_view name = "fuzz-input.rec";
  expect_valid_or_error({name}, [&] {
    const io::record_reader r(file, "fuzz", 2);
    // Every accessor on every section name the seeds use: wrong types, counts
    // and missing sections must all be reported as errors.
    for (const char* section : {"doubles", "floats", "integers", "text", "scalar"}) {
      if (r.has(section)) {
        // The dimensions must describe the data exactly, without wrapping around.
        const auto& s = r.section(section);
        const std::size_t width = s.type == io::record_type::bytes ? 1 : s.type == io::record_type::f32 ? 4 : 8;
        unsigned __int128 values = 1;
        for (auto d : s.dims) values = d == 0 || values == 0 ? 0 : std::min<unsigned __int128>(values * d, size);
        require(values * width == s.data.size(), "record section: dimensions do not match the data");
      }
      expect_valid_or_error({name}, [&] { r.f64(section); });
      expect_valid_or_error({name}, [&] { r.f32(section); });
      expect_valid_or_error({name}, [&] { r.i64(section); });
      expect_valid_or_error({name}, [&] { r.text(section); });
      expect_valid_or_error({name}, [&] { r.scalar(section); });
      expect_valid_or_error({name}, [&] { r.f64(section, 3); });
    }
  });
  return 0;
}
