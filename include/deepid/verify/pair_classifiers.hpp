#pragma once
// Linear classifiers on pair features, and score fusion.
//
//   logistic_regression, linear_svm    solvers on a dense design matrix
//   logistic_verifier, svm_verifier    verifier policies on pair features
//   score_fusion                       a linear SVM over several verifiers'
//                                      scores (DeepID2's 7-group fusion)
//   feature_group_fusion<V>            a verifier: one V per feature group,
//                                      their scores fused by score_fusion
//   sample_balanced_pairs              50/50 same/different pairs from identities
//
// The pair feature (pair_feature_options): each input dimension is first
// standardised with the training rows' mean and standard deviation,
// z = (x - mean) / sd, then
//     phi(a, b) = [ |z_a - z_b| , z_a * z_b ]       (element-wise, 2D values)
// and every phi dimension is standardised again over the training pairs.
// phi is symmetric, so score(a, b) == score(b, a) exactly.
//
// Score scales (HIGHER = MORE LIKELY THE SAME PERSON for all):
//   logistic_verifier      the logit (log-odds of "same"), w . phi + b
//   svm_verifier           the SVM margin w . phi + b (+-1 on the margin)
//   score_fusion           the SVM margin over standardised component scores
// Each also learns the accuracy-maximising threshold on its training pairs
// (near 0, but learnt like every other policy's).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// ---------------------------------------------------------------------------
// Pair sampling

// `count` pairs, alternately same and different (50/50), drawn
// deterministically from `seed`: a same pair picks an identity with at least
// two rows, then two distinct rows of it; a different pair picks two rows of
// different identities. Throws when either kind cannot be formed.
inline std::vector<labelled_pair> sample_balanced_pairs(std::span<const int> identities, std::size_t count,
                                                        std::uint64_t seed) {
  std::map<int, std::vector<std::size_t>> rows_of;
  for (std::size_t i = 0; i < identities.size(); ++i) rows_of[identities[i]].push_back(i);
  std::vector<const std::vector<std::size_t>*> multi;
  for (const auto& [id, rows] : rows_of)
    if (rows.size() >= 2) multi.push_back(&rows);
  if (multi.empty()) throw error("sample_balanced_pairs: no identity has two rows, so there are no same pairs");
  if (rows_of.size() < 2) throw error("sample_balanced_pairs: one identity only, so there are no different pairs");
  rng gen(seed);
  auto pick = [&](std::size_t n) { return std::size_t(gen.uniform() * double(n)) % n; };
  std::vector<labelled_pair> pairs;
  pairs.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    if (k % 2 == 0) {
      const auto& rows = *multi[pick(multi.size())];
      const std::size_t i = pick(rows.size());
      std::size_t j = pick(rows.size() - 1);
      if (j >= i) ++j;
      pairs.push_back({rows[i], rows[j], true});
    } else {
      const std::size_t i = pick(identities.size());
      std::size_t j = pick(identities.size());
      while (identities[j] == identities[i]) j = pick(identities.size());
      pairs.push_back({i, j, false});
    }
  }
  return pairs;
}

