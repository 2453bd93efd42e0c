#pragma once
// PCA fitted on training features only (a basis fitted on test folds would
// leak them into the evaluation), and
// with_pca<V>: a verifier policy that reduces features with PCA before V.
//
// pca::fit(x) learns the training mean, the top-k principal directions of the
// centred rows and their variances (sample covariance, n - 1). Solvers:
//
//   covariance  eigen-decomposition of the d x d covariance (N >= d);
//               O(N d² + d³), rows accumulated in blocks.
//   gram        eigen-decomposition of the N x N Gram matrix of the centred
//               rows (N < d, the thin-SVD route); O(N² d + N³).
//   randomized  subspace iteration (Halko, Martinsson, Tropp 2011) with
//               k + oversampling directions and power_iterations passes, then
//               Rayleigh-Ritz; O(N d (k + p) (2q + 2)); the large products run
//               in single precision on a centred copy. For 10,000 x 19,200.
//   automatic   covariance or gram (whichever side is smaller) when
//               min(N, d) <= exact_limit, randomized above.
//
// Each direction's sign is fixed so that its largest-magnitude entry is
// positive, so every solver gives the same basis for the same data.
// project(x) = (x - mean) W, divided by the standard deviation of each
// component when whitening; it never modifies its input. k larger than the
// dimensions, the rows - 1 or the numerical rank of the data is an error.
//
// with_pca<V> fits PCA on the training features, then V on the projected
// ones (V learns the threshold on the projected training pairs), and projects
// at scoring time. Its file (kind "verifier/pca+<V::kind()>") holds the PCA
// sections under "pca." and V's own complete record file, byte for byte, in
// the section "inner": V keeps its kind, version and checksum checks.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/eigen.hpp"
#include "deepid/verify/embedded_verifier.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

enum class pca_solver { automatic, covariance, gram, randomized };

inline const char* to_string(pca_solver s) {
  switch (s) {
    case pca_solver::covariance: return "covariance";
    case pca_solver::gram: return "gram";
    case pca_solver::randomized: return "randomized";
    default: return "automatic";
  }
}

struct pca_options {
  std::size_t components = 150;  // k (DeepID1: 150, DeepID2: 180)
  bool whiten = false;           // divide each component by its standard deviation
  pca_solver solver = pca_solver::automatic;
  std::size_t exact_limit = 2048;  // automatic: exact solver when min(N, d) <= this
  std::size_t oversampling = 20;   // randomized: extra directions kept while iterating
  int power_iterations = 6;        // randomized: subspace iterations
  std::uint64_t seed = 0x5eedull;  // randomized: the Gaussian test matrix
};

// Real: the precision of the mean, the basis and the solvers (pca is
// basic_pca<double>). A class template also keeps Eigen's eigensolvers out
// of translation units that include this header without fitting a PCA:
// instantiating them cost each such unit about 15 s of compile time.
template <class Real = double>
class basic_pca {
 public:
  using vector_type = Eigen::Matrix<Real, Eigen::Dynamic, 1>;
  using matrix_type = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  basic_pca() = default;
  explicit basic_pca(pca_options options) : options_(options) {}

  static std::string kind() { return "pca"; }

