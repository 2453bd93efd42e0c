#pragma once
// Image loading through OpenCV, with errors that name the file. Images are
// 8-bit BGR cv::Mat inside deepid (OpenCV's order); patches come out RGB.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/io/atomic_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

// Decodes an encoded image (JPEG, PNG, ...) held in memory; `source` names it.
namespace detail {
// Whether JPEG data runs to its end-of-image marker. The decoder fills what a
// truncated file lacks with grey and reports success, so the library checks:
// the marker segments up to the first start-of-scan, then an EOI (FF D9)
// anywhere after it (entropy-coded data stuff every FF with 00, so FF D9
// there is the marker). Data that is not JPEG is left to the decoder.
inline bool jpeg_complete(std::span<const std::uint8_t> b) {
  const std::size_t n = b.size();
  if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return true;
  std::size_t pos = 2;
  while (pos + 1 < n) {
    if (b[pos] != 0xFF) return false;  // the segment structure is broken
    const std::uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {
      ++pos;  // fill byte
      continue;
    }
    if (marker == 0xD9) return true;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      pos += 2;  // markers without a length
      continue;
    }
    if (pos + 3 >= n) return false;
    const std::size_t length = (std::size_t(b[pos + 2]) << 8) | b[pos + 3];
    if (length < 2 || pos + 2 + length > n) return false;
    pos += 2 + length;
    if (marker == 0xDA) break;  // start of scan: entropy-coded data follows
  }
  for (; pos + 1 < n; ++pos)
    if (b[pos] == 0xFF && b[pos + 1] == 0xD9) return true;
  return false;
}
}  // namespace detail

inline cv::Mat decode_image(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.empty()) throw error(source + ": the image file is empty");
  if (!detail::jpeg_complete(bytes))
    throw error(source + ": truncated or corrupt JPEG (the data ends before its end-of-image marker)");
  cv::Mat image;
  try {
    const cv::Mat raw(1, int(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
    image = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw error(source + ": cannot decode the image (" + e.msg + ")");
  }
  if (image.empty()) throw error(source + ": not a readable image (corrupt or unsupported format)");
  return image;
}

inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(path.string() + ": cannot open the file");
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
  if (!cv::imencode(ext, image, encoded)) throw error(path.string() + ": cannot encode an image as " + ext);
  io::atomic_file out(path);
  out.write(encoded.data(), encoded.size());
  out.commit();
}

}  // namespace face
DEEPID_NAMESPACE_END
