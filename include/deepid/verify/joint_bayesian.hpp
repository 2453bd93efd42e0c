#pragma once
// Joint Bayesian verification (Chen et al., ECCV 2012).
//
// Model: a training-mean-subtracted feature is x = mu + eps, identity
// mu ~ N(0, S_mu) and intra-personal variation eps ~ N(0, S_eps), independent.
// A pair (x1, x2) is scored by
//
//   r(x1, x2) = x1'A x1 + x2'A x2 - 2 x1'G x2          (A, G from S_mu, S_eps, m = 2)
//
// HIGHER = MORE LIKELY THE SAME PERSON. r is TWICE the log-likelihood ratio
// minus a data-independent constant:
//
//   log P(x1, x2 | same) - log P(x1, x2 | different) = r/2 + c,
//   c = log|S_mu + S_eps| - ½ log|2 S_mu + S_eps| - ½ log|S_eps|
//
// (log_likelihood_ratio() returns it exactly). A and G are negative
// (semi-)definite: that is correct, not a failed fit. A numeric
// threshold belongs to one trained model, so it is learnt from training pairs.
//
// Training: features are centred with the TRAINING mean,
// S_mu and S_eps start as the between/within-identity covariances, then the
// EM-like loop runs until ||S_eps' - S_eps||_F / ||S_eps'||_F < tolerance:
//
//   E-step, one d x d solve per distinct image count m (not per identity):
//     T_m = S_mu (m S_mu + S_eps)^-1,  E[mu_k] = T_m sum_j x_kj,  E[eps_kj] = x_kj - E[mu_k]
//   M-step, published (default, reproduces the papers): S_mu = cov(E[mu]),
//     S_eps = cov(E[eps]) (sample covariances, n - 1);
//   M-step, exact EM (options.exact_em): the posterior covariance
//     C_m = Cov(mu | x) = S_mu - m T_m S_mu is added to every term, and the
//     sums are divided by the identity / image counts (maximum likelihood).
//
// The M-step uses per-m sufficient statistics (sum_k s_k s_k' and sum_k s_k
// over identities with m images, s_k = sum_j x_kj, plus X'X), so one
// iteration costs O(#distinct m · d³), independent of the number of images.
// Everything runs in double precision with Cholesky solves; S_mu and S_eps are
// symmetrised after every update and get a ridge of ridge · trace(S)/d.
// A and G come from closed forms without differences of inverses:
//
//   G = -(2S_mu + S_eps)^-1 S_mu S_eps^-1
//   A = (S_mu + S_eps)^-1 - S_eps^-1 - G = -(2S_mu + S_eps)^-1 S_mu (S_mu + S_eps)^-1 S_mu S_eps^-1
//
// Reduce features with PCA first (150-180 dimensions in the papers): S_eps
// has sum_k (m_k - 1) degrees of freedom, and d x d matrices of 19,200-d raw
// features would not fit. Fewer images than dimensions still give a finite,
// ridge-regularised model.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "deepid/core/threads.hpp"
#include "deepid/kernels/eigen.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

struct joint_bayesian_options {
  bool exact_em = false;     // false: the published EM-like update
  int max_iterations = 500;  // 0: keep the between/within initialisation
  double tolerance = 1e-6;   // on ||S_eps' - S_eps||_F / ||S_eps'||_F
  double ridge = 1e-6;       // added to S_mu and S_eps, relative to trace/d
};