  void fit(const matrix<float>& x) {
    const std::size_t n = x.shape()[0], d = x.shape()[1], k = options_.components;
    if (k == 0) throw error("pca: the number of components must be at least 1");
    if (n < 2) throw error("pca: needs at least 2 training rows, got " + std::to_string(n));
    if (k > d)
      throw error("pca: " + std::to_string(k) + " components requested from " + std::to_string(d) +
                  "-dimensional features");
    if (k > n - 1)
      throw error("pca: " + std::to_string(k) + " components requested from " + std::to_string(n) +
                  " training rows (centred data have rank at most " + std::to_string(n - 1) + ")");
    kernels::use_eigen_threads();

    vector_type mean = vector_type::Zero(Eigen::Index(d));
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = x.data() + i * d;
      for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(row[j]))
          throw error("pca: feature " + std::to_string(j) + " of training row " + std::to_string(i) + " is not finite");
        mean[Eigen::Index(j)] += row[j];
      }
    }
    mean /= Real(n);

    pca_solver solver = options_.solver;
    if (solver == pca_solver::automatic) {
      const std::size_t small = std::min(n, d);
      const bool exact = small <= options_.exact_limit || 2 * (k + options_.oversampling) >= small;
      solver = !exact ? pca_solver::randomized : d <= n ? pca_solver::covariance : pca_solver::gram;
    }
    result r;
    switch (solver) {
      case pca_solver::covariance: r = by_covariance(x, mean, k); break;
      case pca_solver::gram: r = by_gram(x, mean, k); break;
      default: r = by_randomized(x, mean, k); break;
    }

    // The rank check: a component with (numerically) no variance is not a direction of the data.
    const double tol = (solver == pca_solver::randomized ? 1e-8 : 1e-10) * r.variances[0];
    if (!(r.variances[0] > 0) || !(r.variances[Eigen::Index(k - 1)] > tol)) {
      Eigen::Index rank = 0;
      while (rank < r.variances.size() && r.variances[rank] > tol) ++rank;
      throw error("pca: " + std::to_string(k) + " components requested but the training data span only " +
                  std::to_string(rank) + " dimensions (numerical rank)");
    }
    for (Eigen::Index c = 0; c < r.basis.cols(); ++c) {
      Eigen::Index at = 0;
      r.basis.col(c).cwiseAbs().maxCoeff(&at);
      if (r.basis(at, c) < 0) r.basis.col(c) *= Real(-1);
    }
    mean_ = std::move(mean);
    basis_ = std::move(r.basis);
    variances_ = std::move(r.variances);
    total_variance_ = r.total;
    solver_used_ = solver;
    update_scale();
  }

  bool fitted() const { return basis_.size() > 0; }
  std::size_t input_dim() const { return std::size_t(mean_.size()); }
  std::size_t components() const { return std::size_t(basis_.cols()); }
  bool whitened() const { return options_.whiten; }
  const pca_options& options() const { return options_; }
  pca_solver solver_used() const { return solver_used_; }
  const vector_type& mean() const { return mean_; }
  const matrix_type& basis() const { return basis_; }        // d x k, orthonormal columns
  const vector_type& variances() const { return variances_; }  // of each component, decreasing
  double total_variance() const { return total_variance_; }
  double explained_variance_ratio() const { return total_variance_ > 0 ? double(variances_.sum()) / total_variance_ : 0.0; }

  // (x - mean) W (/ sqrt(variance) when whitening): N x k, a new matrix.
  matrix<float> project(const matrix<float>& x) const {
    require_fitted("project");
    const std::size_t n = x.shape()[0], d = x.shape()[1], k = components();
    if (d != input_dim())
      throw error("pca: features have " + std::to_string(d) + " dimensions, the PCA was fitted on " +
                  std::to_string(input_dim()));
    matrix<float> out({n, k});
    if (n == 0) return out;
    kernels::use_eigen_threads();
    constexpr std::size_t block = 1024;
    matrix_type rows, y;
    for (std::size_t r0 = 0; r0 < n; r0 += block) {
      const std::size_t r1 = std::min(n, r0 + block);
      rows.resize(Eigen::Index(r1 - r0), Eigen::Index(d));
      for (std::size_t i = r0; i < r1; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          const float v = x.data()[i * d + j];
          if (!std::isfinite(v))
            throw error("pca: feature " + std::to_string(j) + " of row " + std::to_string(i) + " is not finite");
          rows(Eigen::Index(i - r0), Eigen::Index(j)) = Real(v) - mean_[Eigen::Index(j)];
        }
      y.noalias() = rows * basis_;
      y.array().rowwise() *= scale_.transpose().array();
      for (std::size_t i = r0; i < r1; ++i)
        for (std::size_t c = 0; c < k; ++c) out.data()[i * k + c] = float(y(Eigen::Index(i - r0), Eigen::Index(c)));
    }
    return out;
  }

  // One row.
  std::vector<float> project(std::span<const float> row) const {
    matrix<float> one({std::size_t(1), row.size()});
    std::copy(row.begin(), row.end(), one.data());
    const matrix<float> y = project(one);
    return {y.data(), y.data() + y.size()};
  }

  // Sections under `prefix` in a record file (pca's own file uses prefix "").
  void write(io::record_writer& w, const std::string& prefix) const {
    require_fitted("save");
    const auto d = std::uint64_t(input_dim()), k = std::uint64_t(components());
    w.add_scalar(prefix + "dim", double(d));
    w.add_scalar(prefix + "components", double(k));
    w.add_scalar(prefix + "whiten", options_.whiten ? 1.0 : 0.0);
    w.add_text(prefix + "solver", to_string(solver_used_));
    w.add_scalar(prefix + "total_variance", total_variance_);
    // Files hold doubles whatever Real is.
    const Eigen::VectorXd mean = mean_.template cast<double>(), variances = variances_.template cast<double>();
    const dmatrix basis = basis_.template cast<double>();
    w.add(prefix + "mean", std::span<const double>(mean.data(), std::size_t(mean.size())));
    w.add(prefix + "basis", std::span<const double>(basis.data(), std::size_t(basis.size())), {d, k});
    w.add(prefix + "variances", std::span<const double>(variances.data(), std::size_t(variances.size())));
  }

  static basic_pca read(const io::record_reader& r, const std::string& prefix) {
    const double dd = r.scalar(prefix + "dim"), kk = r.scalar(prefix + "components");
    if (!(dd >= 1 && kk >= 1 && kk <= dd && dd <= double(1u << 30) && dd == std::floor(dd) && kk == std::floor(kk)))
      throw error(r.path() + ": corrupt PCA (" + std::to_string(dd) + " dimensions, " + std::to_string(kk) +
                  " components)");
    const auto d = std::size_t(dd), k = std::size_t(kk);
    basic_pca p;
    p.options_.components = k;
    p.options_.whiten = r.scalar(prefix + "whiten") != 0.0;
    const std::string solver = r.text(prefix + "solver");
    for (auto s : {pca_solver::covariance, pca_solver::gram, pca_solver::randomized})
      if (solver == to_string(s)) p.solver_used_ = p.options_.solver = s;
    p.total_variance_ = r.scalar(prefix + "total_variance");
    const auto mean = r.f64(prefix + "mean", d), basis = r.f64(prefix + "basis", std::uint64_t(d) * k),
               variances = r.f64(prefix + "variances", k);
    p.mean_ = Eigen::Map<const Eigen::VectorXd>(mean.data(), Eigen::Index(d)).template cast<Real>();
    p.basis_ = Eigen::Map<const dmatrix>(basis.data(), Eigen::Index(d), Eigen::Index(k)).template cast<Real>();
    p.variances_ = Eigen::Map<const Eigen::VectorXd>(variances.data(), Eigen::Index(k)).template cast<Real>();
    if (!p.mean_.allFinite() || !p.basis_.allFinite() || !p.variances_.allFinite() || !(p.variances_.minCoeff() > 0))
      throw error(r.path() + ": corrupt PCA (non-finite values or a non-positive variance)");
    p.update_scale();
    return p;
  }

  void save(const std::filesystem::path& path) const {
    io::record_writer w(kind(), 1);
    write(w, "");
    w.save(path);
  }
  static basic_pca load(const std::filesystem::path& path) { return read(io::record_reader(path, kind(), 1), ""); }

 private:
  // The solvers' own (column-major) matrices.
  using solver_matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;

  struct result {
    matrix_type basis;      // d x k
    vector_type variances;  // k, decreasing
    double total = 0;   // trace of the covariance
  };

  // Centred rows [r0, r1) of x, as Scalar.
  template <class Scalar>
  using rows_of = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  template <class Scalar>
  static rows_of<Scalar> centred_rows(const matrix<float>& x, const vector_type& mean, std::size_t r0, std::size_t r1) {
    const std::size_t d = x.shape()[1];
    rows_of<Scalar> m(Eigen::Index(r1 - r0), Eigen::Index(d));
    for (std::size_t i = r0; i < r1; ++i)
      for (std::size_t j = 0; j < d; ++j)
        m(Eigen::Index(i - r0), Eigen::Index(j)) = Scalar(double(x.data()[i * d + j]) - double(mean[Eigen::Index(j)]));
    return m;
  }

  // The k largest eigenpairs of a symmetric matrix (Eigen returns them increasing).
  static void top_eigen(const solver_matrix& sym, std::size_t k, solver_matrix& vectors, vector_type& values) {
    Eigen::SelfAdjointEigenSolver<solver_matrix> es(sym);
    if (es.info() != Eigen::Success) throw error("pca: the symmetric eigensolver did not converge");
    const Eigen::Index n = sym.rows(), kk = Eigen::Index(k);
    vectors.resize(n, kk);
    values.resize(kk);
    for (Eigen::Index c = 0; c < kk; ++c) {
      vectors.col(c) = es.eigenvectors().col(n - 1 - c);
      values[c] = es.eigenvalues()[n - 1 - c];
    }
  }

  static result by_covariance(const matrix<float>& x, const vector_type& mean, std::size_t k) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    solver_matrix cov = solver_matrix::Zero(Eigen::Index(d), Eigen::Index(d));
    constexpr std::size_t block = 4096;
    for (std::size_t r0 = 0; r0 < n; r0 += block) {
      const auto rows = centred_rows<Real>(x, mean, r0, std::min(n, r0 + block));
      cov.template selfadjointView<Eigen::Lower>().rankUpdate(rows.transpose());
    }
    cov = cov.template selfadjointView<Eigen::Lower>();
    cov /= Real(n - 1);
    result r;
    solver_matrix vectors;
    top_eigen(cov, k, vectors, r.variances);
    r.basis = vectors;
    r.total = double(cov.trace());
    return r;
  }

  static result by_gram(const matrix<float>& x, const vector_type& mean, std::size_t k) {
    const std::size_t n = x.shape()[0];
    const rows_of<Real> xc = centred_rows<Real>(x, mean, 0, n);
    solver_matrix gram = solver_matrix::Zero(Eigen::Index(n), Eigen::Index(n));
    gram.template selfadjointView<Eigen::Lower>().rankUpdate(xc);
    gram = gram.template selfadjointView<Eigen::Lower>();
    gram /= Real(n - 1);
    result r;
    solver_matrix u;
    top_eigen(gram, k, u, r.variances);
    // Right singular vectors: v = Xc' u / ||Xc' u||.
    solver_matrix v = xc.transpose() * u;
    for (Eigen::Index c = 0; c < v.cols(); ++c) {
      const Real norm = v.col(c).norm();
      if (norm > 0) v.col(c) /= norm;
    }
    r.basis = v;
    r.total = double(gram.trace());
    return r;
  }

  static Eigen::MatrixXf orthonormal(const Eigen::MatrixXf& m) {
    Eigen::HouseholderQR<Eigen::MatrixXf> qr(m);
    return qr.householderQ() * Eigen::MatrixXf::Identity(m.rows(), m.cols());
  }

  result by_randomized(const matrix<float>& x, const vector_type& mean, std::size_t k) const {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    const auto l = Eigen::Index(std::min(std::min(n, d), k + options_.oversampling));
    const rows_of<float> xc = centred_rows<float>(x, mean, 0, n);
    rng gen(options_.seed);
    Eigen::MatrixXf omega(Eigen::Index(d), l);
    for (Eigen::Index c = 0; c < l; ++c)
      for (Eigen::Index i = 0; i < Eigen::Index(d); ++i) omega(i, c) = float(gen.normal());
    Eigen::MatrixXf q = orthonormal(xc * omega);
    for (int it = 0; it < options_.power_iterations; ++it) {
      const Eigen::MatrixXf z = orthonormal(xc.transpose() * q);
      q = orthonormal(xc * z);
    }
    // Rayleigh-Ritz: B = Q'Xc (l x d); B B' = U S² U'; V = B'U / S.
    const solver_matrix b = (q.transpose() * xc).template cast<Real>();
    solver_matrix u;
    vector_type s2;
    top_eigen(b * b.transpose(), k, u, s2);
    solver_matrix v = b.transpose() * u;
    for (Eigen::Index c = 0; c < v.cols(); ++c) {
      const Real norm = v.col(c).norm();
      if (norm > 0) v.col(c) /= norm;
    }
    result r;
    r.basis = v;
    r.variances = s2 / Real(n - 1);
    double total = 0;
    for (Eigen::Index i = 0; i < xc.rows(); ++i) total += xc.row(i).cast<double>().squaredNorm();
    r.total = total / double(n - 1);
    return r;
  }

  void update_scale() {
    scale_ = options_.whiten ? vector_type(variances_.cwiseSqrt().cwiseInverse()) : vector_type::Ones(variances_.size());
  }

  void require_fitted(const char* what) const {
    if (!fitted()) throw error(std::string("pca: ") + what + " needs a fitted PCA (call fit or load first)");
  }

  pca_options options_;
  vector_type mean_, variances_, scale_;
  matrix_type basis_;
  double total_variance_ = 0;
  pca_solver solver_used_ = pca_solver::automatic;
};

