#pragma once
// NumPy .npy files: float32 / float64 arrays in C order, little-endian, and
// uint8 arrays (packed bit codes, io/packed_bits.hpp), format versions 1.0,
// 2.0 and 3.0 (the header's only difference is its length field
// and encoding). Reads validate everything a damaged or foreign file can get
// wrong, and every error names the file: missing or unreadable file, bad
// magic, unsupported version, malformed header, unsupported dtype, Fortran
// order, truncated or over-long data, wrong rank or shape, and (when asked)
// NaN or infinite values. Writes are atomic (io/atomic_file.hpp).
//
// xtensor's xnpy is not used for reading: it does not detect truncated data,
// needs the header keys in one order, misreads 1.0 header lengths whose low
// byte is >= 0x80 (signed char), and reports errors without the file name.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/limits.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/io/atomic_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

enum class npy_dtype { float32, float64, uint8 };

inline const char* dtype_name(npy_dtype t) {
  return t == npy_dtype::float32 ? "float32" : t == npy_dtype::float64 ? "float64" : "uint8";
}
inline std::size_t dtype_size(npy_dtype t) { return t == npy_dtype::float32 ? 4 : t == npy_dtype::float64 ? 8 : 1; }
inline const char* dtype_descr(npy_dtype t) {
  return t == npy_dtype::float32 ? "<f4" : t == npy_dtype::float64 ? "<f8" : "|u1";
}

template <class T>
constexpr npy_dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::uint8_t>,
                "npy: deepid reads and writes float, double and uint8 (packed bits) only");
  return std::is_same_v<T, float> ? npy_dtype::float32 : std::is_same_v<T, double> ? npy_dtype::float64 : npy_dtype::uint8;
}

// An axis of any length in an expected shape (printed as "N").
inline constexpr std::size_t any_extent = std::numeric_limits<std::size_t>::max();

// "20x3x4x4"; "N" for any_extent; "()" for a scalar.
inline std::string shape_text(std::span<const std::size_t> shape) {
  if (shape.empty()) return "()";
  std::string text;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) text += 'x';
    text += shape[i] == any_extent ? std::string("N") : std::to_string(shape[i]);
  }
  return text;
}

// What a .npy file's header says.
struct npy_header {
  unsigned version_major = 1, version_minor = 0;
  npy_dtype dtype = npy_dtype::float32;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  // bytes before the array data
  std::size_t count() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

// What the caller requires of a file it reads.
struct npy_expect {
  std::optional<std::vector<std::size_t>> shape;  // exact shape; any_extent matches any length
  bool finite = false;                            // NaN or infinity is an error
};

template <class T>
struct npy_array {
  std::vector<std::size_t> shape;
  std::vector<T> values;  // C order
};

namespace detail {

inline error npy_error(const std::filesystem::path& file, const std::string& what) {
  return error(file.string() + ": " + what);
}

// The header is a Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Keys may come in any order; unknown keys are ignored.
class npy_header_parser {
 public:
  npy_header_parser(std::string_view text, const std::filesystem::path& file) : text_(text), file_(file) {}

  struct result {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<std::size_t>> shape;
    bool descr_is_string = true;
  };

