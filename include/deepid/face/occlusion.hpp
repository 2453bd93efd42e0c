#pragma once
// Test-time occlusion of the aligned face (the DeepID2+ robustness study):
// a black bar over the bottom part of the face, or one black n x n block at
// a random position. Both are defined on the canonical canvas of the
// alignment template (96 x 112 pixels, face/alignment.hpp) and applied to the
// original image through the face's alignment, so every patch cut from the
// image afterwards sees the same occluded face, whatever its scale.
//
// - bottom bar, fraction f: every pixel whose canonical y lies in the bottom
//   ceil(f * 112) rows of the canvas or below it (the bar runs across the
//   whole width, so large patches that reach past the canvas see it too);
// - block of n pixels: the canvas square [x0, x0 + n) x [y0, y0 + n), x0 and
//   y0 uniform over the positions that keep it inside the canvas.
// A pixel is occluded when its centre maps into the region.
#include <cmath>
#include <cstdint>
#include <string>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/face/alignment.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/landmarks.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

// A rectangle of the canonical canvas, [x0, x1) x [y0, y1); y1 may be
// unbounded (a bar to the bottom).
struct canvas_region {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool contains(point2 p) const { return p.x >= x0 && p.x < x1 && p.y >= y0 && p.y < y1; }
};

// The bottom bar covering `fraction` (0..1) of the canvas height.
inline canvas_region bottom_bar(double fraction, const alignment_template& t = {}) {
  if (!(fraction >= 0 && fraction <= 1)) throw error("occlusion: the bar's fraction must lie in [0, 1]");
  const double rows = std::ceil(fraction * t.height - 1e-9);
  return {-1e300, double(t.height) - rows, 1e300, 1e300};
}

// One `size` x `size` block at a position drawn from `gen`, inside the canvas.
inline canvas_region random_block(int size, rng& gen, const alignment_template& t = {}) {
  if (size < 1 || size > t.width || size > t.height)
    throw error("occlusion: a block of " + std::to_string(size) + " pixels does not fit the " +
                std::to_string(t.width) + "x" + std::to_string(t.height) + " aligned face");
  const int x0 = int(gen.next() % std::uint64_t(t.width - size + 1));
  const int y0 = int(gen.next() % std::uint64_t(t.height - size + 1));
  return {double(x0), double(y0), double(x0 + size), double(y0 + size)};
}

// Blacks out (in place) the pixels of `image` whose centres the face's
// alignment maps into `region`.
inline void occlude(cv::Mat& image, const landmarks5& l, const canvas_region& region, const alignment_template& t = {}) {
  if (image.empty() || image.depth() != CV_8U) throw error("occlusion: the image must be 8-bit and not empty");
  const similarity to_canvas = alignment_transform(l, t);
  const int channels = image.channels();
  for (int y = 0; y < image.rows; ++y) {
    std::uint8_t* row = image.ptr<std::uint8_t>(y);
    for (int x = 0; x < image.cols; ++x)
      if (region.contains(to_canvas(point2{double(x), double(y)})))
        for (int c = 0; c < channels; ++c) row[x * channels + c] = 0;
  }
}

}  // namespace face
DEEPID_NAMESPACE_END
