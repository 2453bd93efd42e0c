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
inline cv::Mat decode_image(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.empty()) throw error(source + ": the image file is empty");
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
