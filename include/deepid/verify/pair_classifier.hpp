#pragma once
// Pair-feature verifiers: a linear model (verify/linear_models.hpp) on a
// symmetric feature of the two faces.
//
//   pair_classifier_verifier<Model>   the verifier policy
//   logistic_verifier                 score = the logit (log-odds of "same"),
//                                     w . phi + b
//   svm_verifier                      score = the SVM margin w . phi + b
//                                     (+-1 on the margin)
//
// The pair feature (pair_feature_options): each input dimension is first
// standardised with the training rows' mean and standard deviation,
// z = (x - mean) / sd, then
//     phi(a, b) = [ |z_a - z_b| , z_a * z_b ]       (element-wise, 2D values)
// and every phi dimension is standardised again over the training pairs.
// phi is symmetric, so score(a, b) == score(b, a) exactly. HIGHER = MORE
// LIKELY THE SAME PERSON. Each also learns the accuracy-maximising threshold
// on its training pairs (near 0, but learnt like every other policy's).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/verify/linear_models.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

struct pair_feature_options {
  bool abs_difference = true;  // |z_a - z_b|
  bool product = true;         // z_a * z_b
};

template <class ModelOptions>
struct pair_classifier_options {
  pair_feature_options features{};
  ModelOptions model{};
  std::size_t sampled_pairs = 20000;  // pairs drawn when fit() gets identities only
  std::uint64_t seed = 1;
};

template <linear_model Model>
class pair_classifier_verifier : public threshold_holder {
 public:
  using options = pair_classifier_options<typename Model::options>;

  explicit pair_classifier_verifier(options o = {}) : opt_(o), model_(o.model) {}

  static std::string kind() { return std::string("pair-") + Model::name; }
  bool fitted() const { return fitted_; }
  std::size_t dim() const { return dim_; }
  std::size_t pair_dim() const { return dim_ * (std::size_t(opt_.features.abs_difference) + opt_.features.product); }
  const Model& model() const { return model_; }

  void fit(const training_data& data) {
    const std::string who = kind() + " verifier";
    if (!opt_.features.abs_difference && !opt_.features.product)
      throw error(who + ": the pair feature has no parts (enable abs_difference or product)");
    const auto pairs = detail::pairwise::training_pairs(data, opt_.sampled_pairs, opt_.seed, who);
    detail::pairwise::require_both_labels(pairs, who);
    const dmatrix x = to_dmatrix(data.features, who.c_str());
    dim_ = std::size_t(x.cols());
    if (dim_ == 0) throw error(who + ": features have no dimensions");
    detail::pairwise::column_moments(x, mean_, inv_sd_);
    fitted_ = true;  // the input standardisation is set; pair_matrix needs it
    pair_mean_.assign(pair_dim(), 0.0);
    pair_inv_sd_.assign(pair_dim(), 1.0);
    dmatrix phi = pair_matrix(x, pairs);
    detail::pairwise::column_moments(phi, pair_mean_, pair_inv_sd_);
    for (std::ptrdiff_t i = 0; i < phi.rows(); ++i)
      for (std::ptrdiff_t j = 0; j < phi.cols(); ++j)
        phi(i, j) = (phi(i, j) - pair_mean_[std::size_t(j)]) * pair_inv_sd_[std::size_t(j)];
    try {
      model_.fit(phi, detail::pairwise::labels_of(pairs));
    } catch (...) {
      fitted_ = false;
      throw;
    }
    std::vector<double> s(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) s[i] = model_.decision(phi.row(std::ptrdiff_t(i)).data());
    learn_threshold(s, pairs);
  }

  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted();
    if (a.size() != dim_ || b.size() != dim_)
      throw error(kind() + ": features have " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                  " dimensions, fitted on " + std::to_string(dim_));
    check_finite_features(a, kind());
    check_finite_features(b, kind());
    std::vector<double> phi(pair_dim());
    pair_feature(a.data(), b.data(), phi.data());
    return model_.decision(phi.data());
  }

  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted();
    if (x.shape()[1] != dim_)
      throw error(kind() + ": features have " + std::to_string(x.shape()[1]) + " dimensions, fitted on " +
                  std::to_string(dim_));
    check_pairs(pairs, x.shape()[0], kind().c_str());
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!std::isfinite(x.data()[i]))
        throw error(kind() + ": feature " + std::to_string(i % dim_) + " of row " + std::to_string(i / dim_) +
                    " is not finite");
    std::vector<double> out(pairs.size());
