#pragma once
// Cutting a face into the patches of a scheme: each patch is one bilinear warp
// of the original image (alignment and crop composed into one similarity, so
// there is no intermediate resampling). Flipped counterparts follow DeepID1's
// rule: the flip of patch p is the mirror image of patch flip_partner(p), so
// the left-eye patch's counterpart is the mirrored right-eye patch.
// A jittered cutter (face/jitter.hpp) samples through a perturbed alignment
// and may change the colours; its patch boxes stay where the face's
// landmarks put them, so the perturbation shows in every patch.
//
// Output: float C x H x W in [0, 1], channels R, G, B (or one gray channel).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <span>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/face/alignment.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/jitter.hpp"
#include "deepid/face/landmarks.hpp"
#include "deepid/face/patch_scheme.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

// A patch's box in the canonical frame (pixels of the alignment template).
struct patch_box {
  point2 centre;
  double width = 0, height = 0;
};

inline patch_box locate_patch(const patch_def& d, const landmarks5& aligned, const alignment_template& t) {
  const double iod = t.inter_ocular();
  const point2 anchor_point =
      d.centre == anchor::face_centre ? (t.eye_centre() + t.mouth_centre) * 0.5 : aligned.points[std::size_t(d.centre)];
  const double width = d.width * iod;
  return {{anchor_point.x + d.dx * iod, anchor_point.y + d.dy * iod}, width, width * double(d.rows) / double(d.cols)};
}

// Image -> patch pixel coordinates for patch `d` of a face whose image ->
// canonical alignment is `align`.
inline similarity patch_transform(const patch_def& d, const similarity& align, const landmarks5& aligned,
                                  const alignment_template& t) {
  const patch_box box = locate_patch(d, aligned, t);
  const double s = double(d.cols) / box.width;  // patch pixels per canonical pixel
  // patch = s * (canonical - box corner) - 0.5: pixel centres at integers.
  const similarity crop{s, 0, -s * (box.centre.x - box.width / 2) - 0.5, -s * (box.centre.y - box.height / 2) - 0.5};
  return crop.then_after(align);
}

// One face, aligned once, cut into any patch of a scheme.
class face_cutter {
 public:
  face_cutter(const cv::Mat& bgr_image, const landmarks5& l, const alignment_template& t = {})
      : image_(checked(bgr_image)), template_(t), align_(alignment_transform(l, t)), aligned_(align_.apply(l)),
        sample_(align_) {}

  // A jittered copy: the canonical frame perturbed by `jitter` (about the
  // template's face centre) and, when it says so, the colours changed. The
  // boxes are those of the unperturbed face: landmark-anchored patches do not
  // follow the shift, as they would not follow an alignment error.
  face_cutter(const cv::Mat& bgr_image, const landmarks5& l, const alignment_template& t, const jitter_draw& jitter)
      : face_cutter(bgr_image, l, t) {
    sample_ = jitter_similarity(jitter, (t.eye_centre() + t.mouth_centre) * 0.5).then_after(align_);
    if (jitter.photometric_change) light_ = jitter.light, changes_light_ = true;
  }

  // Writes patch `d` as C x H x W floats in [0, 1] (mirrored when `mirror`).
  // Sampling is bilinear with black outside the image; gray is OpenCV's
  // 0.299 R + 0.587 G + 0.114 B of the interpolated colour.
  void cut(const patch_def& d, float* out, bool mirror = false) const {
    const similarity to_image = patch_transform(d, sample_, aligned_, template_).inverse();
    const std::size_t plane = d.rows * d.cols;
    const int w = image_.cols, h = image_.rows;
    const auto step = image_.step[0];
    for (std::size_t v = 0; v < d.rows; ++v) {
      const point2 row = to_image({0.0, double(v)});
      for (std::size_t u = 0; u < d.cols; ++u) {
        // to_image is linear: step (a, b) per column.
        const double px = row.x + to_image.a * double(u), py = row.y + to_image.b * double(u);
        const int x0 = int(std::floor(px)), y0 = int(std::floor(py));
        const float ax = float(px - x0), ay = float(py - y0);
        float bgr[3];
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
          const std::uint8_t* p00 = image_.data + std::size_t(y0) * step + std::size_t(x0) * 3;
          const std::uint8_t* p10 = p00 + step;
          for (int c = 0; c < 3; ++c) {
            const float top = float(p00[c]) + ax * (float(p00[c + 3]) - float(p00[c]));
            const float bottom = float(p10[c]) + ax * (float(p10[c + 3]) - float(p10[c]));
            bgr[c] = top + ay * (bottom - top);
          }
        } else {
          bgr[0] = bgr[1] = bgr[2] = 0;
          for (int k = 0; k < 4; ++k) {
            const int x = x0 + (k & 1), y = y0 + (k >> 1);
            if (x < 0 || y < 0 || x >= w || y >= h) continue;
            const float weight = ((k & 1) ? ax : 1 - ax) * ((k >> 1) ? ay : 1 - ay);
            const std::uint8_t* q = image_.data + std::size_t(y) * step + std::size_t(x) * 3;
            for (int c = 0; c < 3; ++c) bgr[c] += weight * float(q[c]);
          }
        }
        const std::size_t i = v * d.cols + (mirror ? d.cols - 1 - u : u);
        if (changes_light_) {
          float rgb[3] = {bgr[2] * (1.0f / 255.0f), bgr[1] * (1.0f / 255.0f), bgr[0] * (1.0f / 255.0f)};
          light_.apply(rgb);
          if (d.channels == colour::gray) out[i] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
          else
            for (int c = 0; c < 3; ++c) out[std::size_t(c) * plane + i] = rgb[c];
        } else if (d.channels == colour::gray) {
          out[i] = (0.114f * bgr[0] + 0.587f * bgr[1] + 0.299f * bgr[2]) * (1.0f / 255.0f);
        } else {
          for (int c = 0; c < 3; ++c) out[std::size_t(c) * plane + i] = bgr[2 - c] * (1.0f / 255.0f);
        }
      }
    }
  }

  // Patch `index` of scheme S, or its flipped counterpart.
  template <patch_scheme S>
  void cut(std::size_t index, float* out, bool flipped) const {
    if (!flipped) return cut(S::patches[index], out, false);
    cut(S::patches[S::patches[index].flip_partner], out, true);
  }

  const similarity& alignment() const { return align_; }
  const landmarks5& aligned_landmarks() const { return aligned_; }
  const alignment_template& canonical() const { return template_; }

 private:
  static const cv::Mat& checked(const cv::Mat& image) {
    if (image.type() != CV_8UC3) throw error("face_cutter: the image must be 8-bit BGR (CV_8UC3)");
    return image;
  }

  cv::Mat image_;
  alignment_template template_;
  similarity align_;
  landmarks5 aligned_;
  similarity sample_;  // image -> canonical frame the pixels are sampled through (align_ unless jittered)
  photometric light_{};
  bool changes_light_ = false;
};

}  // namespace face
DEEPID_NAMESPACE_END
