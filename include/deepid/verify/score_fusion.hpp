#pragma once
// score_fusion: a linear SVM over several verifiers' scores of the same
// pairs (DeepID2 fuses seven Joint Bayesian scores this way). Score = the SVM
// margin over standardised component scores, HIGHER = SAME; it learns its
// threshold on the fused training scores.
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/verify/linear_models.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// Score fusion (DeepID2: seven JB scores fused by an SVM)
//
// Usage: for each of K verifiers, v_k.scores(features, train_pairs) -> fit;
// then fuse the K score vectors of test pairs. Each component score is
// standardised with its training mean and sd (scores live on very different
// scales: a JB log-likelihood ratio, a cosine, a Hamming count), and the
// fused score is the linear SVM margin on them (HIGHER = SAME).

class score_fusion : public threshold_holder {
 public:
  explicit score_fusion(svm_options o = {}) : svm_(o) {}

  static std::string kind() { return "score-fusion"; }
  bool fitted() const { return fitted_; }
  std::size_t components() const { return mean_.size(); }
  const linear_svm& svm() const { return svm_; }
  // The weight of each component on its raw (unstandardised) scale.
  std::vector<double> raw_weights() const {
    std::vector<double> w(mean_.size());
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = svm_.weights()(std::ptrdiff_t(k)) * inv_sd_[k];
    return w;
  }

  // scores[k][i]: verifier k's score of training pair i.
  void fit(std::span<const std::vector<double>> scores, std::span<const labelled_pair> pairs) {
    const dmatrix x = design(scores, pairs.size());
    detail::pairwise::require_both_labels(pairs, kind());
    detail::pairwise::column_moments(x, mean_, inv_sd_);
    dmatrix z = x;
    for (std::ptrdiff_t i = 0; i < z.rows(); ++i)
      for (std::ptrdiff_t k = 0; k < z.cols(); ++k) z(i, k) = (z(i, k) - mean_[std::size_t(k)]) * inv_sd_[std::size_t(k)];
    svm_.fit(z, detail::pairwise::labels_of(pairs));
    fitted_ = true;
    learn_threshold(fuse(scores), pairs);
  }

  // Fused scores of n pairs from scores[k][i] (same component order as fit).
  std::vector<double> fuse(std::span<const std::vector<double>> scores) const {
    require_fitted();
    const std::size_t n = scores.empty() ? 0 : scores[0].size();
    const dmatrix x = design(scores, n);
    std::vector<double> out(n), row(components());
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < row.size(); ++k) row[k] = x(std::ptrdiff_t(i), std::ptrdiff_t(k));
      out[i] = fuse_one(row);
    }
    return out;
  }

  // One pair: one score per component.
  double fuse_one(std::span<const double> s) const {
    require_fitted();
    if (s.size() != components())
      throw error(kind() + ": " + std::to_string(s.size()) + " scores, fitted on " + std::to_string(components()) +
                  " components");
    std::vector<double> z(s.size());
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (!std::isfinite(s[k])) throw error(kind() + ": score of component " + std::to_string(k) + " is not finite");
      z[k] = (s[k] - mean_[k]) * inv_sd_[k];
    }
    return svm_.decision(z.data());
  }

  void write(io::record_writer& w, const std::string& prefix) const {
    require_fitted();
    w.add_scalar(prefix + "components", double(components()));
    w.add(prefix + "mean", std::span<const double>(mean_));
    w.add(prefix + "inv_sd", std::span<const double>(inv_sd_));
    svm_.write(w, prefix + "svm/");
    w.add_scalar(prefix + "threshold", threshold());
  }
  void read(const io::record_reader& r, const std::string& prefix) {
    const auto k = std::size_t(r.scalar(prefix + "components"));
    mean_ = r.f64(prefix + "mean", k);
    inv_sd_ = r.f64(prefix + "inv_sd", k);
    svm_.read(r, prefix + "svm/", k);
    set_threshold(r.scalar(prefix + "threshold"));
    fitted_ = true;
  }
  void save(const std::filesystem::path& path) const {
    io::record_writer w("verifier/" + kind(), 1);
    write(w, "");
    w.save(path);
  }
  static score_fusion load(const std::filesystem::path& path) {
    const io::record_reader r(path, "verifier/" + kind(), 1);
    score_fusion f;
    f.read(r, "");
    return f;
  }

 private:
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": not fitted (call fit on training score vectors first)");
  }
  dmatrix design(std::span<const std::vector<double>> scores, std::size_t n) const {
    if (scores.empty()) throw error(kind() + ": no component scores");
    if (fitted_ && scores.size() != components())
      throw error(kind() + ": " + std::to_string(scores.size()) + " components, fitted on " +
                  std::to_string(components()));
    dmatrix x(std::ptrdiff_t(n), std::ptrdiff_t(scores.size()));
    for (std::size_t k = 0; k < scores.size(); ++k) {
      if (scores[k].size() != n)
        throw error(kind() + ": component " + std::to_string(k) + " has " + std::to_string(scores[k].size()) +
                    " scores, expected " + std::to_string(n));
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(scores[k][i]))
          throw error(kind() + ": score " + std::to_string(i) + " of component " + std::to_string(k) + " is not finite");
        x(std::ptrdiff_t(i), std::ptrdiff_t(k)) = scores[k][i];
      }
    }
    return x;
  }

  linear_svm svm_;
  std::vector<double> mean_, inv_sd_;
  bool fitted_ = false;
};

}  // namespace verify
DEEPID_NAMESPACE_END
