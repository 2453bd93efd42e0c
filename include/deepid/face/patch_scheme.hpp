#pragma once
// Patch schemes: which patches a face is cut into, each with the input shape
// of the net that reads it. A scheme is a type with a constexpr array of
// patch_def, so a scheme and a model are checked against each other at
// compile time (require_patch_input, models/patch_input.hpp) and users define
// their own schemes in their own translation units:
//
//   struct my_scheme {
//     static constexpr std::array<deepid::face::patch_def, 2> patches{{
//       {"face.rgb", deepid::face::anchor::face_centre, 0, 0, 2.5, 39, 31, deepid::face::colour::rgb, 0, 0, 0},
//       {"nose.gray", deepid::face::anchor::nose, 0, 0, 1.6, 31, 31, deepid::face::colour::gray, 1, 1, 0}}};
//   };
//
// Geometry is in the canonical frame of face/alignment.hpp, in units of the
// template's inter-ocular distance (IOD): a box of `width` IOD (height
// width * rows / cols) centred `dx, dy` IOD from its anchor. Global regions
// are anchored on the template's face centre (midway between eye centre and
// mouth midpoint), local ones on the aligned landmark itself.
#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>

#include "deepid/core/config.hpp"
#include "deepid/core/shape.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

enum class anchor { face_centre = -1, left_eye = 0, right_eye = 1, nose = 2, left_mouth = 3, right_mouth = 4 };
enum class colour { rgb, gray };

struct patch_def {
  char name[32]{};
  anchor centre = anchor::face_centre;
  double dx = 0, dy = 0;  // box centre offset from the anchor, IOD units
  double width = 1;       // box width, IOD units
  std::size_t rows = 1, cols = 1;
  colour channels = colour::rgb;
  std::size_t flip_partner = 0;  // the patch whose mirror is this one's flipped counterpart
  std::size_t region = 0, scale = 0;

  constexpr std::size_t channel_count() const { return channels == colour::rgb ? 3 : 1; }
  constexpr shape3 shape() const { return {channel_count(), rows, cols}; }
  constexpr std::string_view label() const { return std::string_view(name); }
};

template <class S>
concept patch_scheme = requires {
  { S::patches.size() } -> std::convertible_to<std::size_t>;
  { S::patches[0] } -> std::convertible_to<patch_def>;
};

template <patch_scheme S>
inline constexpr std::size_t patch_count = S::patches.size();

// The net input shape of patch I of scheme S, as a patch_shape type.
template <patch_scheme S, std::size_t I>
using scheme_patch_shape = patch_shape<S::patches[I].channel_count(), S::patches[I].rows, S::patches[I].cols>;

namespace detail {
template <std::size_t N>
constexpr bool flips_consistent(const std::array<patch_def, N>& p) {
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t j = p[i].flip_partner;
    if (j >= N || p[j].flip_partner != i || !(p[j].shape() == p[i].shape())) return false;
  }
  return true;
}
template <std::size_t N>
constexpr bool shapes_positive(const std::array<patch_def, N>& p) {
  for (const auto& d : p)
    if (d.rows == 0 || d.cols == 0 || !(d.width > 0)) return false;
  return true;
}
}  // namespace detail

}  // namespace face

namespace check {
template <bool Consistent>
struct scheme_flip_partners_pair_up {
  static_assert(Consistent, "patch scheme: every flip_partner must be a valid index whose partner points back and "
                            "whose patch has the same shape");
  static constexpr bool ok = Consistent;
};
template <bool Positive>
struct scheme_patches_have_size {
  static_assert(Positive, "patch scheme: every patch needs rows, cols and width > 0");
  static constexpr bool ok = Positive;
};
}  // namespace check

namespace face {

// Checks a scheme's flip pairs and sizes at compile time.
template <patch_scheme S>
constexpr bool validate_scheme() {
  return check::scheme_flip_partners_pair_up<detail::flips_consistent(S::patches)>::ok &&
         check::scheme_patches_have_size<detail::shapes_positive(S::patches)>::ok;
}

namespace detail {

constexpr void set_name(patch_def& d, std::string_view region, std::size_t scale, colour c) {
  std::size_t k = 0;
  for (char ch : region) d.name[k++] = ch;
  d.name[k++] = '.';
  d.name[k++] = 's';
  d.name[k++] = char('0' + scale);
  d.name[k++] = '.';
  for (char ch : std::string_view(c == colour::rgb ? "rgb" : "gray")) d.name[k++] = ch;
  d.name[k] = 0;
}

struct region_def {
  std::string_view name;
  anchor centre;
  double dx, dy;
  bool global;       // scales from the global list, else the local list
  bool rectangle;    // rows x cols of the rectangle patch, else the square
  std::size_t mirror;  // region index of the horizontal mirror
};

// Builds region x scale x colour patches (that order) from region and scale lists.
template <std::size_t R, std::size_t S>
constexpr std::array<patch_def, R * S * 2> build(const std::array<region_def, R>& regions,
                                                 const std::array<double, S>& global_widths,
                                                 const std::array<double, S>& local_widths, std::size_t rect_rows,
                                                 std::size_t rect_cols, std::size_t square) {
  std::array<patch_def, R * S * 2> out{};
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t s = 0; s < S; ++s)
      for (std::size_t c = 0; c < 2; ++c) {
        patch_def& d = out[(r * S + s) * 2 + c];
        const region_def& g = regions[r];
        d.centre = g.centre;
        d.width = g.global ? global_widths[s] : local_widths[s];
        d.rows = g.rectangle ? rect_rows : square;
        d.cols = g.rectangle ? rect_cols : square;
        // Square crops of the global rectangle move down with the same
        // relative offsets at every scale: dy is in units of the box width.
        d.dx = g.dx * d.width;
        d.dy = g.dy * d.width;
        d.channels = c == 0 ? colour::rgb : colour::gray;
        d.flip_partner = (g.mirror * S + s) * 2 + c;
        d.region = r;
        d.scale = s;
        set_name(d, g.name, s, d.channels);
      }
  return out;
}

// DeepID1's ten regions: the full-face rectangle, four squares
// sliding down it (rows 0-30, 3-33, 5-35, 8-38 of the 39-row rectangle) and
// five squares on the landmarks. Square dy is (offset + 15.5 - 19.5) / 31 of
// the box width, the rectangle's rows being 39/31 of its width.
inline constexpr std::array<region_def, 10> deepid1_regions{{
    {"face", anchor::face_centre, 0, 0, true, true, 0},
    {"eyes", anchor::face_centre, 0, (0 + 15.5 - 19.5) / 31.0, true, false, 1},
    {"eyes_nose", anchor::face_centre, 0, (3 + 15.5 - 19.5) / 31.0, true, false, 2},
    {"nose_mouth", anchor::face_centre, 0, (5 + 15.5 - 19.5) / 31.0, true, false, 3},
    {"mouth_chin", anchor::face_centre, 0, (8 + 15.5 - 19.5) / 31.0, true, false, 4},
    {"left_eye", anchor::left_eye, 0, 0, false, false, 6},
    {"right_eye", anchor::right_eye, 0, 0, false, false, 5},
    {"nose", anchor::nose, 0, 0, false, false, 7},
    {"left_mouth", anchor::left_mouth, 0, 0, false, false, 9},
    {"right_mouth", anchor::right_mouth, 0, 0, false, false, 8},
}};

}  // namespace detail

