#pragma once
// Read-only access to the members of an uncompressed tar archive (ustar, as
// LFW and the CelebA subset ship) without extracting it: the headers are
// indexed once, members are read by offset. Safe to read from many threads.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/limits.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

class tar_archive {
 public:
  explicit tar_archive(std::filesystem::path path) : path_(std::move(path)) { index(); }

  const std::filesystem::path& path() const { return path_; }
  bool contains(const std::string& member) const { return members_.count(member) > 0; }
  std::size_t size() const { return members_.size(); }
  std::vector<std::string> names() const {
    std::vector<std::string> list;
    for (const auto& [name, entry] : members_) list.push_back(name);
    return list;
  }

  std::vector<std::uint8_t> read(const std::string& member) const {
    const auto it = members_.find(member);
    if (it == members_.end()) throw error(path_.string() + ": no member '" + member + "' in the archive");
    check_member_bytes(path_.string() + ": member '" + member + "'", it->second.size);
    std::vector<std::uint8_t> bytes(it->second.size);
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw error(path_.string() + ": cannot open the archive");
    in.seekg(std::streamoff(it->second.offset));
    in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()));
    if (std::size_t(in.gcount()) != bytes.size())
      throw error(path_.string() + ": member '" + member + "' is truncated");
    return bytes;
  }

 private:
  struct entry {
    std::uint64_t offset = 0, size = 0;
  };

  // Numeric header fields are octal text, or (GNU, for sizes of 8 GiB and
  // more) base-256 big-endian binary flagged by the top bit of the first byte.
  static std::uint64_t octal(const char* field, std::size_t length) {
    std::uint64_t value = 0;
    if (static_cast<unsigned char>(field[0]) & 0x80) {
      for (std::size_t i = 1; i < length; ++i) {
        if (value >> 56) return std::numeric_limits<std::uint64_t>::max();
        value = value << 8 | static_cast<unsigned char>(field[i]);
      }
      return value;
    }
    for (std::size_t i = 0; i < length && field[i]; ++i) {
      if (field[i] == ' ') continue;
      if (field[i] < '0' || field[i] > '7') break;
      value = value * 8 + std::uint64_t(field[i] - '0');
    }
    return value;
  }

  void index() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw error(path_.string() + ": cannot open the archive");
    in.seekg(0, std::ios::end);
    const std::uint64_t file_size = std::uint64_t(in.tellg());
    in.seekg(0);
    std::uint64_t offset = 0;
    char header[512];
    std::string long_name;
    while (offset + 512 <= file_size) {
      in.seekg(std::streamoff(offset));
      in.read(header, 512);
      if (in.gcount() != 512) break;
      bool zero = true;
      for (char c : header) zero = zero && c == 0;
      if (zero) break;  // end-of-archive marker (an archive of no files is still refused below)
      // Header checksum: sum of all bytes with the checksum field as spaces.
      std::uint64_t sum = 0;
      for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
      if (sum != octal(header + 148, 8))
        throw error(path_.string() + ": corrupt tar header at byte " + std::to_string(offset) +
                    " (not a tar archive, or damaged)");
      const std::uint64_t size = octal(header + 124, 12);
      const char type = header[156];
      std::string name = long_name.empty() ? std::string(header, strnlen(header, 100)) : long_name;
      long_name.clear();
      if (std::string(header + 257, 5) == "ustar" && header[345]) name = std::string(header + 345, strnlen(header + 345, 155)) + "/" + name;
      const std::uint64_t data = offset + 512;
      if (size > file_size - data)
        throw error(path_.string() + ": truncated archive: member '" + name + "' needs " + std::to_string(size) +
                    " bytes past byte " + std::to_string(data));
      if (type == 'L') {  // GNU long name for the next member
        if (size > 65536)
          throw error(path_.string() + ": corrupt tar header at byte " + std::to_string(offset) + " (a long name of " +
                      std::to_string(size) + " bytes)");
        std::string text(size, '\0');
        in.seekg(std::streamoff(data));
        in.read(text.data(), std::streamsize(size));
        long_name = text.c_str();
      } else if (type == '0' || type == '\0') {
        members_[name] = {data, size};
      }
      offset = data + (size + 511) / 512 * 512;
    }
    if (members_.empty()) throw error(path_.string() + ": no members found (empty or not a tar archive)");
  }

  std::filesystem::path path_;
  std::map<std::string, entry> members_;
};

}  // namespace face
DEEPID_NAMESPACE_END
