// The ten-fold verification protocol (as on LFW View 2) for two verifiers:
// each fold is scored by a verifier that learnt only from the other nine
// folds, whose people differ from the fold's own.
#include <deepid/core/rng.hpp>
#include <deepid/eval/pairs.hpp>
#include <deepid/eval/protocol.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include <cstdio>

namespace dp = deepid;
namespace vf = dp::verify;

int main() try {
  // 200 people x 5 images of 48-d synthetic features. Within a person, the
  // first 8 dimensions vary a lot (as pose or lighting would): cosine weighs
  // them like any other, Joint Bayesian learns to discount them.
  constexpr std::size_t people = 200, images = 5, dim = 48;
  dp::matrix<float> x({people * images, dim});
  std::vector<int> identities;
  dp::rng gen(11);
  for (std::size_t k = 0; k < people; ++k) {
    std::vector<double> centre(dim);
    for (auto& c : centre) c = gen.normal();
    for (std::size_t j = 0; j < images; ++j, identities.push_back(int(k)))
      for (std::size_t d = 0; d < dim; ++d)
        x(k * images + j, d) = float(centre[d] + (d < 8 ? 2.0 : 0.5) * gen.normal());
  }

  // 10 folds of 150 same and 150 different pairs; no person is in two folds.
  const std::vector<dp::eval::fold_pair> pairs = dp::eval::make_fold_pairs(identities, 10, 150, 1);

  const auto cosine = dp::eval::run_ten_fold<vf::cosine_verifier>("cosine", x, pairs, identities);
  using pca_jb = vf::with_pca<vf::joint_bayesian>;
  const auto jb = dp::eval::run_ten_fold<pca_jb>("PCA + Joint Bayesian", x, pairs, identities,
                                                 [] { return pca_jb(vf::pca_options{.components = 32}); });

  for (const auto* r : {&cosine, &jb})
    std::printf("%-22s accuracy %.2f%% +- %.2f (standard error over 10 folds), AUC %.4f\n", r->name.c_str(),
                100 * r->mean_accuracy, 100 * r->standard_error, r->auc);

  // Chance is 50%; both must be well above it, and Joint Bayesian, which
  // models the within-person variation, above cosine.
  const bool ok = cosine.mean_accuracy > 0.75 && jb.mean_accuracy > 0.9 && jb.mean_accuracy > cosine.mean_accuracy;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ten_fold: %s\n", e.what());
  return 1;
}
