#pragma once
// Training augmentation at patch-cutting time: K jittered copies of every
// face, each a random similarity perturbation of its alignment (shift, scale,
// rotation in the canonical frame) plus a photometric change (per-channel
// colour gain, contrast, brightness). The copies are drawn deterministically
// from (seed, face index, copy), so a face gets the same copies in every run,
// for every patch type and any thread count.
//
// The weak alignment leaves a residual of about 1 template pixel (3% of the
// inter-ocular distance, docs/faces.md) and its worst faces several times
// more; lighting and white balance vary between photos. A net that saw each
// face at one exact alignment and colour learns those too, which is part of
// why DeepID1's patch nets over-fit; the copies show it the same face as a
// slightly different detector and camera would have.
//
// Memory: the patches of one type take faces x (1 + K) x (2 with flips) x
// C x H x W floats; 12,000 faces of 39x31x3 take 348 MB at K = 0, 1.04 GB
// at K = 2 and 1.74 GB at K = 4 (features::train_ensemble holds one type at
// a time).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/face/similarity.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

// The ranges every copy is drawn from, uniformly. With copies = 0 (the
// default) nothing is cut and training is exactly what it is without
// augmentation; the ranges below are what `copies = K` alone gives.
struct jitter_options {
  int copies = 0;           // K jittered copies of each face besides the original
  double shift = 2.0;       // max shift along x and along y, pixels of the alignment template
  double scale = 0.05;      // scale factor in [1 - scale, 1 + scale], about the face centre
  double rotation = 5.0;    // degrees in [-rotation, rotation], about the face centre
  double colour = 0.1;      // gain of each of R, G, B in [1 - colour, 1 + colour]
  double contrast = 0.1;    // contrast about mid-gray in [1 - contrast, 1 + contrast]
  double brightness = 0.1;  // added to every channel (values in [0, 1]), in [-brightness, brightness]
  std::uint64_t seed = 1;

  static constexpr int max_copies = 32;

  bool photometric() const { return colour > 0 || contrast > 0 || brightness > 0; }

  // Throws when a range is negative, not finite or too large to be a small
  // perturbation of a face. With inter_ocular > 0 (the template's eye
  // distance, pixels) the shift must also stay under half of it.
  void validate(double inter_ocular = 0) const {
    const auto fail = [](const std::string& what) { throw error("jitter: " + what); };
    if (copies < 0) fail(std::to_string(copies) + " copies per face; give 0 (no augmentation) or more");
    if (copies > max_copies)
      fail(std::to_string(copies) + " copies per face; at most " + std::to_string(max_copies) +
           " (each copy costs the memory of the original patches again)");
    const auto range = [&](const char* name, double v, double below) {
      if (!std::isfinite(v) || v < 0 || v >= below)
        fail(std::string("the ") + name + " range " + std::to_string(v) + " is outside [0, " + std::to_string(below) +
             ")");
    };
    range("scale", scale, 0.5);
    range("rotation (degrees)", rotation, 45.0);
    range("colour gain", colour, 1.0);
    range("contrast", contrast, 1.0);
    range("brightness", brightness, 1.0);
    if (!std::isfinite(shift) || shift < 0)
      fail("the shift " + std::to_string(shift) + " px is negative or not finite");
    if (inter_ocular > 0 && shift >= inter_ocular / 2)
      fail("the shift of " + std::to_string(shift) + " px is not under half the template's inter-ocular distance (" +
           std::to_string(inter_ocular / 2) + " px)");
  }
};

// A photometric change of colours in [0, 1]: v' = clamp(0.5 + contrast x
// (gain_c x v - 0.5) + brightness, 0, 1) for each of R, G, B; a gray patch is
// the gray of the changed colour.
struct photometric {
  std::array<float, 3> gain{1, 1, 1};  // R, G, B
  float contrast = 1, brightness = 0;

  void apply(float (&rgb)[3]) const {
    for (int c = 0; c < 3; ++c)
      rgb[c] = std::clamp(0.5f + contrast * (gain[std::size_t(c)] * rgb[c] - 0.5f) + brightness, 0.0f, 1.0f);
  }
};

// One copy's draw: the canonical frame is scaled by `scale` and turned by
// `degrees` about the face centre, then shifted by (dx, dy) template pixels.
// A positive angle turns +x towards +y (clockwise on screen, y pointing down).
struct jitter_draw {
  double dx = 0, dy = 0, scale = 1, degrees = 0;
  photometric light{};
  bool photometric_change = false;  // false: colours are left exactly as sampled
};

// The perturbation as a similarity of the canonical frame:
// q' = centre + (dx, dy) + scale R(degrees) (q - centre).
inline similarity jitter_similarity(const jitter_draw& d, point2 centre) {
  const double angle = d.degrees * std::numbers::pi / 180.0;
  const double a = d.scale * std::cos(angle), b = d.scale * std::sin(angle);
  return {a, b, centre.x + d.dx - (a * centre.x - b * centre.y), centre.y + d.dy - (b * centre.x + a * centre.y)};
}

// Copy `copy` (0-based) of face `face` (its index in the source). Every value
// is drawn whatever the ranges, so changing one range leaves the others'
// draws as they were.
inline jitter_draw draw_jitter(const jitter_options& o, std::size_t face, std::size_t copy) {
  rng gen(mix64(o.seed ^ 0x6a177e5ull) ^ mix64((std::uint64_t(face) << 6) | std::uint64_t(copy)));
  const auto symmetric = [&](double range) { return range * (2 * gen.uniform() - 1); };
  jitter_draw d;
  d.dx = symmetric(o.shift);
  d.dy = symmetric(o.shift);
  d.scale = 1 + symmetric(o.scale);
  d.degrees = symmetric(o.rotation);
  for (auto& g : d.light.gain) g = float(1 + symmetric(o.colour));
  d.light.contrast = float(1 + symmetric(o.contrast));
  d.light.brightness = float(symmetric(o.brightness));
  d.photometric_change = o.photometric();
  return d;
}

}  // namespace face
DEEPID_NAMESPACE_END