  result parse() {
    result r;
    skip_space();
    expect('{');
    skip_space();
    while (!at('}')) {
      const std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (at('\'') || at('"')) r.descr = parse_string();
        else {
          skip_value();
          r.descr = "(structured)";
          r.descr_is_string = false;
        }
      } else if (key == "fortran_order") {
        r.fortran = parse_bool();
      } else if (key == "shape") {
        r.shape = parse_shape();
      } else {
        skip_value();
      }
      skip_space();
      if (at(',')) {
        ++pos_;
        skip_space();
      } else if (!at('}')) {
        fail("expected ',' or '}' after the value of '" + key + "'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw npy_error(file_, "malformed .npy header: " + what);
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void expect(char c) {
    if (!at(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\0'))
      ++pos_;
  }
  std::string parse_string() {
    if (!at('\'') && !at('"')) fail("expected a quoted key or string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  bool parse_bool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }
  std::vector<std::size_t> parse_shape() {
    std::vector<std::size_t> shape;
    expect('(');
    skip_space();
    while (!at(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
        fail("'shape' must be a tuple of non-negative integers");
      std::size_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        const std::size_t digit = std::size_t(text_[pos_++] - '0');
        if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("a 'shape' entry is too large");
        value = value * 10 + digit;
      }
      if (at('L')) ++pos_;  // Python 2 long literal
      shape.push_back(value);
      skip_space();
      if (at(',')) {
        ++pos_;
        skip_space();
      } else if (!at(')')) {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;
    return shape;
  }
  // Skips one value of a key this reader does not use (balanced brackets).
  void skip_value() {
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\'' || c == '"') {
        parse_string();
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) return;
        --depth;
      }
      if (c == ',' && depth == 0) return;
      ++pos_;
    }
    fail("unterminated value");
  }

  std::string_view text_;
  const std::filesystem::path& file_;
  std::size_t pos_ = 0;
};

inline npy_dtype parse_descr(const std::string& descr, bool is_string, const std::filesystem::path& file) {
  const std::string supported = " (deepid reads float32 '<f4', float64 '<f8' and uint8 '|u1')";
  if (!is_string) throw npy_error(file, "unsupported dtype: structured arrays are not supported" + supported);
  constexpr bool little = std::endian::native == std::endian::little;
  if (descr == "<f4" || (little && descr == "=f4")) return npy_dtype::float32;
  if (descr == "<f8" || (little && descr == "=f8")) return npy_dtype::float64;
  // One byte has no byte order: NumPy writes '|u1', but any prefix means the same.
  if (descr == "|u1" || descr == "<u1" || descr == ">u1" || descr == "=u1") return npy_dtype::uint8;
  if (descr == ">f4" || descr == ">f8")
    throw npy_error(file, "unsupported dtype '" + descr + "': big-endian data" + supported);
  throw npy_error(file, "unsupported dtype '" + descr + "'" + supported);
}

inline std::uint64_t read_le(const unsigned char* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}

inline void byteswap_if_big_endian(unsigned char* data, std::size_t count, std::size_t width) {
  if constexpr (std::endian::native == std::endian::big)
    for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * width, data + (i + 1) * width);
  else
    (void)data, (void)count, (void)width;
}

inline std::string index_text(std::size_t flat, std::span<const std::size_t> shape) {
  if (shape.size() <= 1) return "[" + std::to_string(flat) + "]";
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t a = shape.size(); a-- > 0;) {
    idx[a] = flat % shape[a];
    flat /= shape[a];
  }
  std::string text = "[";
  for (std::size_t a = 0; a < idx.size(); ++a) {
    if (a) text += ", ";
    text += std::to_string(idx[a]);
  }
  return text + "]";
}

inline bool shape_matches(std::span<const std::size_t> found, std::span<const std::size_t> expected) {
  if (found.size() != expected.size()) return false;
  for (std::size_t a = 0; a < found.size(); ++a)
    if (expected[a] != any_extent && expected[a] != found[a]) return false;
  return true;
}

inline std::ifstream open_for_reading(const std::filesystem::path& file, std::uintmax_t& size) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (!fs::exists(status)) throw npy_error(file, "file not found");
  if (fs::is_directory(status)) throw npy_error(file, "is a directory, expected a .npy file");
  size = fs::file_size(file, ec);
  if (ec) throw npy_error(file, "cannot read the file size (" + ec.message() + ")");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw npy_error(file, "cannot open the file for reading");
  return in;
}

inline npy_header read_header(std::istream& in, std::uintmax_t file_size, const std::filesystem::path& file) {
  static constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  unsigned char prelude[12] = {};
  if (file_size == 0) throw npy_error(file, "empty file, expected a .npy array");
  const std::size_t head = std::size_t(std::min<std::uintmax_t>(file_size, 12));
  in.read(reinterpret_cast<char*>(prelude), std::streamsize(head));
  if (!in && !in.eof()) throw npy_error(file, "read error");
  if (head < 6 || std::memcmp(prelude, magic, 6) != 0) {
    if (head < 6 && std::memcmp(prelude, magic, head) == 0)
      throw npy_error(file, "truncated .npy file (" + std::to_string(file_size) + " bytes, too short for a header)");
    throw npy_error(file, "not a .npy file (bad magic bytes; expected \\x93NUMPY)");
  }
  if (head < 10) throw npy_error(file, "truncated .npy file (" + std::to_string(file_size) + " bytes, too short for a header)");

  npy_header h;
  h.version_major = prelude[6];
  h.version_minor = prelude[7];
  std::size_t len_bytes = 0;
  if (h.version_major == 1 && h.version_minor == 0) len_bytes = 2;
  else if ((h.version_major == 2 || h.version_major == 3) && h.version_minor == 0) len_bytes = 4;
  else
    throw npy_error(file, "unsupported .npy format version " + std::to_string(h.version_major) + "." +
                              std::to_string(h.version_minor) + " (deepid reads 1.0, 2.0 and 3.0)");
  if (head < 8 + len_bytes)
    throw npy_error(file, "truncated .npy file (" + std::to_string(file_size) + " bytes, too short for a header)");
  const std::uint64_t header_len = read_le(prelude + 8, len_bytes);
  // The header is a short dict; a megabyte of it is damage, not a shape.
  if (header_len > (1u << 20))
    throw npy_error(file, "malformed .npy header: it claims to be " + std::to_string(header_len) + " bytes long");
  h.data_offset = 8 + len_bytes + std::size_t(header_len);
  if (8 + len_bytes + header_len > file_size)
    throw npy_error(file, "truncated .npy file: the header is " + std::to_string(header_len) + " bytes long but only " +
                              std::to_string(file_size - 8 - len_bytes) + " bytes follow");

  std::string text(std::size_t(header_len), '\0');
  const std::size_t already = head - 8 - len_bytes;  // header bytes read with the prelude
  std::memcpy(text.data(), prelude + 8 + len_bytes, std::min<std::size_t>(already, text.size()));
  if (text.size() > already) {
    in.clear();
    in.seekg(std::streamoff(8 + len_bytes + already));
    in.read(text.data() + already, std::streamsize(text.size() - already));
    if (!in) throw npy_error(file, "read error in the header");
  }

  auto parsed = npy_header_parser(text, file).parse();
  if (!parsed.descr) throw npy_error(file, "malformed .npy header: no 'descr' key");
  if (!parsed.fortran) throw npy_error(file, "malformed .npy header: no 'fortran_order' key");
  if (!parsed.shape) throw npy_error(file, "malformed .npy header: no 'shape' key");
  h.dtype = parse_descr(*parsed.descr, parsed.descr_is_string, file);
  h.shape = *parsed.shape;

  // Fortran order differs from C order only when two or more axes are longer than 1.
  const auto long_axes = std::count_if(h.shape.begin(), h.shape.end(), [](std::size_t d) { return d > 1; });
  if (*parsed.fortran && long_axes > 1)
    throw npy_error(file, "array is in Fortran (column-major) order; deepid reads C order "
                          "(save it with numpy.ascontiguousarray)");

  const std::size_t width = dtype_size(h.dtype);
  std::size_t count = 1;
  for (auto d : h.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / width / d)
      throw npy_error(file, "malformed .npy header: shape " + shape_text(h.shape) + " is too large");
    count *= d;
  }
  const std::uintmax_t data_bytes = file_size - h.data_offset;
  const std::uintmax_t needed = std::uintmax_t(count) * width;
  if (data_bytes < needed)
    throw npy_error(file, "truncated .npy file: shape " + shape_text(h.shape) + " " + dtype_name(h.dtype) + " needs " +
                              std::to_string(needed) + " bytes of data, only " + std::to_string(data_bytes) +
                              " follow the header");
  if (data_bytes > needed)
    throw npy_error(file, std::to_string(data_bytes - needed) + " unexpected bytes after the array data (shape " +
                              shape_text(h.shape) + " " + dtype_name(h.dtype) + " needs " + std::to_string(needed) +
                              "); the file is damaged");
  check_array_bytes(file.string() + ": the array (shape " + shape_text(h.shape) + " " + dtype_name(h.dtype) + ")", needed);
  return h;
}

// Reads `count` values stored as `Stored` and converts them to T.
template <class T, class Stored>
void read_values(std::istream& in, T* out, std::size_t count, const std::filesystem::path& file) {
  if constexpr (std::is_same_v<T, Stored>) {
    in.read(reinterpret_cast<char*>(out), std::streamsize(count * sizeof(T)));
    if (!in) throw npy_error(file, "read error in the array data");
    byteswap_if_big_endian(reinterpret_cast<unsigned char*>(out), count, sizeof(T));
  } else {
    constexpr std::size_t chunk = 1 << 14;
    std::vector<Stored> buffer(std::min(count, chunk));
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(chunk, count - done);
      in.read(reinterpret_cast<char*>(buffer.data()), std::streamsize(n * sizeof(Stored)));
      if (!in) throw npy_error(file, "read error in the array data");
      byteswap_if_big_endian(reinterpret_cast<unsigned char*>(buffer.data()), n, sizeof(Stored));
      for (std::size_t i = 0; i < n; ++i) out[done + i] = static_cast<T>(buffer[i]);
      done += n;
    }
  }
}

}  // namespace detail

// Reads and validates the header only (also checks the data size).
inline npy_header read_npy_header(const std::filesystem::path& file) {
  std::uintmax_t size = 0;
  auto in = detail::open_for_reading(file, size);
  return detail::read_header(in, size, file);
}

// Index of the first NaN or infinite value, or count when all are finite.
template <class T>
std::size_t first_non_finite(std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return i;
  return values.size();
}

// Throws naming `file` when a value is NaN or infinite.
template <class T>
void require_finite(std::span<const T> values, std::span<const std::size_t> shape, const std::filesystem::path& file) {
  const std::size_t i = first_non_finite(values);
  if (i == values.size()) return;
  const char* kind = std::isnan(values[i]) ? "NaN" : (values[i] > 0 ? "+inf" : "-inf");
  throw detail::npy_error(file, std::string("value ") + detail::index_text(i, shape) + " is " + kind +
                                    "; expected finite values");
}

// Reads a float32 or float64 file as T (float64 data read as float is rounded;
// values too large for float become infinite and fail the finite check).
template <class T>
npy_array<T> read_npy(const std::filesystem::path& file, const npy_expect& expect = {}) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "read_npy: T must be float or double");
  std::uintmax_t size = 0;
  auto in = detail::open_for_reading(file, size);
  const npy_header h = detail::read_header(in, size, file);
  if (h.dtype == npy_dtype::uint8)
    throw detail::npy_error(file, "unsupported dtype 'uint8' here: expected float32 '<f4' or float64 '<f8'");
  if (expect.shape && !detail::shape_matches(h.shape, *expect.shape))
    throw detail::npy_error(file, "expected shape " + shape_text(*expect.shape) + ", found " + shape_text(h.shape));
  npy_array<T> result;
  result.shape = h.shape;
  result.values.resize(h.count());
  in.clear();
  in.seekg(std::streamoff(h.data_offset));
  if (h.dtype == npy_dtype::float32) detail::read_values<T, float>(in, result.values.data(), h.count(), file);
  else detail::read_values<T, double>(in, result.values.data(), h.count(), file);
  if (expect.finite) require_finite<T>(result.values, result.shape, file);
  return result;
}