using pca = basic_pca<double>;

template <verifier V>
  requires std::copy_constructible<V>
class with_pca {
 public:
  with_pca() = default;
  // `inner` carries V's settings (e.g. Joint Bayesian options); fit() refits it.
  explicit with_pca(pca_options options, V inner = V{}) : options_(options), inner_(std::move(inner)) {}

  static std::string kind() { return "pca+" + std::string(V::kind()); }

  // PCA on data.features, then V on the projected features, identities and pairs.
  void fit(const training_data& data) {
    pca p(options_);
    p.fit(data.features);
    const matrix<float> projected = p.project(data.features);
    V v = inner_;
    v.fit(training_data{projected, data.identities, data.pairs});
    pca_ = std::move(p);
    inner_ = std::move(v);
  }

  bool fitted() const { return pca_.fitted() && inner_.fitted(); }

  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted("score");
    const auto pa = pca_.project(a), pb = pca_.project(b);
    return inner_.score(std::span<const float>(pa), std::span<const float>(pb));
  }

  // Projects the rows the pairs refer to (each once), then V scores them.
  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted("scores");
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    if (d != pca_.input_dim())
      throw error(kind() + ": features have " + std::to_string(d) + " dimensions, the PCA was fitted on " +
                  std::to_string(pca_.input_dim()));
    check_pairs(pairs, n, "with_pca");
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> slot(n, none), rows;
    std::vector<labelled_pair> local(pairs.size());
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      for (auto [row, out] : {std::pair{pairs[p].first, &local[p].first}, std::pair{pairs[p].second, &local[p].second}}) {
        if (slot[row] == none) slot[row] = rows.size(), rows.push_back(row);
        *out = slot[row];
      }
      local[p].same = pairs[p].same;
    }
    matrix<float> used({rows.size(), d});
    for (std::size_t r = 0; r < rows.size(); ++r) std::copy_n(x.data() + rows[r] * d, d, used.data() + r * d);
    return inner_.scores(pca_.project(used), local);
  }

  double threshold() const { return inner_.threshold(); }
  bool decide(double score) const { return inner_.decide(score); }
  const pca& projection() const { return pca_; }
  const V& inner() const { return inner_; }

  io::record_writer record() const {
    require_fitted("save");
    io::record_writer w("verifier/" + kind(), 1);
    pca_.write(w, "pca.");
    embed_verifier(w, "inner", inner_);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }

  static with_pca load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static with_pca from_record(const io::record_reader& r) {
    with_pca v;
    v.pca_ = pca::read(r, "pca.");
    v.inner_ = load_embedded_verifier<V>(r, "inner");
    // The inner verifier scores the projections, so it must take k values.
    if constexpr (requires { v.inner_.dim(); })
      if (v.inner_.dim() != v.pca_.components())
        throw error(r.path() + ": the embedded '" + V::kind() + "' verifier takes " +
                    std::to_string(v.inner_.dim()) + " dimensions, the PCA gives " +
                    std::to_string(v.pca_.components()));
    v.options_ = v.pca_.options();
    return v;
  }

 private:
  void require_fitted(const char* what) const {
    if (!fitted()) throw error(kind() + ": " + what + " needs a fitted verifier (call fit or load first)");
  }

  pca_options options_;
  pca pca_;
  V inner_;
};

}  // namespace verify
DEEPID_NAMESPACE_END