namespace jb {

// A, G (for a pair, m = 2) and the constant c with log-likelihood ratio = r/2 + c.
struct scoring_matrices {
  dmatrix a, g;
  double llr_constant = 0;
};

namespace detail {

using llt = Eigen::LLT<Eigen::MatrixXd>;

inline llt cholesky(const dmatrix& m, const std::string& what) {
  llt f{Eigen::MatrixXd(m)};
  if (f.info() != Eigen::Success)
    throw error("joint_bayesian: " + what +
                " is not positive definite (the features vary in fewer directions than they have dimensions: "
                "reduce them with PCA or use a positive ridge)");
  return f;
}

inline double log_det(const llt& f) {
  const auto& l = f.matrixLLT();
  double s = 0;
  for (Eigen::Index i = 0; i < l.rows(); ++i) s += std::log(l(i, i));
  return 2 * s;
}

inline void symmetrise(dmatrix& m) { m = (0.5 * (m + m.transpose())).eval(); }

inline bool all_finite(const dmatrix& m) { return m.allFinite(); }

inline void check_covariances(const dmatrix& s_mu, const dmatrix& s_eps) {
  if (s_mu.rows() == 0 || s_mu.rows() != s_mu.cols() || s_eps.rows() != s_mu.rows() || s_eps.cols() != s_mu.cols())
    throw error("joint_bayesian: S_mu (" + std::to_string(s_mu.rows()) + "x" + std::to_string(s_mu.cols()) +
                ") and S_eps (" + std::to_string(s_eps.rows()) + "x" + std::to_string(s_eps.cols()) +
                ") must be square matrices of one size");
  if (!all_finite(s_mu) || !all_finite(s_eps)) throw error("joint_bayesian: S_mu or S_eps is not finite");
}

}  // namespace detail

// The E-step matrix T_m = S_mu (m S_mu + S_eps)^-1: E[mu | x_1..x_m] = T_m sum_i x_i.
// Not symmetric in general; it is not symmetrised.
inline dmatrix e_step_matrix(const dmatrix& s_mu, const dmatrix& s_eps, int m) {
  detail::check_covariances(s_mu, s_eps);
  if (m < 1) throw error("joint_bayesian: an identity has at least one image (m = " + std::to_string(m) + ")");
  const auto f = detail::cholesky(double(m) * s_mu + s_eps, "m S_mu + S_eps (m = " + std::to_string(m) + ")");
  return f.solve(Eigen::MatrixXd(s_mu)).transpose();  // (mS_mu+S_eps)^-1 S_mu, transposed
}

// A, G and c from S_mu, S_eps, by Cholesky solves.
inline scoring_matrices scoring(const dmatrix& s_mu, const dmatrix& s_eps) {
  detail::check_covariances(s_mu, s_eps);
  const auto f_eps = detail::cholesky(s_eps, "S_eps");
  const auto f_s = detail::cholesky(s_mu + s_eps, "S_mu + S_eps");
  const auto f_m = detail::cholesky(2 * s_mu + s_eps, "2 S_mu + S_eps");
  const Eigen::MatrixXd w = s_mu;
  const Eigen::MatrixXd r = f_m.solve(w);         // (2S_mu+S_eps)^-1 S_mu
  const Eigen::MatrixXd rz = r * f_s.solve(w);    // ... (S_mu+S_eps)^-1 S_mu
  scoring_matrices out;
  out.g = -f_eps.solve(r.transpose()).transpose();  // X S_eps^-1 = (S_eps^-1 X')'
  out.a = -f_eps.solve(rz.transpose()).transpose();
  detail::symmetrise(out.a);
  detail::symmetrise(out.g);
  out.llr_constant = detail::log_det(f_s) - 0.5 * detail::log_det(f_m) - 0.5 * detail::log_det(f_eps);
  return out;
}

}  // namespace jb

class joint_bayesian : public threshold_holder {
 public:
  using options_type = joint_bayesian_options;

  joint_bayesian() = default;
  explicit joint_bayesian(joint_bayesian_options options) : options_(options) {}

  static std::string kind() { return "joint_bayesian"; }

  // A model with known covariances (no training); `mean` (empty: zero) is
  // subtracted from features before scoring.
  static joint_bayesian from_covariances(const dmatrix& s_mu, const dmatrix& s_eps, const dvector& mean = {}) {
    jb::detail::check_covariances(s_mu, s_eps);
    if (mean.size() != 0 && mean.size() != s_mu.rows())
      throw error("joint_bayesian: a mean of " + std::to_string(mean.size()) + " values for " +
                  std::to_string(s_mu.rows()) + "-dimensional covariances");
    joint_bayesian v;
    v.s_mu_ = s_mu;
    v.s_eps_ = s_eps;
    jb::detail::symmetrise(v.s_mu_);
    jb::detail::symmetrise(v.s_eps_);
    v.mean_ = mean.size() ? mean : dvector::Zero(s_mu.rows());
    v.finish();
    return v;
  }

