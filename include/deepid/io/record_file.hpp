#pragma once
// Versioned, checksummed record files: verifiers, PCA, normalisations and
// checkpoints are saved as named numeric sections under a kind string.
//
//   "DEEPIDR1"  u32 format version (1)
//   kind: u32 length + bytes, u32 kind version
//   u32 section count, then per section:
//     name: u32 length + bytes; u32 type (0 f64, 1 f32, 2 i64, 3 bytes);
//     u32 rank; u64 dims[rank]; the values (little-endian)
//   u64 FNV-1a checksum of every byte before it
//
// Written atomically (io/atomic_file.hpp). Reading checks magic, version,
// kind, truncation and checksum, and each error names the file. A record can
// also be built and parsed in memory (bytes(), from_bytes), so one file can
// carry another whole, e.g. a verifier nested in another verifier's file.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/limits.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/checksum.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

enum class record_type : std::uint32_t { f64 = 0, f32 = 1, i64 = 2, bytes = 3 };

struct record_section {
  record_type type = record_type::f64;
  std::vector<std::uint64_t> dims;
  std::vector<std::uint8_t> data;  // raw little-endian values

  std::uint64_t count() const {
    std::uint64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

class record_writer {
 public:
  record_writer(std::string kind, std::uint32_t kind_version) : kind_(std::move(kind)), kind_version_(kind_version) {}

  void add(const std::string& name, std::span<const double> values, std::vector<std::uint64_t> dims = {}) {
    add_raw(name, record_type::f64, values.data(), values.size() * 8, dims.empty() ? std::vector<std::uint64_t>{values.size()} : dims);
  }
  void add(const std::string& name, std::span<const float> values, std::vector<std::uint64_t> dims = {}) {
    add_raw(name, record_type::f32, values.data(), values.size() * 4, dims.empty() ? std::vector<std::uint64_t>{values.size()} : dims);
  }
  void add(const std::string& name, std::span<const std::int64_t> values) {
    add_raw(name, record_type::i64, values.data(), values.size() * 8, {values.size()});
  }
  void add_text(const std::string& name, const std::string& text) {
    add_raw(name, record_type::bytes, text.data(), text.size(), {text.size()});
  }
  void add_scalar(const std::string& name, double value) { add(name, std::span<const double>(&value, 1)); }

  void save(const std::filesystem::path& path) const {
    const std::vector<std::uint8_t> out = body();
    // The file sums what it writes: the trailing checksum covers every byte before it.
    atomic_file file(path);
    file.write(out.data(), out.size());
    const std::uint64_t sum = file.checksum();
    file.write(&sum, 8);
    file.commit();
  }

  // The bytes save() writes, checksum included.
  std::string bytes() const {
    const std::vector<std::uint8_t> out = body();
    const std::uint64_t sum = fnv1a(out.data(), out.size());
    std::string all(reinterpret_cast<const char*>(out.data()), out.size());
    all.append(reinterpret_cast<const char*>(&sum), 8);
    return all;
  }

 private:
  // Everything before the checksum.
  std::vector<std::uint8_t> body() const {
    std::vector<std::uint8_t> out;
    auto put = [&](const void* p, std::size_t n) {
      const auto* b = static_cast<const std::uint8_t*>(p);
      out.insert(out.end(), b, b + n);
    };
    auto put_u32 = [&](std::uint32_t v) { put(&v, 4); };
    auto put_string = [&](const std::string& s) {
      put_u32(std::uint32_t(s.size()));
      put(s.data(), s.size());
    };
    put("DEEPIDR1", 8);
    put_u32(1);
    put_string(kind_);
    put_u32(kind_version_);
    put_u32(std::uint32_t(sections_.size()));
    for (const auto& [name, s] : sections_) {
      put_string(name);
      put_u32(std::uint32_t(s.type));
      put_u32(std::uint32_t(s.dims.size()));
      for (auto d : s.dims) put(&d, 8);
      put(s.data.data(), s.data.size());
    }
    return out;
  }

  void add_raw(const std::string& name, record_type type, const void* data, std::size_t bytes,
               std::vector<std::uint64_t> dims) {
    record_section s;
    s.type = type;
    s.dims = std::move(dims);
    s.data.resize(bytes);
    if (bytes) std::memcpy(s.data.data(), data, bytes);
    sections_[name] = std::move(s);
  }

  std::string kind_;
  std::uint32_t kind_version_;
  std::map<std::string, record_section> sections_;
};

class record_reader {
 public:
  // Reads `path`, which must hold a record of `kind` with a version <= max_version.
  record_reader(const std::filesystem::path& path, const std::string& kind, std::uint32_t max_version)
      : path_(path.string()) {
    // The size is checked before opening: opening a FIFO would block.
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(path, ec);
    if (ec) throw error(path_ + ": cannot open the file (" + ec.message() + ")");
    check_array_bytes(path_, file_size);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(path_ + ": cannot open the file");
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    parse(bytes, kind, max_version);
  }

  // Parses a record held in memory (what record_writer::bytes() gives), with
  // the same checks as a file; errors name it `name`.
  static record_reader from_bytes(std::string name, std::string_view bytes, const std::string& kind,
                                  std::uint32_t max_version) {
    record_reader r;
    r.path_ = std::move(name);
    check_array_bytes(r.path_, bytes.size());
    const auto* first = reinterpret_cast<const std::uint8_t*>(bytes.data());
    r.parse(std::span<const std::uint8_t>(first, bytes.size()), kind, max_version);
    return r;
  }

  std::uint32_t version() const { return version_; }
  bool has(const std::string& name) const { return sections_.count(name) > 0; }

  const record_section& section(const std::string& name) const {
    const auto it = sections_.find(name);
    if (it == sections_.end()) throw error(path_ + ": section '" + name + "' is missing");
    return it->second;
  }

  std::vector<double> f64(const std::string& name, std::optional<std::uint64_t> count = std::nullopt) const {
    return values<double>(name, record_type::f64, count);
  }
  std::vector<float> f32(const std::string& name, std::optional<std::uint64_t> count = std::nullopt) const {
    return values<float>(name, record_type::f32, count);
  }
  std::vector<std::int64_t> i64(const std::string& name, std::optional<std::uint64_t> count = std::nullopt) const {
    return values<std::int64_t>(name, record_type::i64, count);
  }
  double scalar(const std::string& name) const { return f64(name, 1)[0]; }
  std::string text(const std::string& name) const {
    const auto& s = section(name);
    if (s.type != record_type::bytes) throw error(path_ + ": section '" + name + "' is not text");
    return std::string(s.data.begin(), s.data.end());
  }
  const std::string& path() const { return path_; }

 private:
  record_reader() = default;

  void parse(std::span<const std::uint8_t> bytes, const std::string& kind, std::uint32_t max_version) {
    if (bytes.size() < 8 || std::memcmp(bytes.data(), "DEEPIDR1", 8) != 0)
      throw error(path_ + ": not a deepid record file (bad magic)");
    if (bytes.size() < 8 + 4 + 8) throw error(path_ + ": truncated file (" + std::to_string(bytes.size()) + " bytes)");
    std::uint64_t stored = 0;
    std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
    std::size_t at = 8;
    const std::size_t end = bytes.size() - 8;
    auto need = [&](std::size_t n) {
      if (at + n > end) throw error(path_ + ": truncated file (a section runs past the end)");
    };
    auto get_u32 = [&] {
      need(4);
      std::uint32_t v;
      std::memcpy(&v, bytes.data() + at, 4);
      at += 4;
      return v;
    };
    auto get_string = [&] {
      const auto n = get_u32();
      need(n);
      std::string s(reinterpret_cast<const char*>(bytes.data() + at), n);
      at += n;
      return s;
    };
    const auto format = get_u32();
    if (format != 1) throw error(path_ + ": record format version " + std::to_string(format) + " is not supported (1 is)");
    kind_ = get_string();
    version_ = get_u32();
    if (kind_ != kind) throw error(path_ + ": holds a '" + kind_ + "', not a '" + kind + "'");
    if (version_ > max_version)
      throw error(path_ + ": '" + kind_ + "' version " + std::to_string(version_) + " is newer than this build reads (" +
                  std::to_string(max_version) + ")");
    const auto count = get_u32();
    for (std::uint32_t k = 0; k < count; ++k) {
      const std::string name = get_string();
      record_section s;
      const auto type = get_u32();
      if (type > std::uint32_t(record_type::bytes)) {
        // A damaged byte is reported as such; an unknown type under a right
        // checksum is a file this build cannot read.
        if (fnv1a(bytes.data(), end) != stored) throw error(path_ + ": checksum mismatch (the file is corrupt)");
        throw error(path_ + ": corrupt section '" + name + "' (element type " + std::to_string(type) + ")");
      }
      s.type = record_type(type);
      const auto rank = get_u32();
      if (rank > 8) throw error(path_ + ": corrupt section '" + name + "' (rank " + std::to_string(rank) + ")");
      const std::uint64_t width = s.type == record_type::bytes ? 1 : s.type == record_type::f32 ? 4 : 8;
      // The values must fit in the rest of the file; checked axis by axis, so
      // a product of corrupt dimensions cannot wrap around to a small count.
      const std::uint64_t room = (end - at) / width;
      std::uint64_t values = 1;
      for (std::uint32_t r = 0; r < rank; ++r) {
        need(8);
        std::uint64_t d;
        std::memcpy(&d, bytes.data() + at, 8);
        at += 8;
        s.dims.push_back(d);
        if (d != 0 && values > room / d) values = room + 1;  // too many, unless a later axis is 0
        else values *= d;
      }
      if (values > (end - at) / width)
        throw error(path_ + ": truncated file (section '" + name + "' is cut short)");
      const std::size_t n = std::size_t(s.count() * width);
      s.data.assign(bytes.begin() + std::ptrdiff_t(at), bytes.begin() + std::ptrdiff_t(at + n));
      at += n;
      sections_[name] = std::move(s);
    }
    if (fnv1a(bytes.data(), end) != stored) throw error(path_ + ": checksum mismatch (the file is corrupt)");
  }

  template <class T>
  std::vector<T> values(const std::string& name, record_type type, std::optional<std::uint64_t> expected) const {
    const auto& s = section(name);
    if (s.type != type) throw error(path_ + ": section '" + name + "' has the wrong element type");
    if (expected && s.count() != *expected)
      throw error(path_ + ": section '" + name + "' holds " + std::to_string(s.count()) + " values, expected " +
                  std::to_string(*expected));
    std::vector<T> out(s.count());
    if (!out.empty()) std::memcpy(out.data(), s.data.data(), out.size() * sizeof(T));
    return out;
  }

  std::string path_, kind_;
  std::uint32_t version_ = 0;
  std::map<std::string, record_section> sections_;
};

}  // namespace io
DEEPID_NAMESPACE_END
