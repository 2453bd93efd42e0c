#pragma once
// Training patches for the trainer tests: the nose.s1.gray patch (31x31x1) of
// the DeepID1 scheme cut from 12 synthetic identities x 10 images, normalised,
// with their flipped counterparts. Built once per test program.
#include <deepid/face/patch_batch.hpp>
#include <deepid/face/patch_scheme.hpp>
#include <deepid/face/patches.hpp>
#include <deepid/face/synthetic_set.hpp>
#include <deepid/train/trainer.hpp>

namespace deepid_test {

inline constexpr std::size_t synthetic_patch_type = 7 * 6 + 1 * 2 + 1;  // nose.s1.gray

inline const deepid::train::identity_patches& synthetic_patches() {
  namespace fc = deepid::face;
  static const deepid::train::identity_patches data = [] {
    const auto set = fc::synthetic_face_set(12, 10);
    auto batch = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {synthetic_patch_type});
    const auto norm = fc::patch_normalisation::fit(batch.original[0]);
    norm.apply(batch.original[0]);
    norm.apply(batch.flipped[0]);
    deepid::train::identity_patches d;
    d.original = batch.original[0];
    d.flipped = batch.flipped[0];
    for (const auto& f : set.faces) d.labels.push_back(f.identity);
    d.identities = set.identities();
    return d;
  }();
  return data;
}

}  // namespace deepid_test