  // Learns from data.features (N x d) and data.identities (N labels); the
  // threshold from data.pairs when there are any.
  void fit(const training_data& data) {
    const std::size_t n = data.features.shape()[0], d = data.features.shape()[1];
    if (n == 0 || d == 0)
      throw error("joint_bayesian: no training features (" + shape_string(data.features.shape()) + ")");
    if (data.identities.size() != n)
      throw error("joint_bayesian: " + std::to_string(data.identities.size()) + " identity labels for " +
                  std::to_string(n) + " feature rows (one label per row is needed)");
    check_pairs(data.pairs, n, "joint_bayesian");
    if (options_.max_iterations < 0 || !(options_.tolerance >= 0) || !(options_.ridge >= 0) ||
        !std::isfinite(options_.ridge) || !std::isfinite(options_.tolerance))
      throw error("joint_bayesian: options need max_iterations >= 0 and finite tolerance, ridge >= 0");

    kernels::use_eigen_threads();
    dmatrix x = to_dmatrix(data.features, "joint_bayesian");
    const dvector mean = x.colwise().mean().transpose();
    x.rowwise() -= mean.transpose();

    // Identities and their image sums s_k.
    std::unordered_map<int, std::size_t> slot;
    std::vector<std::size_t> images;
    std::vector<std::size_t> identity_of(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto [it, added] = slot.emplace(data.identities[i], images.size());
      if (added) images.push_back(0);
      identity_of[i] = it->second;
      ++images[it->second];
    }
    const std::size_t k = images.size();
    if (k < 2)
      throw error("joint_bayesian: the training data hold " + std::to_string(k) +
                  " identity; at least two are needed to learn S_mu");
    dmatrix sums = dmatrix::Zero(Eigen::Index(k), Eigen::Index(d));
    for (std::size_t i = 0; i < n; ++i) sums.row(Eigen::Index(identity_of[i])) += x.row(Eigen::Index(i));

    // Sufficient statistics per distinct image count m.
    std::map<std::size_t, std::vector<std::size_t>> by_count;
    for (std::size_t id = 0; id < k; ++id) by_count[images[id]].push_back(id);
    std::vector<group> groups;
    for (const auto& [m, ids] : by_count) {
      dmatrix s(Eigen::Index(ids.size()), Eigen::Index(d));
      for (std::size_t j = 0; j < ids.size(); ++j) s.row(Eigen::Index(j)) = sums.row(Eigen::Index(ids[j]));
      group g;
      g.m = double(m);
      g.count = double(ids.size());
      g.p = s.transpose() * s;
      g.q = s.colwise().sum().transpose();
      groups.push_back(std::move(g));
    }
    const dmatrix xtx = x.transpose() * x;
    const double total_scale = xtx.trace() / double(n > 1 ? n - 1 : 1) / double(d);
    if (!(total_scale > 0)) throw error("joint_bayesian: every training feature row is the same; nothing to learn");

    // Initialisation: between- and within-identity covariances (LDA scatter).
    dmatrix s_mu, s_eps;
    {
      dmatrix uu = dmatrix::Zero(Eigen::Index(d), Eigen::Index(d));
      dvector u = dvector::Zero(Eigen::Index(d));
      dmatrix within = xtx;
      double within_images = 0;
      for (const auto& g : groups) {
        uu += g.p / (g.m * g.m);
        u += g.q / g.m;
        if (g.m < 2) {
          within -= g.p;  // single images carry no within-identity information
        } else {
          within -= g.p / g.m;
          within_images += g.m * g.count;
        }
      }
      if (within_images == 0)
        throw error("joint_bayesian: every identity has a single image; at least one identity needs two or more "
                    "to learn the intra-personal covariance S_eps");
      s_mu = (uu - u * u.transpose() / double(k)) / double(k - 1);
      s_eps = within / (within_images - 1);
      jb::detail::symmetrise(s_mu);
      jb::detail::symmetrise(s_eps);
      if (!(s_eps.trace() / double(d) > 1e-10 * total_scale))
        throw error("joint_bayesian: the images of each identity are identical (duplicated images?): there is no "
                    "intra-personal variation to learn S_eps from");
      add_ridge(s_mu);
      add_ridge(s_eps);
    }

    // The EM-like loop: O(#distinct m · d³) per iteration. At PCA sizes
    // (d ~ 150-180) these products are too small to share between threads.
    const kernels::eigen_threads loop_threads(d >= 512 ? num_threads() : 1);
    const double nn = double(n), kk = double(k);
    dvector total_sum = dvector::Zero(Eigen::Index(d));
    for (const auto& g : groups) total_sum += g.q;
    int iterations = 0;
    bool converged = options_.max_iterations == 0;
    for (int it = 0; it < options_.max_iterations; ++it) {
      dmatrix mumu = dmatrix::Zero(Eigen::Index(d), Eigen::Index(d)), cross = mumu, weighted_mumu = mumu, post_mu = mumu,
              post_eps = mumu;
      dvector mu_sum = dvector::Zero(Eigen::Index(d)), weighted_mu_sum = mu_sum;
      for (const auto& g : groups) {
        const dmatrix t = e_step(s_mu, s_eps, g.m);
        const dmatrix tp = t * g.p;
        const dmatrix tpt = tp * t.transpose();  // sum_k E[mu_k] E[mu_k]'
        mumu += tpt;
        weighted_mumu += g.m * tpt;
        cross += tp;  // sum_k E[mu_k] s_k'
        const dvector tq = t * g.q;
        mu_sum += tq;
        weighted_mu_sum += g.m * tq;
        if (options_.exact_em) {
          dmatrix c = s_mu - g.m * t * s_mu;  // Cov(mu | x), Woodbury form
          jb::detail::symmetrise(c);
          post_mu += g.count * c;
          post_eps += g.count * g.m * c;
        }
      }
      // sum_kj E[eps_kj] E[eps_kj]' = X'X - sum_k (s_k mu_k' + mu_k s_k') + sum_k m_k mu_k mu_k'
      const dmatrix ete = xtx - cross - cross.transpose() + weighted_mumu;
      dmatrix new_mu, new_eps;
      if (options_.exact_em) {
        new_mu = (mumu + post_mu) / kk;
        new_eps = (ete + post_eps) / nn;
      } else {
        const dvector eps_sum = total_sum - weighted_mu_sum;
        new_mu = (mumu - mu_sum * mu_sum.transpose() / kk) / (kk - 1);
        new_eps = (ete - eps_sum * eps_sum.transpose() / nn) / (nn > 1 ? nn - 1 : 1);
      }
      jb::detail::symmetrise(new_mu);
      jb::detail::symmetrise(new_eps);
      add_ridge(new_mu);
      add_ridge(new_eps);
      if (!new_mu.allFinite() || !new_eps.allFinite())
        throw error("joint_bayesian: the covariances became non-finite in iteration " + std::to_string(it + 1));
      const double change = (new_eps - s_eps).norm() / new_eps.norm();
      s_mu = std::move(new_mu);
      s_eps = std::move(new_eps);
      iterations = it + 1;
      if (change < options_.tolerance) {
        converged = true;
        break;
      }
    }

    joint_bayesian next(options_);
    next.s_mu_ = std::move(s_mu);
    next.s_eps_ = std::move(s_eps);
    next.mean_ = mean;
    next.iterations_ = iterations;
    next.converged_ = converged;
    next.finish();
    if (!data.pairs.empty()) next.learn_threshold(next.scores(data.features, data.pairs), data.pairs);
    *this = std::move(next);
  }

