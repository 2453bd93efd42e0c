#pragma once
// The verifier interface. A verifier answers "same person?" for two feature
// vectors with a score where HIGHER ALWAYS MEANS MORE LIKELY THE SAME PERSON
// (distances are negated), plus a decision threshold learnt from training
// scores. Policies are picked at compile time and satisfy `verifier`:
//
//   V::kind()                      name used in files and tables
//   v.fit(training_data)           learn from identities and/or labelled pairs
//   v.scores(features, pairs)      batched, parallel scores of pairs of rows
//   v.score(a, b)                  one pair
//   v.fitted(), v.save(path), V::load(path)
//   v.record(), V::from_record(r)  the file as a record in memory, so one
//                                  verifier's file can carry another's
//                                  (verify/embedded_verifier.hpp)
//
// Features passed in are never modified or aliased: verifiers copy what they
// keep. Every policy learns its threshold the same way (learn_threshold).
#include <concepts>
#include <cstddef>
#include <cmath>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/kernels/eigen.hpp"
#include "deepid/verify/threshold.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// Two rows of a feature matrix and whether they show the same person.
struct labelled_pair {
  std::size_t first = 0, second = 0;
  bool same = false;
};

// What a verifier may learn from. Identities (one label per row) serve
// identity-based learners (Joint Bayesian, PCA); pairs serve pair-based ones
// (neural-network verifier, logistic regression, SVM) and thresholds.
struct training_data {
  const matrix<float>& features;         // N x D
  std::span<const int> identities = {};  // N labels, or empty
  std::span<const labelled_pair> pairs = {};
};

using dmatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using dvector = Eigen::VectorXd;

// Features as double precision Eigen rows (a copy: the caller's data stays theirs).
inline dmatrix to_dmatrix(const matrix<float>& x, const char* who) {
  dmatrix m(x.shape()[0], x.shape()[1]);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x.data()[i];
    if (!std::isfinite(v))
      throw error(std::string(who) + ": feature " + std::to_string(i % x.shape()[1]) + " of row " +
                  std::to_string(i / x.shape()[1]) + " is not finite");
    m.data()[i] = v;
  }
  return m;
}

// One face's features, every value finite (what score(a, b) takes).
inline void check_finite_features(std::span<const float> features, const std::string& who) {
  for (std::size_t i = 0; i < features.size(); ++i)
    if (!std::isfinite(features[i])) throw error(who + ": feature " + std::to_string(i) + " is not finite");
}

inline void check_pairs(std::span<const labelled_pair> pairs, std::size_t rows, const char* who) {
  for (const auto& p : pairs)
    if (p.first >= rows || p.second >= rows)
      throw error(std::string(who) + ": a pair refers to row " + std::to_string(std::max(p.first, p.second)) +
                  " of a " + std::to_string(rows) + "-row feature matrix");
}

// The decision threshold every policy carries.
class threshold_holder {
 public:
  double threshold() const { return threshold_; }
  bool has_threshold() const { return has_threshold_; }
  void set_threshold(double t) { threshold_ = t, has_threshold_ = true; }
  // Picks the accuracy-maximising threshold on training pair scores.
  void learn_threshold(std::span<const double> scores, std::span<const labelled_pair> pairs) {
    const std::unique_ptr<bool[]> same(new bool[pairs.size()]);
    for (std::size_t i = 0; i < pairs.size(); ++i) same[i] = pairs[i].same;
    set_threshold(best_threshold(scores, std::span<const bool>(same.get(), pairs.size())).threshold);
  }
  bool decide(double score) const {
    if (!has_threshold_) throw error("verifier: no threshold learnt yet (fit it, or learn_threshold on training pairs)");
    return score > threshold_;
  }

 protected:
  void save_threshold(io::record_writer& w) const {
    w.add_scalar("threshold", threshold_);
    w.add_scalar("has_threshold", has_threshold_ ? 1.0 : 0.0);
  }
  void load_threshold(const io::record_reader& r) {
    threshold_ = r.scalar("threshold");
    has_threshold_ = r.scalar("has_threshold") != 0.0;
  }

 private:
  double threshold_ = 0;
  bool has_threshold_ = false;
};

template <class V>
concept verifier = requires(V v, const V cv, const training_data& data, const matrix<float>& x,
                            std::span<const labelled_pair> pairs, std::span<const float> a,
                            const std::filesystem::path& path, const io::record_reader& record) {
  { V::kind() } -> std::convertible_to<std::string>;
  v.fit(data);
  { cv.scores(x, pairs) } -> std::same_as<std::vector<double>>;
  { cv.score(a, a) } -> std::convertible_to<double>;
  { cv.fitted() } -> std::convertible_to<bool>;
  { cv.threshold() } -> std::convertible_to<double>;
  cv.save(path);
  { V::load(path) } -> std::same_as<V>;
  { cv.record() } -> std::same_as<io::record_writer>;
  { V::from_record(record) } -> std::same_as<V>;
};

}  // namespace verify
DEEPID_NAMESPACE_END
