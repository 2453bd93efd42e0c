// Test helper for the CLI tests: writes and describes .npy files without
// needing numpy.
//   deepid_test_npy_tool write FILE f32|f64 SHAPE ramp|zeros|nan|inf|huge
//   deepid_test_npy_tool describe FILE        (prints "float32 4x160")
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <deepid/io/npy.hpp>

namespace io = deepid::io;

namespace {

std::vector<std::size_t> parse_shape(const std::string& text) {
  std::vector<std::size_t> shape;
  if (text == "()") return shape;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('x', start), text.size());
    shape.push_back(std::stoul(text.substr(start, end - start)));
    start = end + 1;
  }
  return shape;
}

template <class T>
void write(const std::string& file, const std::vector<std::size_t>& shape, const std::string& fill) {
  std::size_t count = 1;
  for (auto d : shape) count *= d;
  std::vector<T> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = fill == "zeros" ? T(0) : T(double(i % 255) / 255.0);
  if (!values.empty() && fill == "nan") values[0] = std::numeric_limits<T>::quiet_NaN();
  if (!values.empty() && fill == "inf") values[count - 1] = std::numeric_limits<T>::infinity();
  if (fill == "huge") std::fill(values.begin(), values.end(), T(1e37));  // finite, but sums overflow float32
  io::write_npy<T>(file, values, shape);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "write") {
      const auto shape = parse_shape(args[3]);
      if (args[2] == "f64") write<double>(args[1], shape, args[4]);
      else write<float>(args[1], shape, args[4]);
      return 0;
    }
    if (args.size() == 2 && args[0] == "describe") {
      const auto h = io::read_npy_header(args[1]);
      std::cout << io::dtype_name(h.dtype) << " " << io::shape_text(h.shape) << "\n";
      return 0;
    }
    std::cerr << "usage: deepid_test_npy_tool write FILE f32|f64 SHAPE ramp|zeros|nan|inf|huge | describe FILE\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "deepid_test_npy_tool: " << e.what() << "\n";
    return 1;
  }
}