#if DEEPID_OPENMP
#pragma omp parallel num_threads(num_threads())
#endif
    {
      std::vector<double> phi(pair_dim());
#if DEEPID_OPENMP
#pragma omp for schedule(static)
#endif
      for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(pairs.size()); ++k) {
        const auto& p = pairs[std::size_t(k)];
        pair_feature(x.data() + p.first * dim_, x.data() + p.second * dim_, phi.data());
        out[std::size_t(k)] = model_.decision(phi.data());
      }
    }
    return out;
  }

  io::record_writer record() const {
    require_fitted();
    io::record_writer w("verifier/" + kind(), 1);
    w.add_scalar("dim", double(dim_));
    w.add_scalar("abs_difference", opt_.features.abs_difference);
    w.add_scalar("product", opt_.features.product);
    w.add("mean", std::span<const double>(mean_));
    w.add("inv_sd", std::span<const double>(inv_sd_));
    w.add("pair_mean", std::span<const double>(pair_mean_));
    w.add("pair_inv_sd", std::span<const double>(pair_inv_sd_));
    model_.write(w, "model/");
    save_threshold(w);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }
  static pair_classifier_verifier load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static pair_classifier_verifier from_record(const io::record_reader& r) {
    options o;
    o.features.abs_difference = r.scalar("abs_difference") != 0;
    o.features.product = r.scalar("product") != 0;
    if (!o.features.abs_difference && !o.features.product)
      throw error(r.path() + ": corrupt pair classifier (no pair feature selected)");
    pair_classifier_verifier v(o);
    // Checked before the conversion: a damaged value may be NaN or out of range.
    const double dim = r.scalar("dim");
    if (!(dim >= 1 && dim <= double(std::size_t(1) << 30) && dim == std::floor(dim)))
      throw error(r.path() + ": corrupt pair classifier (dimension " + std::to_string(dim) + ")");
    v.dim_ = std::size_t(dim);
    v.mean_ = r.f64("mean", v.dim_);
    v.inv_sd_ = r.f64("inv_sd", v.dim_);
    v.pair_mean_ = r.f64("pair_mean", v.pair_dim());
    v.pair_inv_sd_ = r.f64("pair_inv_sd", v.pair_dim());
    v.model_.read(r, "model/", v.pair_dim());
    v.load_threshold(r);
    v.fitted_ = true;
    return v;
  }

 private:
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": the verifier is not fitted (call fit first)");
  }

  // phi(a, b), standardised with the pair statistics, into out[pair_dim()].
  template <class T>
  void pair_feature(const T* a, const T* b, double* out) const {
    std::size_t k = 0;
    if (opt_.features.abs_difference)
      for (std::size_t j = 0; j < dim_; ++j, ++k) {
        const double za = (double(a[j]) - mean_[j]) * inv_sd_[j], zb = (double(b[j]) - mean_[j]) * inv_sd_[j];
        out[k] = (std::abs(za - zb) - pair_mean_[k]) * pair_inv_sd_[k];
      }
    if (opt_.features.product)
      for (std::size_t j = 0; j < dim_; ++j, ++k) {
        const double za = (double(a[j]) - mean_[j]) * inv_sd_[j], zb = (double(b[j]) - mean_[j]) * inv_sd_[j];
        out[k] = (za * zb - pair_mean_[k]) * pair_inv_sd_[k];
      }
  }

  dmatrix pair_matrix(const dmatrix& x, std::span<const labelled_pair> pairs) const {
    dmatrix phi(std::ptrdiff_t(pairs.size()), std::ptrdiff_t(pair_dim()));
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(num_threads())
#endif
    for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(pairs.size()); ++i)
      pair_feature(x.row(std::ptrdiff_t(pairs[std::size_t(i)].first)).data(),
                   x.row(std::ptrdiff_t(pairs[std::size_t(i)].second)).data(), phi.row(i).data());
    return phi;
  }

  options opt_;
  Model model_;
  std::size_t dim_ = 0;
  bool fitted_ = false;
  std::vector<double> mean_, inv_sd_, pair_mean_, pair_inv_sd_;
};

using logistic_verifier = pair_classifier_verifier<logistic_regression>;
using svm_verifier = pair_classifier_verifier<linear_svm>;

static_assert(verifier<logistic_verifier> && verifier<svm_verifier>);

}  // namespace verify
DEEPID_NAMESPACE_END