// Reads a uint8 file as bytes (a float file is an error: no silent conversion).
inline npy_array<std::uint8_t> read_npy_bytes(const std::filesystem::path& file, const npy_expect& expect = {}) {
  std::uintmax_t size = 0;
  auto in = detail::open_for_reading(file, size);
  const npy_header h = detail::read_header(in, size, file);
  if (h.dtype != npy_dtype::uint8)
    throw detail::npy_error(file, std::string("unsupported dtype '") + dtype_name(h.dtype) + "' here: expected uint8 '|u1'");
  if (expect.shape && !detail::shape_matches(h.shape, *expect.shape))
    throw detail::npy_error(file, "expected shape " + shape_text(*expect.shape) + ", found " + shape_text(h.shape));
  npy_array<std::uint8_t> result;
  result.shape = h.shape;
  result.values.resize(h.count());
  in.clear();
  in.seekg(std::streamoff(h.data_offset));
  detail::read_values<std::uint8_t, std::uint8_t>(in, result.values.data(), h.count(), file);
  return result;
}

// Reads a rank-R array into an xtensor; without an expected shape only the
// rank is checked.
template <class T, std::size_t R>
tensor<T, R> read_npy_tensor(const std::filesystem::path& file, npy_expect expect = {}) {
  if (!expect.shape) expect.shape = std::vector<std::size_t>(R, any_extent);
  if (expect.shape->size() != R) throw error("read_npy_tensor: the expected shape has the wrong rank");
  npy_array<T> a = read_npy<T>(file, expect);
  std::array<std::size_t, R> shape{};
  std::copy(a.shape.begin(), a.shape.end(), shape.begin());
  tensor<T, R> t(shape);
  std::copy(a.values.begin(), a.values.end(), t.data());
  return t;
}

