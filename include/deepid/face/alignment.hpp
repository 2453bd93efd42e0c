#pragma once
// DeepID's "weak" alignment: a least-squares similarity taking the two eye
// centres and the mouth-corner midpoint onto a canonical template, the image
// warped with bilinear sampling.
//
// The canonical frame is the widely used 96x112 five-point template: left eye (30.2946, 51.6963), right eye (65.5318,
// 51.5014), mouth corners (33.5493, 92.3655) and (62.7299, 92.2041), so the
// mouth midpoint is (48.1396, 92.2848). Coordinates are OpenCV pixel
// coordinates (x right, y down, pixel centres at integers).
#include <array>
#include <cmath>
#include <string>

#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/landmarks.hpp"
#include "deepid/face/similarity.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct alignment_template {
  point2 left_eye{30.2946, 51.6963}, right_eye{65.5318, 51.5014}, mouth_centre{48.1396, 92.2848};
  int width = 96, height = 112;  // the canvas aligned_face() draws

  double inter_ocular() const { return distance(left_eye, right_eye); }
  point2 eye_centre() const { return (left_eye + right_eye) * 0.5; }
};

// Image -> canonical frame, fitted on (left eye, right eye, mouth midpoint).
inline similarity alignment_transform(const landmarks5& l, const alignment_template& t = {}) {
  const std::array<point2, 3> from{l[landmark::left_eye], l[landmark::right_eye], l.mouth_centre()};
  const std::array<point2, 3> to{t.left_eye, t.right_eye, t.mouth_centre};
  return fit_similarity(from, to);
}

// Mean distance (canonical px) between the three anchors mapped by the fit and
// the template: how far a face's geometry is from the template's.
inline double alignment_residual(const landmarks5& l, const alignment_template& t = {}) {
  const similarity s = alignment_transform(l, t);
  return (distance(s(l[landmark::left_eye]), t.left_eye) + distance(s(l[landmark::right_eye]), t.right_eye) +
          distance(s(l.mouth_centre()), t.mouth_centre)) /
         3.0;
}

// OpenCV's 2x3 matrix of a similarity.
inline cv::Mat to_affine(const similarity& s) {
  return (cv::Mat_<double>(2, 3) << s.a, -s.b, s.tx, s.b, s.a, s.ty);
}

// Warps `image` with `image_to_target` into a width x height canvas (bilinear,
// black outside the image).
inline cv::Mat warp(const cv::Mat& image, const similarity& image_to_target, int width, int height) {
  cv::Mat out;
  cv::warpAffine(image, out, to_affine(image_to_target), cv::Size(width, height), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return out;
}

// The aligned face on the template's canvas, scaled by `zoom`.
inline cv::Mat aligned_face(const cv::Mat& image, const landmarks5& l, const alignment_template& t = {},
                            double zoom = 1.0) {
  const similarity to_canvas = similarity{zoom, 0, 0, 0}.then_after(alignment_transform(l, t));
  return warp(image, to_canvas, int(std::lround(t.width * zoom)), int(std::lround(t.height * zoom)));
}

}  // namespace face
DEEPID_NAMESPACE_END