// DeepID1: 10 regions x 3 scales x {RGB, gray} = 60 patches; one 39x31
// rectangle region and nine 31x31 squares. Widths (IOD) per scale follow the
// commonly used public recipe (inter-ocular distance 0.40/0.30/0.24 of the
// patch width for global regions, 0.64/0.48/0.39 for local ones).
struct deepid1_scheme {
  static constexpr std::array<patch_def, 60> patches =
      detail::build(detail::deepid1_regions, std::array<double, 3>{2.5, 3.333, 4.167},
                    std::array<double, 3>{1.5625, 2.0833, 2.5641}, 39, 31, 31);
};

// DeepID1's larger system: the same 10 regions at 5 scales = 100 patches.
struct deepid1_scheme_100 {
  static constexpr std::array<patch_def, 100> patches =
      detail::build(detail::deepid1_regions, std::array<double, 5>{2.5, 2.9, 3.333, 3.75, 4.167},
                    std::array<double, 5>{1.5625, 1.82, 2.0833, 2.32, 2.5641}, 39, 31, 31);
};

namespace detail {
// DeepID2's candidate pool: patches of 55x47 / 47x47 varying
// in position, scale and colour. Twenty regions (the ten of DeepID1 plus
// half-face, cheek, forehead and chin squares) x 5 scales x 2 colours = 200.
inline constexpr std::array<region_def, 20> deepid2_regions{{
    {"face", anchor::face_centre, 0, 0, true, true, 0},
    {"eyes", anchor::face_centre, 0, (0 + 23.5 - 27.5) / 47.0, true, false, 1},
    {"eyes_nose", anchor::face_centre, 0, (3 + 23.5 - 27.5) / 47.0, true, false, 2},
    {"nose_mouth", anchor::face_centre, 0, (5 + 23.5 - 27.5) / 47.0, true, false, 3},
    {"mouth_chin", anchor::face_centre, 0, (8 + 23.5 - 27.5) / 47.0, true, false, 4},
    {"left_eye", anchor::left_eye, 0, 0, false, false, 6},
    {"right_eye", anchor::right_eye, 0, 0, false, false, 5},
    {"nose", anchor::nose, 0, 0, false, false, 7},
    {"left_mouth", anchor::left_mouth, 0, 0, false, false, 9},
    {"right_mouth", anchor::right_mouth, 0, 0, false, false, 8},
    {"left_half_top", anchor::face_centre, -0.18, -0.15, true, false, 11},
    {"right_half_top", anchor::face_centre, 0.18, -0.15, true, false, 10},
    {"left_half_bottom", anchor::face_centre, -0.18, 0.15, true, false, 13},
    {"right_half_bottom", anchor::face_centre, 0.18, 0.15, true, false, 12},
    {"left_cheek", anchor::nose, -0.5, 0.1, false, false, 15},
    {"right_cheek", anchor::nose, 0.5, 0.1, false, false, 14},
    {"forehead", anchor::face_centre, 0, -0.3, true, false, 16},
    {"chin", anchor::face_centre, 0, 0.3, true, false, 17},
    {"left_eye_brow", anchor::left_eye, 0, -0.25, false, false, 19},
    {"right_eye_brow", anchor::right_eye, 0, -0.25, false, false, 18},
}};
}  // namespace detail

struct deepid2_candidates {
  static constexpr std::array<patch_def, 200> patches =
      detail::build(detail::deepid2_regions, std::array<double, 5>{2.2, 2.6, 3.0, 3.5, 4.0},
                    std::array<double, 5>{1.4, 1.7, 2.0, 2.35, 2.7}, 55, 47, 47);
};

static_assert(validate_scheme<deepid1_scheme>() && validate_scheme<deepid1_scheme_100>() &&
              validate_scheme<deepid2_candidates>());

}  // namespace face
DEEPID_NAMESPACE_END
