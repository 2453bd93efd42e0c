#pragma once
// A picture of a scheme on one face: the aligned face with every region's box
// drawn (one colour per region, scales nested), and every patch, original and
// flipped counterpart, as the nets see them, one row per region.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/patches.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

namespace detail {
inline cv::Scalar region_colour(std::size_t region) {
  static const std::array<cv::Scalar, 10> palette{
      cv::Scalar(60, 60, 230),  cv::Scalar(60, 200, 60),  cv::Scalar(230, 120, 40), cv::Scalar(40, 200, 230),
      cv::Scalar(200, 60, 200), cv::Scalar(230, 230, 60), cv::Scalar(120, 60, 230), cv::Scalar(60, 150, 255),
      cv::Scalar(255, 150, 150), cv::Scalar(150, 255, 150)};
  return palette[region % palette.size()];
}

// A C x H x W float patch as an 8-bit BGR image, scaled by `zoom`.
inline cv::Mat patch_image(const std::vector<float>& chw, const patch_def& d, int zoom) {
  cv::Mat img(int(d.rows), int(d.cols), CV_8UC3);
  const std::size_t plane = d.rows * d.cols;
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) {
      const float v = d.channels == colour::gray ? chw[i] : chw[std::size_t(2 - c) * plane + i];
      img.data[i * 3 + std::size_t(c)] = cv::saturate_cast<std::uint8_t>(v * 255.0f);
    }
  cv::Mat big;
  cv::resize(img, big, cv::Size(), zoom, zoom, cv::INTER_NEAREST);
  return big;
}
}  // namespace detail

template <patch_scheme S>
cv::Mat contact_sheet(const cv::Mat& bgr_image, const landmarks5& l, const alignment_template& t = {}) {
  const int zoom = 4, patch_zoom = 2, pad = 6;
  const face_cutter cutter(bgr_image, l, t);
  // The aligned face with room around it for the larger scales.
  const double margin = 0.6;
  const int fw = int(t.width * zoom * (1 + 2 * margin)), fh = int(t.height * zoom * (1 + 2 * margin));
  const similarity to_view = similarity{double(zoom), 0, t.width * zoom * margin, t.height * zoom * margin}.then_after(
      cutter.alignment());
  cv::Mat face = warp(bgr_image, to_view, fw, fh);
  const similarity canon_to_view{double(zoom), 0, t.width * zoom * margin, t.height * zoom * margin};
  for (const auto& d : S::patches) {
    if (d.channels != colour::rgb) continue;  // gray patches share the RGB boxes
    const patch_box box = locate_patch(d, cutter.aligned_landmarks(), t);
    const point2 a = canon_to_view({box.centre.x - box.width / 2, box.centre.y - box.height / 2});
    const point2 b = canon_to_view({box.centre.x + box.width / 2, box.centre.y + box.height / 2});
    cv::rectangle(face, cv::Point2d(a.x, a.y), cv::Point2d(b.x, b.y), detail::region_colour(d.region),
                  d.scale == 0 ? 2 : 1, cv::LINE_AA);
  }
  for (const auto& p : cutter.aligned_landmarks().points)
    cv::circle(face, cv::Point2d(canon_to_view(p).x, canon_to_view(p).y), 4, cv::Scalar(255, 255, 255), -1, cv::LINE_AA);

  // Patch grid: rows = regions, columns = (scale, colour) originals then flips.
  std::size_t regions = 0, per_region = 0, cell_w = 0, cell_h = 0;
  for (const auto& d : S::patches) {
    regions = std::max(regions, d.region + 1);
    cell_w = std::max(cell_w, d.cols * patch_zoom);
    cell_h = std::max(cell_h, d.rows * patch_zoom);
  }
  per_region = S::patches.size() / regions;
  const int label_h = 14;
  const int grid_w = int((cell_w + pad) * per_region * 2 + pad * 3), grid_h = int((cell_h + pad + label_h) * regions + pad);
  cv::Mat sheet(std::max(fh, grid_h) + 30, fw + grid_w, CV_8UC3, cv::Scalar(32, 32, 32));
  face.copyTo(sheet(cv::Rect(0, 30, fw, fh)));
  cv::putText(sheet, "aligned face, regions (thick: smallest scale)", cv::Point(8, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5,
              cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
  cv::putText(sheet, "patches | flipped counterparts (eyes and mouth corners swap)", cv::Point(fw + pad, 20),
              cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(230, 230, 230), 1, cv::LINE_AA);
  std::vector<std::size_t> column(regions, 0);
  for (std::size_t i = 0; i < S::patches.size(); ++i) {
    const auto& d = S::patches[i];
    const int row_y = 30 + pad + int(d.region * (cell_h + pad + label_h));
    const std::size_t col = column[d.region]++;
    for (int flipped = 0; flipped < 2; ++flipped) {
      std::vector<float> chw(d.shape().size());
      cutter.cut<S>(i, chw.data(), flipped == 1);
      const cv::Mat img = detail::patch_image(chw, d, patch_zoom);
      const int x = fw + pad + int((col + flipped * per_region) * (cell_w + pad)) + (flipped ? pad * 2 : 0);
      img.copyTo(sheet(cv::Rect(x, row_y + label_h, img.cols, img.rows)));
      if (!flipped && col == 0)
        cv::putText(sheet, std::string(d.label()).substr(0, std::string(d.label()).find('.')),
                    cv::Point(x, row_y + label_h - 3), cv::FONT_HERSHEY_PLAIN, 0.9, detail::region_colour(d.region), 1,
                    cv::LINE_AA);
    }
  }
  return sheet;
}

}  // namespace face
DEEPID_NAMESPACE_END
