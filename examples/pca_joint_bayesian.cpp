// PCA + Joint Bayesian fitted on a feature file: write a file of synthetic
// features, load it back, learn the verifier from some people and score
// pairs of people it never saw. Usage: example_pca_joint_bayesian [SCRATCH_DIR]
#include <deepid/core/rng.hpp>
#include <deepid/io/feature_file.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

namespace dp = deepid;

int main(int argc, char** argv) try {
  const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "deepid_example";
  std::filesystem::create_directories(dir);

  // Identity-structured features: person k's images scatter around a centre
  // of their own, as DeepID features of one face do. Names as in LFW.
  constexpr std::size_t people = 60, images = 6, dim = 64, fitted_people = 50;
  dp::matrix<float> x({people * images, dim});
  std::vector<std::string> names;
  dp::rng gen(2024);
  for (std::size_t k = 0; k < people; ++k) {
    std::vector<double> centre(dim);
    for (auto& c : centre) c = gen.normal();
    for (std::size_t j = 0; j < images; ++j) {
      for (std::size_t d = 0; d < dim; ++d) x(k * images + j, d) = float(centre[d] + 0.6 * gen.normal());
      names.push_back("person_" + std::to_string(k) + "/" + std::to_string(j + 1) + ".jpg");
    }
  }
  dp::io::save_features(dir / "features.npy", x, names);  // features.npy + features.names.txt

  // Load it back; the person is the image name's folder.
  const dp::io::feature_file file = dp::io::load_features(dir / "features.npy");
  std::map<std::string, int> person_of;
  std::vector<int> identities;
  for (const auto& name : file.names)
    identities.push_back(person_of.emplace(name.substr(0, name.find('/')), int(person_of.size())).first->second);

  // Fit on the first 50 people (rows are grouped by person): PCA to 32
  // dimensions, then Joint Bayesian on the projected features.
  const dp::matrix<float> train = xt::view(file.features, xt::range(0, fitted_people * images), xt::all());
  dp::verify::with_pca<dp::verify::joint_bayesian> verifier(dp::verify::pca_options{.components = 32});
  verifier.fit({train, std::span<const int>(identities).first(fitted_people * images)});

  // Held-out people 50 and 51: two images of 50, then one of 50 and one of 51.
  const auto row = [&](std::size_t person, std::size_t image) {
    return std::span<const float>(file.features.data() + (person * images + image) * dim, dim);
  };
  const double same = verifier.score(row(50, 0), row(50, 1)), different = verifier.score(row(50, 0), row(51, 0));
  std::printf("PCA kept %.0f%% of the variance; Joint Bayesian score (higher = same person):\n"
              "  same person %.2f, different people %.2f\n",
              100 * verifier.projection().explained_variance_ratio(), same, different);
  std::printf("%s\n", same > different ? "ok" : "FAILED: the same pair does not score higher");
  return same > different ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pca_joint_bayesian: %s\n", e.what());
  return 1;
}
