// How hard is the built-in synthetic data? A raw-pixel cosine baseline on
// aligned whole-face patches must be far from chance and far from perfect,
// so that learnt features have room to show what they do (docs/faces.md).
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>
#include <deepid/eval/pairs.hpp>
#include <deepid/eval/protocol.hpp>
#include <deepid/verify/distance.hpp>

#include <iostream>

namespace fc = deepid::face;

TEST_CASE("synthetic identities: raw-pixel cosine verification is hard but above chance") {
  const int identities = 100, images = 6;
  const auto set = fc::synthetic_face_set(identities, images);
  // The gray whole-face patch at the middle scale, mean-centred per pixel.
  const auto batch = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {3}, false);
  auto pixels = batch.original[0];
  fc::patch_normalisation::fit(pixels).apply(pixels);
  const std::size_t n = pixels.shape()[0], d = pixels.size() / n;
  deepid::matrix<float> features({n, d});
  std::copy_n(pixels.data(), pixels.size(), features.data());
  std::vector<int> ids;
  for (const auto& f : set.faces) ids.push_back(f.identity);
  const auto pairs = deepid::eval::make_fold_pairs(ids, 10, 60, 7);
  const auto result = deepid::eval::run_ten_fold<deepid::verify::cosine_verifier>("raw-pixel cosine", features, pairs, ids);
  std::cout << "synthetic (" << identities << " identities x " << images << "): raw-pixel cosine accuracy "
            << 100 * result.mean_accuracy << "% +- " << 100 * result.standard_error << ", AUC " << result.auc << "\n";
  CHECK(result.mean_accuracy > 0.55);
  CHECK(result.mean_accuracy < 0.90);
}
