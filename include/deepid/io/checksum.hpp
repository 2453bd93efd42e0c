#pragma once
// FNV-1a (64-bit): the checksum of record files, of weights manifests' tensor
// files and of feature files' name indexes. Not cryptographic: it catches
// damage and mismatched files, not an adversary.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

inline constexpr std::uint64_t fnv1a_start = 0xcbf29ce484222325ull;

// Continues the checksum `h` over `size` more bytes, so a file can be summed
// in pieces as it is written or read.
inline std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size, std::uint64_t h = fnv1a_start) {
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

// FNV-1a of a whole file, read in chunks.
inline std::uint64_t file_checksum(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw error(file.string() + ": cannot open the file");
  std::vector<char> chunk(1 << 20);
  std::uint64_t h = fnv1a_start;
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    h = fnv1a(reinterpret_cast<const std::uint8_t*>(chunk.data()), std::size_t(in.gcount()), h);
  }
  if (in.bad()) throw error(file.string() + ": read error");
  return h;
}

// 16 lower-case hex digits, as the text formats store it.
inline std::string checksum_text(std::uint64_t checksum) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(checksum));
  return hex;
}

}  // namespace io
DEEPID_NAMESPACE_END
