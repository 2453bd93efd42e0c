#pragma once
// Five facial landmarks: eye centres, nose tip, mouth corners. "Left" and
// "right" are IMAGE-left and image-right (image-left is the person's right
// eye), the convention of every landmark list deepid reads.
#include <array>
#include <cmath>
#include <string>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct point2 {
  double x = 0, y = 0;
  constexpr point2 operator+(point2 o) const { return {x + o.x, y + o.y}; }
  constexpr point2 operator-(point2 o) const { return {x - o.x, y - o.y}; }
  constexpr point2 operator*(double s) const { return {x * s, y * s}; }
  constexpr bool operator==(const point2&) const = default;
};

inline double distance(point2 a, point2 b) { return std::hypot(a.x - b.x, a.y - b.y); }

enum class landmark { left_eye = 0, right_eye = 1, nose = 2, left_mouth = 3, right_mouth = 4 };

inline constexpr std::array<const char*, 5> landmark_names{"left eye", "right eye", "nose tip", "left mouth corner",
                                                           "right mouth corner"};

struct landmarks5 {
  std::array<point2, 5> points{};  // indexed by `landmark`

  constexpr point2& operator[](landmark l) { return points[std::size_t(l)]; }
  constexpr const point2& operator[](landmark l) const { return points[std::size_t(l)]; }
  point2 eye_centre() const { return ((*this)[landmark::left_eye] + (*this)[landmark::right_eye]) * 0.5; }
  point2 mouth_centre() const { return ((*this)[landmark::left_mouth] + (*this)[landmark::right_mouth]) * 0.5; }
  double inter_ocular() const { return distance((*this)[landmark::left_eye], (*this)[landmark::right_eye]); }

  // The landmarks of the horizontally mirrored image (width `image_width`):
  // x -> width - x, and image-left/right labels swap so they stay image-side.
  landmarks5 mirrored(double image_width) const {
    landmarks5 m;
    const std::array<int, 5> partner{1, 0, 2, 4, 3};
    for (std::size_t i = 0; i < 5; ++i) m.points[i] = {image_width - points[partner[i]].x, points[partner[i]].y};
    return m;
  }
};

// Throws when landmarks cannot define a face: not finite, eyes (nearly)
// coincide, or points outside the image by more than the face's size or the
// image's size, whichever is smaller (a far-off point inflates the face size
// it would be measured against).
// `where` names the source (file and line, or image) for the message.
inline void validate(const landmarks5& l, double image_width, double image_height, const std::string& where) {
  for (std::size_t i = 0; i < 5; ++i)
    if (!std::isfinite(l.points[i].x) || !std::isfinite(l.points[i].y))
      throw error(where + ": the " + landmark_names[i] + " coordinate is not a finite number");
  const double iod = l.inter_ocular();
  if (!(iod >= 1.0))
    throw error(where + ": degenerate landmarks: the eye centres coincide (inter-ocular distance " +
                std::to_string(iod) + " px)");
  const double face = std::max(iod, distance(l.eye_centre(), l.mouth_centre()));
  if (!(face >= 1.0))
    throw error(where + ": degenerate landmarks: the mouth centre coincides with the eye centre");
  if (image_width > 0 && image_height > 0) {
    const double margin = std::min(face, std::max(image_width, image_height));
    for (std::size_t i = 0; i < 5; ++i) {
      const auto p = l.points[i];
      if (p.x < -margin || p.y < -margin || p.x > image_width + margin || p.y > image_height + margin)
        throw error(where + ": the " + landmark_names[i] + " (" + std::to_string(p.x) + ", " + std::to_string(p.y) +
                    ") lies outside the " + std::to_string(int(image_width)) + "x" + std::to_string(int(image_height)) +
                    " image by more than the face size");
    }
  }
}

}  // namespace face
DEEPID_NAMESPACE_END
