#pragma once
// Upper bounds on what one input file may make the library allocate. A file's
// header can claim any size (a .npy shape of 10^12 elements, a tar member of a
// terabyte, a 60,000 x 60,000 image in a 100 KB PNG); a sparse or hostile file
// can even back the claim. Loaders check these bounds before allocating and
// fail with an error that names the file, the size, the limit and how to
// raise it. Each limit reads its environment variable once, at first use;
// programs can also assign `deepid::limits()` directly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN

struct resource_limits {
  // One array in a .npy file or a record file (weights, features, verifiers,
  // checkpoints). The default holds a feature matrix of all of LFW from 60
  // patch nets (13,233 x 9,600 float32, about 0.5 GB) sixteen times over.
  std::uint64_t array_bytes = std::uint64_t(8) << 30;
  // One image file or tar member read into memory before decoding.
  std::uint64_t member_bytes = std::uint64_t(256) << 20;
  // Width x height of one decoded image (3 bytes per pixel once decoded).
  std::uint64_t image_pixels = 100'000'000;
};

namespace detail {

// Parses "1234", "64K", "512M", "8G" (powers of 1024) from `variable`.
inline std::uint64_t parse_limit(const char* variable, const char* text) {
  const std::string s(text);
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  int shift = 0;
  const std::string suffix = s.substr(digits);
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (suffix == "T" || suffix == "t") shift = 40;
  else if (!suffix.empty()) digits = 0;
  if (digits == 0 || digits > 15)
    throw error(std::string("environment variable ") + variable + "='" + s +
                "' is not a size (expected digits with an optional K, M, G or T suffix)");
  return std::stoull(s.substr(0, digits)) << shift;
}

inline void override_from_environment(std::uint64_t& limit, const char* variable) {
  if (const char* text = std::getenv(variable)) limit = parse_limit(variable, text);
}

inline std::string byte_text(std::uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 6) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

}  // namespace detail

// The process-wide limits: defaults, then the environment variables
// DEEPID_MAX_ARRAY_BYTES, DEEPID_MAX_MEMBER_BYTES and DEEPID_MAX_IMAGE_PIXELS.
inline resource_limits& limits() {
  static resource_limits current = [] {
    resource_limits l;
    detail::override_from_environment(l.array_bytes, "DEEPID_MAX_ARRAY_BYTES");
    detail::override_from_environment(l.member_bytes, "DEEPID_MAX_MEMBER_BYTES");
    detail::override_from_environment(l.image_pixels, "DEEPID_MAX_IMAGE_PIXELS");
    return l;
  }();
  return current;
}

// Throws naming `what` (the file, the member) when `bytes` exceeds the array limit.
inline void check_array_bytes(const std::string& what, std::uint64_t bytes) {
  if (bytes > limits().array_bytes)
    throw error(what + " needs " + detail::byte_text(bytes) + ", more than the limit of " +
                detail::byte_text(limits().array_bytes) + " for one array (raise it with DEEPID_MAX_ARRAY_BYTES)");
}

inline void check_member_bytes(const std::string& what, std::uint64_t bytes) {
  if (bytes > limits().member_bytes)
    throw error(what + " is " + detail::byte_text(bytes) + ", more than the limit of " +
                detail::byte_text(limits().member_bytes) +
                " for one image or archive member (raise it with DEEPID_MAX_MEMBER_BYTES)");
}

inline void check_image_pixels(const std::string& what, std::uint64_t width, std::uint64_t height) {
  if (width * height > limits().image_pixels)
    throw error(what + " is " + std::to_string(width) + " x " + std::to_string(height) + " pixels, more than the limit of " +
                std::to_string(limits().image_pixels) + " pixels (raise it with DEEPID_MAX_IMAGE_PIXELS)");
}

DEEPID_NAMESPACE_END
