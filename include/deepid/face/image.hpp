#pragma once
// Image loading through OpenCV, with errors that name the file. Images are
// 8-bit BGR cv::Mat inside deepid (OpenCV's order); patches come out RGB.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/limits.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/input_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

namespace detail {
struct image_size {
  std::uint64_t width = 0, height = 0;
};

inline std::uint64_t big_endian(std::span<const std::uint8_t> b, std::size_t at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | b[at + i];
  return v;
}

// What the marker segments of JPEG data (after its start-of-image marker)
// say: whether the data runs to its end-of-image marker, and the size the
// first start-of-frame declares. The decoder fills what a truncated file lacks
// with grey and reports success, so the library checks: the segments up to the
// first start-of-scan, then an EOI (FF D9) anywhere after it (entropy-coded
// data stuffs every FF with 00, so FF D9 there is the marker).
struct jpeg_layout {
  bool complete = false;
  std::optional<image_size> size;
};

inline jpeg_layout read_jpeg_layout(std::span<const std::uint8_t> b) {
  jpeg_layout layout;
  const std::size_t n = b.size();
  std::size_t pos = 2;
  while (pos + 1 < n) {
    if (b[pos] != 0xFF) return layout;  // the segment structure is broken
    const std::uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {
      ++pos;  // fill byte
      continue;
    }
    if (marker == 0xD9) {
      layout.complete = true;
      return layout;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      pos += 2;  // markers without a length
      continue;
    }
    if (pos + 3 >= n) return layout;
    // Start-of-frame markers (C0-CF, except DHT C4, JPG C8 and DAC CC) carry
    // precision, height, width.
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame && !layout.size && pos + 8 < n) layout.size = image_size{big_endian(b, pos + 7, 2), big_endian(b, pos + 5, 2)};
    const std::size_t length = std::size_t(big_endian(b, pos + 2, 2));
    if (length < 2 || pos + 2 + length > n) return layout;
    pos += 2 + length;
    if (marker == 0xDA) break;  // start of scan: entropy-coded data follows
  }
  for (; pos + 1 < n; ++pos)
    if (b[pos] == 0xFF && b[pos + 1] == 0xD9) {
      layout.complete = true;
      break;
    }
  return layout;
}

inline bool is_jpeg(std::span<const std::uint8_t> b) { return b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8; }

// Whether JPEG data is complete (above); data that is not JPEG is left to the
// decoder.
inline bool jpeg_complete(std::span<const std::uint8_t> b) { return !is_jpeg(b) || read_jpeg_layout(b).complete; }

// The size a PNG, JPEG or BMP header declares, read before decoding so that a
// small file claiming a huge image is refused before the decoder allocates.
// Other formats return nothing and are left to the decoder's own bound.
inline std::optional<image_size> declared_image_size(std::span<const std::uint8_t> b) {
  const std::size_t n = b.size();
  static constexpr std::uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n >= 24 && std::equal(png, png + 8, b.begin()) && std::equal(b.begin() + 12, b.begin() + 16, "IHDR"))
    return image_size{big_endian(b, 16, 4), big_endian(b, 20, 4)};
  if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
    auto le32 = [&](std::size_t at) {
      return std::int32_t(std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
                          std::uint32_t(b[at + 3]) << 24);
    };
    const std::int64_t w = le32(18), h = le32(22);
    return image_size{std::uint64_t(w < 0 ? -w : w), std::uint64_t(h < 0 ? -h : h)};
  }
  if (is_jpeg(b)) return read_jpeg_layout(b).size;
  return std::nullopt;
}
}  // namespace detail

// Decodes an encoded image (JPEG, PNG, ...) held in memory; `source` names it.
inline cv::Mat decode_image(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.empty()) throw error(source + ": the image file is empty");
  std::optional<detail::image_size> declared;
  if (detail::is_jpeg(bytes)) {
    const detail::jpeg_layout layout = detail::read_jpeg_layout(bytes);
    if (!layout.complete)
      throw error(source + ": truncated or corrupt JPEG (the data ends before its end-of-image marker)");
    declared = layout.size;
  } else {
    declared = detail::declared_image_size(bytes);
  }
  if (declared) check_image_pixels(source, declared->width, declared->height);
  cv::Mat image;
  try {
    const cv::Mat raw(1, int(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
    image = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw error(source + ": cannot decode the image (" + e.msg + ")");
  }
  if (image.empty()) throw error(source + ": not a readable image (corrupt or unsupported format)");
  check_image_pixels(source, std::uint64_t(image.cols), std::uint64_t(image.rows));
  return image;
}

inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  // open_input refuses a FIFO or device before opening it (the open would block).
  std::ifstream in = io::open_input(path, "the image", std::ios::in | std::ios::binary);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw error(path.string() + ": cannot read the file size (" + ec.message() + ")");
  check_member_bytes(path.string(), size);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

inline cv::Mat load_image(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  return decode_image(bytes, path.string());
}

// Writes a PNG/JPEG atomically: a reader sees the old file or the new one.
inline void save_image(const std::filesystem::path& path, const cv::Mat& image) {
  std::vector<std::uint8_t> encoded;
  const std::string ext = path.extension().string().empty() ? ".png" : path.extension().string();
  bool encoded_ok = false;
  try {
    encoded_ok = cv::imencode(ext, image, encoded);
  } catch (const cv::Exception& e) {
    throw error(path.string() + ": cannot encode an image as " + ext + " (" + e.err + ")");
  }
  if (!encoded_ok) throw error(path.string() + ": cannot encode an image as " + ext);
  io::atomic_file out(path);
  out.write(encoded.data(), encoded.size());
  out.commit();
}

}  // namespace face
DEEPID_NAMESPACE_END