struct npy_write_options {
  unsigned version = 1;  // 1 (1.0) or 2 (2.0); 1.0 moves to 2.0 when the header needs it
};

// The bytes of a .npy header (magic, version, length, dict, padding to 64).
template <class T>
std::string npy_header_bytes(std::span<const std::size_t> shape, npy_write_options options = {}) {
  std::string dict = std::string("{'descr': '") + dtype_descr(dtype_of<T>()) + "', 'fortran_order': False, 'shape': (";
  for (std::size_t a = 0; a < shape.size(); ++a) {
    if (a) dict += ", ";
    dict += std::to_string(shape[a]);
  }
  dict += shape.size() == 1 ? ",), }" : "), }";
  unsigned version = options.version == 2 ? 2 : 1;
  auto prelude = [&] { return std::size_t(version == 1 ? 10 : 12); };
  if (version == 1 && prelude() + dict.size() + 1 > 65535) version = 2;
  const std::size_t unpadded = prelude() + dict.size() + 1;  // + '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(version);
  bytes += char(0);
  const std::size_t len = dict.size();
  for (std::size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) bytes += char((len >> (8 * i)) & 0xff);
  return bytes + dict;
}

// Writes `values` (C order) with `shape` atomically: the file at `file` is
// replaced only once the new one is complete. Returns the file's FNV-1a
// checksum (io/checksum.hpp).
template <class T>
std::uint64_t write_npy(const std::filesystem::path& file, std::span<const T> values, std::span<const std::size_t> shape,
               npy_write_options options = {}) {
  std::size_t count = 1;
  for (auto d : shape) count *= d;
  if (count != values.size())
    throw detail::npy_error(file, "cannot write: shape " + shape_text(shape) + " holds " + std::to_string(count) +
                                      " values, " + std::to_string(values.size()) + " given");
  atomic_file out(file);
  out.write(npy_header_bytes<T>(shape, options));
  if constexpr (std::endian::native == std::endian::little) {
    out.write(values.data(), values.size() * sizeof(T));
  } else {
    std::vector<T> swapped(values.begin(), values.end());
    detail::byteswap_if_big_endian(reinterpret_cast<unsigned char*>(swapped.data()), count, sizeof(T));
    out.write(swapped.data(), swapped.size() * sizeof(T));
  }
  out.commit();
  return out.checksum();
}

template <class T, std::size_t R>
std::uint64_t write_npy(const std::filesystem::path& file, const tensor<T, R>& t, npy_write_options options = {}) {
  const std::array<std::size_t, R> shape = [&] {
    std::array<std::size_t, R> s{};
    std::copy(t.shape().begin(), t.shape().end(), s.begin());
    return s;
  }();
  return write_npy<T>(file, std::span<const T>(t.data(), t.size()), shape, options);
}

}  // namespace io
DEEPID_NAMESPACE_END
