#pragma once
// Linear classifiers on a dense design matrix, the solvers behind the pair
// verifiers and score fusion:
//
//   logistic_regression   L2-regularised, by L-BFGS; decision = log-odds
//   linear_svm            hinge loss, by dual coordinate descent; decision =
//                         the margin
//   linear_model          the concept both satisfy (fit, decision, write, read)
//   column_moments        per-column mean and 1/sd, how callers standardise
//                         a design matrix before fitting
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

namespace detail::pairwise {

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

}  // namespace detail::pairwise

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

}  // namespace verify
DEEPID_NAMESPACE_END
