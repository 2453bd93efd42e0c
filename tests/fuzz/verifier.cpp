// Verifier files: the first input byte picks the loader (Joint Bayesian, PCA +
// Joint Bayesian, PCA alone, the NN verifier, the logistic and the SVM pair
// classifiers), the rest is the file, its record checksum made right.
#include "deepid/verify/joint_bayesian.hpp"
#include "deepid/verify/nn_verifier.hpp"
#include "deepid/verify/pair_classifier.hpp"
#include "deepid/verify/pca.hpp"
#include "fuzz_support.hpp"

namespace vf = deepid::verify;
using namespace deepid_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const fs::path file = scratch_dir() / "fuzz-verifier.bin";
  write_file(file, with_record_checksum(as_text(data + 1, size - 1)));
  const std::string_view name = "fuzz-verifier.bin";
  switch (data[0] % 6) {
    case 0:
      expect_valid_or_error({name}, [&] {
        const auto v = vf::joint_bayesian::load(file);
        require(v.a().rows() == v.mean().size() && v.g().cols() == v.mean().size(), "joint bayesian: sizes");
      });
      break;
    case 1:
      expect_valid_or_error({name}, [&] {
        const auto v = vf::with_pca<vf::joint_bayesian>::load(file);
        require(v.inner().mean().size() == Eigen::Index(v.projection().components()), "with_pca: inner size");
      });
      break;
    case 2:
      expect_valid_or_error({name}, [&] {
        const auto p = vf::pca::load(file);
        require(p.components() >= 1 && p.components() <= p.input_dim(), "pca: components");
      });
      break;
    case 3:
      expect_valid_or_error({name}, [&] { vf::nn_verifier::load(file); });
      break;
    case 4:
      expect_valid_or_error({name}, [&] { vf::logistic_verifier::load(file); });
      break;
    default:
      expect_valid_or_error({name}, [&] { vf::svm_verifier::load(file); });
      break;
  }
  return 0;
}
