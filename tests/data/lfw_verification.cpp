// LFW View 2 with classic features (issue: verifiers and the LFW protocol):
// uniform LBP on the aligned faces of all 13,233 images, ten-fold protocol,
// Joint Bayesian against cosine. Floors are the measured accuracies
// (docs/results.md, 2026-11-28) less a small margin; Joint Bayesian must beat
// cosine on the same features, as the papers claim.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

#include <iostream>

#include "data_root.hpp"

namespace fc = deepid::face;
namespace vf = deepid::verify;
namespace ev = deepid::eval;

TEST_CASE("LFW View 2: LBP + Joint Bayesian beats LBP + cosine, above the floors") {
  const auto lfw = fc::lfw_dataset::open(data_folder("lfw"));
  const auto names = lfw.image_names();
  fc::face_source source{[&](std::size_t i) { return std::pair{lfw.load(names[i]), lfw.landmarks().at(names[i]).points}; },
                         [&](std::size_t i) { return names[i]; }, names.size()};
  const auto batch = deepid::features::extract_all(deepid::features::lbp_grid{}, source);
  REQUIRE(batch.features.shape()[0] == 13233);
  const auto bound = ev::bind_pairs(names, lfw.view2_pairs(), "lfw");
  REQUIRE(bound.pairs.size() == 6000);

  const auto cosine = ev::run_ten_fold<vf::cosine_verifier>("lbp cosine", batch.features, bound.pairs, bound.identities);
  vf::pca_options pca;
  pca.components = 150;
  const auto jb = ev::run_ten_fold<vf::with_pca<vf::joint_bayesian>>(
      "lbp pca150 jb", batch.features, bound.pairs, bound.identities,
      [&] { return vf::with_pca<vf::joint_bayesian>(pca); }, ev::training_images::people);
  std::cout << ev::table_header() << "\n" << ev::table_row(cosine) << "\n" << ev::table_row(jb) << "\n";
  CHECK(cosine.mean_accuracy > 0.665);  // measured 68.37%
  CHECK(jb.mean_accuracy > 0.775);      // measured 79.17%
  CHECK(jb.mean_accuracy > cosine.mean_accuracy + 0.05);
  CHECK(jb.auc > cosine.auc);
}