namespace detail::pairwise {

// The training pairs of `data`: its pairs, or balanced pairs sampled from its identities.
inline std::vector<labelled_pair> training_pairs(const training_data& data, std::size_t sampled, std::uint64_t seed,
                                                 const std::string& who) {
  const std::size_t rows = data.features.shape()[0];
  if (!data.pairs.empty()) {
    check_pairs(data.pairs, rows, who.c_str());
    return {data.pairs.begin(), data.pairs.end()};
  }
  if (data.identities.empty()) throw error(who + ": fit needs labelled pairs or identity labels, got neither");
  if (data.identities.size() != rows)
    throw error(who + ": " + std::to_string(data.identities.size()) + " identity labels for " + std::to_string(rows) +
                " feature rows");
  return sample_balanced_pairs(data.identities, sampled, seed);
}

inline void require_both_labels(std::span<const labelled_pair> pairs, const std::string& who) {
  std::size_t same = 0;
  for (const auto& p : pairs) same += p.same;
  if (same == 0 || same == pairs.size())
    throw error(who + ": training pairs must include both same and different pairs (" + std::to_string(same) + " of " +
                std::to_string(pairs.size()) + " are same)");
}

// Column mean and 1/sd (1 where the column is constant).
inline void column_moments(const dmatrix& x, std::vector<double>& mean, std::vector<double>& inv_sd) {
  const std::size_t n = std::size_t(x.rows()), d = std::size_t(x.cols());
  mean.assign(d, 0.0);
  inv_sd.assign(d, 1.0);
  if (n == 0) return;
  for (std::size_t j = 0; j < d; ++j) {
    double m = 0;
    for (std::size_t i = 0; i < n; ++i) m += x(std::ptrdiff_t(i), std::ptrdiff_t(j));
    m /= double(n);
    double v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double c = x(std::ptrdiff_t(i), std::ptrdiff_t(j)) - m;
      v += c * c;
    }
    v /= double(n);
    mean[j] = m;
    inv_sd[j] = v > 1e-24 ? 1.0 / std::sqrt(v) : 1.0;
  }
}

inline void check_finite(std::span<const float> v, const std::string& who) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) throw error(who + ": feature " + std::to_string(i) + " is not finite");
}

inline std::vector<int> labels_of(std::span<const labelled_pair> pairs) {
  std::vector<int> y(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) y[i] = pairs[i].same ? 1 : 0;
  return y;
}

inline void check_labels(std::size_t rows, std::span<const int> labels, const char* who) {
  if (labels.size() != rows)
    throw error(std::string(who) + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(rows) + " rows");
  std::size_t pos = 0;
  for (int l : labels) {
    if (l != 0 && l != 1) throw error(std::string(who) + ": labels must be 0 or 1, found " + std::to_string(l));
    pos += std::size_t(l);
  }
  if (pos == 0 || pos == rows) throw error(std::string(who) + ": needs examples of both classes");
}

inline void check_finite(const dmatrix& x, const char* who) {
  if (!x.allFinite()) throw error(std::string(who) + ": the design matrix holds a non-finite value");
}

// w . x + b (a plain loop: the same sum in every caller, and no vector loads
// past the end of short inputs for GCC's -Warray-bounds to misread).
inline double affine(const dvector& w, double b, const double* x) {
  double s = 0;
  for (Eigen::Index i = 0; i < w.size(); ++i) s += w(i) * x[i];
  return s + b;
}