  bool fitted() const { return fitted_; }
  std::size_t dim() const { return std::size_t(mean_.size()); }

  // r(a, b) = a'A a + b'A b - 2 a'G b on mean-subtracted features (see top).
  double score(std::span<const float> a, std::span<const float> b) const {
    const dvector x1 = centred(a, "first"), x2 = centred(b, "second");
    return x1.dot(a_ * x1) + x2.dot(a_ * x2) - 2 * x1.dot(g_ * x2);
  }

  // The exact log-likelihood ratio log P(a, b | same) - log P(a, b | different) = r/2 + c.
  double log_likelihood_ratio(std::span<const float> a, std::span<const float> b) const {
    return 0.5 * score(a, b) + llr_constant_;
  }

  // r for pairs of rows of x: a_i = x_i'A x_i and g_i = G x_i are computed once
  // per distinct row referenced, then r = a_i + a_j - 2 x_i'g_j, in parallel.
  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted("scores");
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    if (d != dim())
      throw error("joint_bayesian: features have " + std::to_string(d) + " dimensions, the model was fitted on " +
                  std::to_string(dim()));
    check_pairs(pairs, n, "joint_bayesian");
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> slot(n, none), rows;
    std::vector<std::size_t> first(pairs.size()), second(pairs.size());
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      for (auto [row, out] : {std::pair{pairs[p].first, &first[p]}, std::pair{pairs[p].second, &second[p]}}) {
        if (slot[row] == none) slot[row] = rows.size(), rows.push_back(row);
        *out = slot[row];
      }
    }
    dmatrix xr(Eigen::Index(rows.size()), Eigen::Index(d));
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const float* src = x.data() + rows[r] * d;
      for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(src[j]))
          throw error("joint_bayesian: feature " + std::to_string(j) + " of row " + std::to_string(rows[r]) +
                      " is not finite");
        xr(Eigen::Index(r), Eigen::Index(j)) = double(src[j]) - mean_[Eigen::Index(j)];
      }
    }
    kernels::use_eigen_threads();
    dmatrix gx(xr.rows(), xr.cols()), ax(xr.rows(), xr.cols());
    gx.noalias() = xr * g_;  // row i: (G x_i)', G symmetric
    ax.noalias() = xr * a_;
    dvector quad(xr.rows());  // a_i = x_i'A x_i
    for (Eigen::Index i = 0; i < xr.rows(); ++i) quad[i] = ax.row(i).dot(xr.row(i));
    std::vector<double> out(pairs.size());
    const int threads = num_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
    for (std::ptrdiff_t p = 0; p < std::ptrdiff_t(pairs.size()); ++p) {
      const auto i = Eigen::Index(first[std::size_t(p)]), j = Eigen::Index(second[std::size_t(p)]);
      out[std::size_t(p)] = quad[i] + quad[j] - 2 * xr.row(i).dot(gx.row(j));
    }
    (void)threads;
    return out;
  }

  // The model, for inspection and tests.
  const dmatrix& s_mu() const { return s_mu_; }
  const dmatrix& s_eps() const { return s_eps_; }
  const dmatrix& a() const { return a_; }
  const dmatrix& g() const { return g_; }
  const dvector& mean() const { return mean_; }
  double llr_constant() const { return llr_constant_; }
  int iterations() const { return iterations_; }
  bool converged() const { return converged_; }
  const joint_bayesian_options& options() const { return options_; }

  io::record_writer record() const {
    require_fitted("save");
    io::record_writer w("verifier/" + kind(), 1);
    const auto d = std::uint64_t(dim());
    w.add_scalar("dim", double(d));
    w.add("mean", std::span<const double>(mean_.data(), mean_.size()));
    w.add("s_mu", std::span<const double>(s_mu_.data(), s_mu_.size()), {d, d});
    w.add("s_eps", std::span<const double>(s_eps_.data(), s_eps_.size()), {d, d});
    w.add("a", std::span<const double>(a_.data(), a_.size()), {d, d});
    w.add("g", std::span<const double>(g_.data(), g_.size()), {d, d});
    w.add_scalar("llr_constant", llr_constant_);
    w.add_scalar("exact_em", options_.exact_em ? 1.0 : 0.0);
    w.add_scalar("max_iterations", double(options_.max_iterations));
    w.add_scalar("tolerance", options_.tolerance);
    w.add_scalar("ridge", options_.ridge);
    w.add_scalar("iterations", double(iterations_));
    w.add_scalar("converged", converged_ ? 1.0 : 0.0);
    save_threshold(w);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }

  static joint_bayesian load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static joint_bayesian from_record(const io::record_reader& r) {
    const double dd = r.scalar("dim");
    if (!(dd >= 1 && dd <= 65536 && dd == std::floor(dd)))
      throw error(r.path() + ": corrupt Joint Bayesian model (dimension " + std::to_string(dd) + ")");
    const auto d = std::size_t(dd);
    auto square = [&](const char* name) {
      const auto v = r.f64(name, d * d);
      dmatrix m{Eigen::Index(d), Eigen::Index(d)};
      std::copy(v.begin(), v.end(), m.data());
      if (!m.allFinite()) throw error(r.path() + ": section '" + std::string(name) + "' holds non-finite values");
      return m;
    };
    joint_bayesian v;
    const auto mean = r.f64("mean", d);
    v.mean_ = Eigen::Map<const dvector>(mean.data(), Eigen::Index(d));
    v.s_mu_ = square("s_mu");
    v.s_eps_ = square("s_eps");
    v.a_ = square("a");
    v.g_ = square("g");
    v.llr_constant_ = r.scalar("llr_constant");
    if (!v.mean_.allFinite() || !std::isfinite(v.llr_constant_))
      throw error(r.path() + ": the mean or log-likelihood constant is not finite");
    v.options_.exact_em = r.scalar("exact_em") != 0.0;
    auto count = [&](const char* name) {
      const double c = r.scalar(name);
      if (!(c >= 0 && c <= 1e9)) throw error(r.path() + ": corrupt Joint Bayesian model ('" + std::string(name) + "')");
      return int(c);
    };
    v.options_.max_iterations = count("max_iterations");
    v.options_.tolerance = r.scalar("tolerance");
    v.options_.ridge = r.scalar("ridge");
    v.iterations_ = count("iterations");
    v.converged_ = r.scalar("converged") != 0.0;
    v.load_threshold(r);
    v.fitted_ = true;
    return v;
  }

 private:
  struct group {
    double m = 0, count = 0;  // image count and number of identities with it
    dmatrix p;                // sum_k s_k s_k'
    dvector q;                // sum_k s_k
  };

  void add_ridge(dmatrix& s) const {
    const double delta = options_.ridge * s.trace() / double(s.rows());
    if (delta > 0) s.diagonal().array() += delta;
  }

  static dmatrix e_step(const dmatrix& s_mu, const dmatrix& s_eps, double m) {
    const auto f = jb::detail::cholesky(m * s_mu + s_eps, "m S_mu + S_eps");
    return f.solve(Eigen::MatrixXd(s_mu)).transpose();
  }

  void finish() {
    auto s = jb::scoring(s_mu_, s_eps_);
    if (!s.a.allFinite() || !s.g.allFinite() || !std::isfinite(s.llr_constant))
      throw error("joint_bayesian: the scoring matrices are not finite");
    a_ = std::move(s.a);
    g_ = std::move(s.g);
    llr_constant_ = s.llr_constant;
    fitted_ = true;
  }

  void require_fitted(const char* what) const {
    if (!fitted_) throw error(std::string("joint_bayesian: ") + what + " needs a fitted model (call fit or load first)");
  }

  dvector centred(std::span<const float> f, const char* which) const {
    require_fitted("score");
    if (f.size() != dim())
      throw error(std::string("joint_bayesian: the ") + which + " feature has " + std::to_string(f.size()) +
                  " dimensions, the model was fitted on " + std::to_string(dim()));
    dvector x(Eigen::Index(f.size()));
    for (std::size_t j = 0; j < f.size(); ++j) {
      if (!std::isfinite(f[j]))
        throw error(std::string("joint_bayesian: value ") + std::to_string(j) + " of the " + which +
                    " feature is not finite");
      x[Eigen::Index(j)] = double(f[j]) - mean_[Eigen::Index(j)];
    }
    return x;
  }

  joint_bayesian_options options_;
  dmatrix s_mu_, s_eps_, a_, g_;
  dvector mean_;
  double llr_constant_ = 0;
  int iterations_ = 0;
  bool converged_ = false, fitted_ = false;
};

static_assert(verifier<joint_bayesian>);

}  // namespace verify
DEEPID_NAMESPACE_END