// A unique scratch file name (for embedding one record file in another).
inline std::filesystem::path embed_scratch_path() {
  static std::atomic<std::uint64_t> counter{0};
  const auto now = std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  const auto tid = std::uint64_t(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  const std::uint64_t key = mix64(now ^ mix64(tid + counter++));
  return std::filesystem::temp_directory_path() / ("deepid-embed-" + std::to_string(key) + ".tmp");
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(path.string() + ": cannot open the file");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace detail::pairwise

// ---------------------------------------------------------------------------
// Solvers. Rows of x are examples; labels are 1 (positive: "same") or 0.

// L2-regularised logistic regression, minimising
//   mean_i [ log(1 + exp(z_i)) - y_i z_i ] + l2/2 |w|^2,   z_i = w . x_i + b
// (bias not regularised) by L-BFGS with a backtracking line search.
// Deterministic. decision(x) = z, the log-odds of the positive class.
struct logistic_options {
  double l2 = 1e-4;
  std::size_t max_iterations = 500;
  double tolerance = 1e-7;  // on the largest gradient component
  std::size_t history = 10;
};

class logistic_regression {
 public:
  static constexpr const char* name = "logistic";
  using options = logistic_options;

  explicit logistic_regression(options o = {}) : opt_(o) {}

  void fit(const dmatrix& x, std::span<const int> labels) {
    detail::pairwise::check_labels(std::size_t(x.rows()), labels, "logistic regression");
    detail::pairwise::check_finite(x, "logistic regression");
    const std::ptrdiff_t n = x.rows(), d = x.cols();
    dvector y(n);
    for (std::ptrdiff_t i = 0; i < n; ++i) y(i) = labels[std::size_t(i)];
    // theta = [w; b]
    auto objective = [&](const dvector& t, dvector& g) {
      const dvector z = (x * t.head(d)).array() + t(d);
      double f = 0;
      dvector r(n);
      for (std::ptrdiff_t i = 0; i < n; ++i) {
        const double zi = z(i);
        f += (zi > 0 ? zi + std::log1p(std::exp(-zi)) : std::log1p(std::exp(zi))) - y(i) * zi;
        r(i) = 1.0 / (1.0 + std::exp(-zi)) - y(i);
      }
      f = f / double(n) + 0.5 * opt_.l2 * t.head(d).squaredNorm();
      g.resize(d + 1);
      g.head(d) = x.transpose() * r / double(n) + opt_.l2 * t.head(d);
      g(d) = r.sum() / double(n);
      return f;
    };
    dvector t = dvector::Zero(d + 1), g;
    double f = objective(t, g);
    std::deque<std::pair<dvector, dvector>> memory;  // (s, y) pairs
    iterations_ = 0;
    for (; iterations_ < opt_.max_iterations && g.cwiseAbs().maxCoeff() > opt_.tolerance; ++iterations_) {
      // Two-loop recursion.
      dvector q = g;
      std::vector<double> alpha(memory.size());
      for (std::size_t k = memory.size(); k-- > 0;) {
        const auto& [s, yy] = memory[k];
        alpha[k] = s.dot(q) / yy.dot(s);
        q -= alpha[k] * yy;
      }
      if (!memory.empty()) q *= memory.back().first.dot(memory.back().second) / memory.back().second.squaredNorm();
      for (std::size_t k = 0; k < memory.size(); ++k) {
        const auto& [s, yy] = memory[k];
        const double beta = yy.dot(q) / yy.dot(s);
        q += (alpha[k] - beta) * s;
      }
      dvector dir = -q;
      double slope = g.dot(dir);
      if (!(slope < 0)) dir = -g, slope = -g.squaredNorm(), memory.clear();
      double step = memory.empty() ? std::min(1.0, 1.0 / std::max(1e-12, g.norm())) : 1.0;
      dvector t_new, g_new;
      double f_new = 0;
      bool accepted = false;
      for (int tries = 0; tries < 60; ++tries, step *= 0.5) {
        t_new = t + step * dir;
        f_new = objective(t_new, g_new);
        if (f_new <= f + 1e-4 * step * slope) {
          accepted = true;
          break;
        }
      }
      if (!accepted) break;  // no further decrease in floating point
      dvector s = t_new - t, yy = g_new - g;
      if (yy.dot(s) > 1e-12 * s.squaredNorm()) {
        memory.emplace_back(std::move(s), std::move(yy));
        if (memory.size() > opt_.history) memory.pop_front();
      }
      t = std::move(t_new), g = std::move(g_new), f = f_new;
    }
    w_ = t.head(d);
    b_ = t(d);
    loss_ = f;
  }

  double decision(const double* x) const { return detail::pairwise::affine(w_, b_, x); }
  double probability(const double* x) const { return 1.0 / (1.0 + std::exp(-decision(x))); }
  const dvector& weights() const { return w_; }
  double bias() const { return b_; }
  double loss() const { return loss_; }
  std::size_t iterations() const { return iterations_; }

  void write(io::record_writer& w, const std::string& prefix) const {
    w.add(prefix + "w", std::span<const double>(w_.data(), std::size_t(w_.size())));
    w.add_scalar(prefix + "b", b_);
    w.add_scalar(prefix + "l2", opt_.l2);
  }
  void read(const io::record_reader& r, const std::string& prefix, std::size_t dim) {
    const auto w = r.f64(prefix + "w", dim);
    w_ = Eigen::Map<const dvector>(w.data(), std::ptrdiff_t(w.size()));
    b_ = r.scalar(prefix + "b");
    opt_.l2 = r.scalar(prefix + "l2");
  }

 private:
  options opt_;
  dvector w_;
  double b_ = 0, loss_ = 0;
  std::size_t iterations_ = 0;
};

// Linear SVM, hinge loss with L2 regularisation:
//   min 1/2 (|w|^2 + b^2) + c sum_i max(0, 1 - y_i (w . x_i + b)),  y_i = +-1
// solved by dual coordinate descent (Hsieh et al., ICML 2008; liblinear's
// L1-loss solver). The bias is a weight on a constant feature of value
// bias_scale (liblinear's B), so it is regularised as b^2 / bias_scale^2;
// raise bias_scale to regularise it less. Coordinates are visited in a
// random order from `seed`: deterministic. decision(x) = w . x + b.
struct svm_options {
  double c = 1.0;
  double bias_scale = 1.0;
  std::size_t max_epochs = 1000;
  double tolerance = 1e-4;  // on the projected-gradient spread
  std::uint64_t seed = 1;
};

class linear_svm {
 public:
  static constexpr const char* name = "svm";
  using options = svm_options;

  explicit linear_svm(options o = {}) : opt_(o) {}

  void fit(const dmatrix& x, std::span<const int> labels) {
    detail::pairwise::check_labels(std::size_t(x.rows()), labels, "linear SVM");
    detail::pairwise::check_finite(x, "linear SVM");
    if (!(opt_.c > 0)) throw error("linear SVM: c must be positive, found " + std::to_string(opt_.c));
    const std::ptrdiff_t n = x.rows(), d = x.cols();
    const double bs = opt_.bias_scale;
    dvector w = dvector::Zero(d), alpha = dvector::Zero(n), qii(n);
    double wb = 0;  // weight of the constant feature
    for (std::ptrdiff_t i = 0; i < n; ++i) qii(i) = x.row(i).squaredNorm() + bs * bs;
    std::vector<std::size_t> order(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng gen(opt_.seed);
    epochs_ = 0;
    for (; epochs_ < opt_.max_epochs; ++epochs_) {
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[std::size_t(gen.next() % i)]);
      double max_pg = -std::numeric_limits<double>::infinity(), min_pg = std::numeric_limits<double>::infinity();
      for (std::size_t k : order) {
        const auto i = std::ptrdiff_t(k);
        const double yi = labels[k] ? 1.0 : -1.0;
        const double grad = yi * (x.row(i).dot(w) + wb * bs) - 1.0;
        double pg = grad;
        if (alpha(i) <= 0) pg = std::min(grad, 0.0);
        else if (alpha(i) >= opt_.c) pg = std::max(grad, 0.0);
        max_pg = std::max(max_pg, pg), min_pg = std::min(min_pg, pg);
        if (pg == 0 || qii(i) <= 0) continue;
        const double old = alpha(i);
        alpha(i) = std::clamp(old - grad / qii(i), 0.0, opt_.c);
        const double delta = (alpha(i) - old) * yi;
        w += delta * x.row(i).transpose();
        wb += delta * bs;
      }
      if (max_pg - min_pg < opt_.tolerance) {
        ++epochs_;
        break;
      }
    }
    w_ = w;
    b_ = wb * bs;
  }

  double decision(const double* x) const { return detail::pairwise::affine(w_, b_, x); }
  const dvector& weights() const { return w_; }
  double bias() const { return b_; }
  std::size_t epochs() const { return epochs_; }

  void write(io::record_writer& w, const std::string& prefix) const {
    w.add(prefix + "w", std::span<const double>(w_.data(), std::size_t(w_.size())));
    w.add_scalar(prefix + "b", b_);
    w.add_scalar(prefix + "c", opt_.c);
    w.add_scalar(prefix + "bias_scale", opt_.bias_scale);
  }
  void read(const io::record_reader& r, const std::string& prefix, std::size_t dim) {
    const auto w = r.f64(prefix + "w", dim);
    w_ = Eigen::Map<const dvector>(w.data(), std::ptrdiff_t(w.size()));
    b_ = r.scalar(prefix + "b");
    opt_.c = r.scalar(prefix + "c");
    opt_.bias_scale = r.scalar(prefix + "bias_scale");
  }

 private:
  options opt_;
  dvector w_;
  double b_ = 0;
  std::size_t epochs_ = 0;
};

template <class M>
concept linear_model = requires(M m, const M cm, const dmatrix& x, std::span<const int> y, const double* p,
                                io::record_writer& w, const io::record_reader& r) {
  { M::name } -> std::convertible_to<std::string>;
  typename M::options;
  m.fit(x, y);
  { cm.decision(p) } -> std::convertible_to<double>;
  cm.write(w, std::string());
  m.read(r, std::string(), std::size_t());
};

// ---------------------------------------------------------------------------
// Pair-feature verifiers

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
    detail::pairwise::check_finite(a, kind());
    detail::pairwise::check_finite(b, kind());
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

  void save(const std::filesystem::path& path) const {
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
    w.save(path);
  }
  static pair_classifier_verifier load(const std::filesystem::path& path) {
    const io::record_reader r(path, "verifier/" + kind(), 1);
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// feature_group_fusion<V>: a verifier made of one V per contiguous feature
// group (DeepID2: 7 groups of 25 patches, one JB each), fused by score_fusion.
//
// Groups are given as widths, or as a count splitting D into equal parts
// (7 by default). fit() fits each V on its columns, then the fusion SVM on
// the V scores of the training pairs (the given pairs, or balanced pairs
// drawn from the identities). With holdout > 0, a deterministic
// fraction of the pairs is kept from the V fits and used for the fusion
// only (less optimistic component scores; identity-based V still see every
// row's identity). Score = the fusion SVM margin (HIGHER = SAME).

struct feature_group_options {
  std::size_t count = 7;             // equal groups, used when widths is empty
  std::vector<std::size_t> widths;   // explicit group widths, summing to D
  svm_options svm{};
  double holdout = 0.0;              // fraction of pairs for the fusion only
  std::size_t sampled_pairs = 20000; // drawn when fit() gets identities only
  std::uint64_t seed = 1;
};

template <verifier V>
class feature_group_fusion : public threshold_holder {
 public:
  // make(k) builds the (unfitted) verifier of group k; default: V{}.
  explicit feature_group_fusion(feature_group_options o = {}, std::function<V(std::size_t)> make = {})
      : opt_(std::move(o)), make_(std::move(make)), fusion_(opt_.svm) {}

  static std::string kind() { return "fusion-" + std::string(V::kind()); }
  bool fitted() const { return fitted_; }
  const std::vector<V>& members() const { return members_; }
  const score_fusion& fusion() const { return fusion_; }
  const std::vector<std::size_t>& widths() const { return widths_; }

  void fit(const training_data& data) {
    const std::string who = kind();
    const std::size_t d = data.features.shape()[1];
    widths_ = opt_.widths;
    if (widths_.empty()) {
      if (opt_.count == 0 || d % opt_.count != 0)
        throw error(who + ": cannot split " + std::to_string(d) + " dimensions into " + std::to_string(opt_.count) +
                    " equal groups (give widths)");
      widths_.assign(opt_.count, d / opt_.count);
    }
    check_widths(d);
    const auto pairs = detail::pairwise::training_pairs(data, opt_.sampled_pairs, opt_.seed, who);
    std::vector<labelled_pair> member_pairs, fusion_pairs;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const bool held = opt_.holdout > 0 && double(mix64(opt_.seed ^ mix64(i)) >> 11) * 0x1.0p-53 < opt_.holdout;
      (held ? fusion_pairs : member_pairs).push_back(pairs[i]);
    }
    if (opt_.holdout <= 0) fusion_pairs = member_pairs;
    if (member_pairs.empty() || fusion_pairs.empty())
      throw error(who + ": holdout " + std::to_string(opt_.holdout) + " leaves no pairs for the members or the fusion");
    members_.clear();
    std::vector<std::vector<double>> s;
    for (std::size_t k = 0; k < widths_.size(); ++k) {
      const matrix<float> part = slice(data.features, k);
      members_.push_back(make_ ? make_(k) : V{});
      members_.back().fit(training_data{part, data.identities, member_pairs});
      s.push_back(members_.back().scores(part, fusion_pairs));
    }
    fusion_.fit(s, fusion_pairs);
    set_threshold(fusion_.threshold());
    fitted_ = true;
  }

  // Each member's scores of the pairs, in group order (what fusion().fuse takes).
  std::vector<std::vector<double>> member_scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted();
    check_widths(x.shape()[1]);
    std::vector<std::vector<double>> s;
    for (std::size_t k = 0; k < members_.size(); ++k) s.push_back(members_[k].scores(slice(x, k), pairs));
    return s;
  }

  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    return fusion_.fuse(member_scores(x, pairs));
  }

  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted();
    if (a.size() != b.size()) throw error(kind() + ": feature lengths differ");
    check_widths(a.size());
    std::vector<double> s(members_.size());
    std::size_t at = 0;
    for (std::size_t k = 0; k < members_.size(); ++k) {
      s[k] = members_[k].score(a.subspan(at, widths_[k]), b.subspan(at, widths_[k]));
      at += widths_[k];
    }
    return fusion_.fuse_one(s);
  }

  // One file: the group widths, the fusion, and each member's own record
  // file embedded as bytes.
  void save(const std::filesystem::path& path) const {
    require_fitted();
    io::record_writer w("verifier/" + kind(), 1);
    std::vector<std::int64_t> widths(widths_.begin(), widths_.end());
    w.add("widths", std::span<const std::int64_t>(widths));
    fusion_.write(w, "fusion/");
    save_threshold(w);
    for (std::size_t k = 0; k < members_.size(); ++k) {
      const auto tmp = detail::pairwise::embed_scratch_path();
      try {
        members_[k].save(tmp);
        w.add_text("member" + std::to_string(k), detail::pairwise::read_bytes(tmp));
      } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw;
      }
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    }
    w.save(path);
  }

  static feature_group_fusion load(const std::filesystem::path& path) {
    const io::record_reader r(path, "verifier/" + kind(), 1);
    feature_group_fusion f;
    for (auto v : r.i64("widths")) {
      if (v <= 0) throw error(path.string() + ": corrupt group widths");
      f.widths_.push_back(std::size_t(v));
    }
    f.opt_.widths = f.widths_;
    f.fusion_.read(r, "fusion/");
    if (f.fusion_.components() != f.widths_.size())
      throw error(path.string() + ": " + std::to_string(f.widths_.size()) + " groups but " +
                  std::to_string(f.fusion_.components()) + " fused components");
    f.load_threshold(r);
    for (std::size_t k = 0; k < f.widths_.size(); ++k) {
      const std::string bytes = r.text("member" + std::to_string(k));
      const auto tmp = detail::pairwise::embed_scratch_path();
      try {
        {
          std::ofstream out(tmp, std::ios::binary);
          out.write(bytes.data(), std::streamsize(bytes.size()));
          if (!out) throw error(path.string() + ": cannot unpack member " + std::to_string(k) + " to " + tmp.string());
        }
        f.members_.push_back(V::load(tmp));
      } catch (const error& e) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw error(path.string() + ": member " + std::to_string(k) + ": " + e.what());
      }
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    }
    f.fitted_ = true;
    return f;
  }

 private:
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": the verifier is not fitted (call fit first)");
  }
  void check_widths(std::size_t d) const {
    std::size_t total = 0;
    for (auto w : widths_) {
      if (w == 0) throw error(kind() + ": a feature group has width 0");
      total += w;
    }
    if (total != d)
      throw error(kind() + ": the groups cover " + std::to_string(total) + " dimensions, the features have " +
                  std::to_string(d));
  }
  matrix<float> slice(const matrix<float>& x, std::size_t k) const {
    std::size_t at = 0;
    for (std::size_t j = 0; j < k; ++j) at += widths_[j];
    const std::size_t n = x.shape()[0], d = x.shape()[1], w = widths_[k];
    matrix<float> part({n, w});
    for (std::size_t i = 0; i < n; ++i) std::copy_n(x.data() + i * d + at, w, part.data() + i * w);
    return part;
  }

  feature_group_options opt_;
  std::function<V(std::size_t)> make_;
  std::vector<V> members_;
  std::vector<std::size_t> widths_;
  score_fusion fusion_;
  bool fitted_ = false;
};

}  // namespace verify
DEEPID_NAMESPACE_END
