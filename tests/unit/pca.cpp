// PCA (exact covariance and Gram solvers, randomised subspace iteration,
// whitening, save/load, errors) and the with_pca<V> verifier wrapper.
#include <doctest/doctest.h>

#include <deepid/core/rng.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace dp = deepid;
namespace vf = deepid::verify;
namespace fs = std::filesystem;
using vf::dmatrix;
using vf::dvector;

namespace {

const deepid_test::scratch_folder scratch{"pca"};
using deepid_test::write_bytes;
using deepid_test::read_bytes;
using deepid_test::error_of;

Eigen::MatrixXd random_orthogonal(int d, std::uint64_t seed) {
  dp::rng gen(seed);
  Eigen::MatrixXd b(d, d);
  for (int i = 0; i < d * d; ++i) b.data()[i] = gen.normal();
  return Eigen::HouseholderQR<Eigen::MatrixXd>(b).householderQ();
}

// N rows with mean `offset` and covariance Q diag(variances) Q'.
dp::matrix<float> gaussian_rows(std::size_t n, const Eigen::MatrixXd& q, const dvector& variances, double offset,
                                std::uint64_t seed) {
  const Eigen::Index d = q.rows();
  dp::rng gen(seed);
  dp::matrix<float> x({n, std::size_t(d)});
  dvector z(d);
  for (std::size_t i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) z[j] = std::sqrt(variances[j]) * gen.normal();
    const dvector row = q * z;
    for (Eigen::Index j = 0; j < d; ++j) x(i, std::size_t(j)) = float(row[j] + offset + 0.1 * double(j));
  }
  return x;
}

// Distance between the subspaces spanned by the columns (orthonormal) of a and b.
double subspace_distance(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a * a.transpose() - b * b.transpose()).norm();
}

// Column-wise |a - b| up to the sign of each column.
double max_column_difference(const dmatrix& a, const dmatrix& b) {
  double worst = 0;
  for (Eigen::Index c = 0; c < a.cols(); ++c)
    worst = std::max(worst, std::min((a.col(c) - b.col(c)).cwiseAbs().maxCoeff(), (a.col(c) + b.col(c)).cwiseAbs().maxCoeff()));
  return worst;
}

dmatrix to_d(const dp::matrix<float>& x) {
  dmatrix m(Eigen::Index(x.shape()[0]), Eigen::Index(x.shape()[1]));
  for (std::size_t i = 0; i < x.size(); ++i) m.data()[i] = x.data()[i];
  return m;
}

// Identities for the with_pca tests: D-dimensional features whose identity
// and noise live in a low-dimensional subspace, plus a little isotropic noise.
struct faces {
  dp::matrix<float> x;
  std::vector<int> ids;
  std::vector<vf::labelled_pair> pairs;
};

faces make_faces(std::size_t identities, std::size_t images, std::size_t d, std::uint64_t seed) {
  const Eigen::MatrixXd q = random_orthogonal(int(d), 99);
  dp::rng gen(seed);
  faces f;
  f.x = dp::matrix<float>({identities * images, d});
  dvector mu = dvector::Zero(Eigen::Index(d)), z = mu;
  for (std::size_t k = 0; k < identities; ++k) {
    mu.setZero();
    for (int j = 0; j < 10; ++j) mu[j] = 3 * gen.normal();
    for (std::size_t m = 0; m < images; ++m) {
      for (Eigen::Index j = 0; j < Eigen::Index(d); ++j) z[j] = mu[j] + (j < 14 ? 1.0 : 0.05) * gen.normal();
      const dvector row = q * z;
      const std::size_t i = k * images + m;
      for (std::size_t j = 0; j < d; ++j) f.x(i, j) = float(row[Eigen::Index(j)] + 1.0);
      f.ids.push_back(int(k));
      if (m > 0) f.pairs.push_back({i - 1, i, true});
    }
  }
  for (std::size_t k = 0; k + 1 < identities; ++k) f.pairs.push_back({k * images, (k + 1) * images + 1, false});
  return f;
}

}  // namespace

TEST_CASE("pca recovers the principal subspace and variances of data with known covariance") {
  const int d = 30;
  const Eigen::MatrixXd q = random_orthogonal(d, 1);
  dvector variances = dvector::Constant(d, 0.1);
  variances.head(5) << 10, 8, 6, 4, 2;
  const auto x = gaussian_rows(20000, q, variances, 5.0, 2);
  vf::pca p(vf::pca_options{.components = 5});
  p.fit(x);
  CHECK(p.solver_used() == vf::pca_solver::covariance);
  CHECK(p.components() == 5);
  CHECK(p.input_dim() == std::size_t(d));
  CHECK(subspace_distance(p.basis(), q.leftCols(5)) < 0.05);
  for (int c = 0; c < 5; ++c) CHECK(p.variances()[c] == doctest::Approx(variances[c]).epsilon(0.05));
  CHECK((Eigen::MatrixXd(p.basis().transpose() * p.basis()) - Eigen::MatrixXd::Identity(5, 5)).norm() < 1e-10);
  CHECK(p.explained_variance_ratio() == doctest::Approx(30.0 / 32.5).epsilon(0.02));
  for (int c = 0; c < 5; ++c) {  // sign convention: largest-magnitude entry positive
    Eigen::Index at = 0;
    p.basis().col(c).cwiseAbs().maxCoeff(&at);
    CHECK(p.basis()(at, c) > 0);
  }
}

TEST_CASE("the training mean projects to zero; whitening gives unit, uncorrelated variances") {
  const int d = 12;
  const Eigen::MatrixXd q = random_orthogonal(d, 3);
  dvector variances(d);
  for (int j = 0; j < d; ++j) variances[j] = 1.0 + j;
  const auto x = gaussian_rows(500, q, variances, -2.0, 4);
  const dp::matrix<float> original = x;

  for (bool whiten : {false, true}) {
    vf::pca p(vf::pca_options{.components = 6, .whiten = whiten});
    p.fit(x);
    std::vector<float> mean(static_cast<std::size_t>(d));
    for (int j = 0; j < d; ++j) mean[std::size_t(j)] = float(p.mean()[j]);
    for (float v : p.project(std::span<const float>(mean))) CHECK(std::abs(v) < 1e-5);

    const dmatrix y = to_d(p.project(x));
    CHECK(y.rows() == 500);
    CHECK(y.cols() == 6);
    const dvector col_mean = y.colwise().mean();
    CHECK(col_mean.cwiseAbs().maxCoeff() < 1e-5);
    const dmatrix centred = y.rowwise() - col_mean.transpose();
    const dmatrix cov = centred.transpose() * centred / double(y.rows() - 1);
    const dmatrix expected = whiten ? dmatrix(dmatrix::Identity(6, 6)) : dmatrix(p.variances().asDiagonal());
    CHECK((cov - expected).cwiseAbs().maxCoeff() < 1e-4 * (whiten ? 1.0 : p.variances()[0]));
  }
  CHECK(std::memcmp(original.data(), x.data(), x.size() * sizeof(float)) == 0);  // input untouched
}

TEST_CASE("the N < D (Gram) path equals the covariance path on the same data, and randomized matches both") {
  const int d = 120;
  const Eigen::MatrixXd q = random_orthogonal(d, 5);
  dvector variances(d);
  for (int j = 0; j < d; ++j) variances[j] = 50.0 * std::pow(0.8, j) + 0.01;
  const auto wide = gaussian_rows(40, q, variances, 1.0, 6);  // N = 40 < D = 120

  vf::pca automatic(vf::pca_options{.components = 8});
  automatic.fit(wide);
  CHECK(automatic.solver_used() == vf::pca_solver::gram);
  vf::pca by_cov(vf::pca_options{.components = 8, .solver = vf::pca_solver::covariance});
  by_cov.fit(wide);
  CHECK(max_column_difference(automatic.basis(), by_cov.basis()) < 1e-8);
  CHECK(max_column_difference(automatic.basis(), by_cov.basis()) ==
        doctest::Approx((automatic.basis() - by_cov.basis()).cwiseAbs().maxCoeff()));  // same signs
  CHECK((automatic.variances() - by_cov.variances()).cwiseAbs().maxCoeff() < 1e-8 * by_cov.variances()[0]);
  CHECK(automatic.total_variance() == doctest::Approx(by_cov.total_variance()).epsilon(1e-10));

  // A tall matrix: the covariance path by default, the Gram path on request.
  const auto tall = gaussian_rows(300, q, variances, 1.0, 7);
  vf::pca tall_cov(vf::pca_options{.components = 8}), tall_gram(vf::pca_options{.components = 8, .solver = vf::pca_solver::gram});
  tall_cov.fit(tall);
  tall_gram.fit(tall);
  CHECK(tall_cov.solver_used() == vf::pca_solver::covariance);
  CHECK(max_column_difference(tall_cov.basis(), tall_gram.basis()) < 1e-8);

  // Randomized subspace iteration (single-precision products) on the same data.
  vf::pca randomized(vf::pca_options{.components = 8, .solver = vf::pca_solver::randomized});
  randomized.fit(tall);
  CHECK(randomized.solver_used() == vf::pca_solver::randomized);
  CHECK(max_column_difference(tall_cov.basis(), randomized.basis()) < 1e-3);
  CHECK(((tall_cov.variances() - randomized.variances()).array() / tall_cov.variances().array()).abs().maxCoeff() < 1e-4);
  // automatic switches to it above exact_limit.
  vf::pca limited(vf::pca_options{.components = 8, .exact_limit = 100, .oversampling = 10});
  limited.fit(tall);
  CHECK(limited.solver_used() == vf::pca_solver::randomized);
  CHECK(max_column_difference(tall_cov.basis(), limited.basis()) < 1e-3);
}

TEST_CASE("basic_pca<float> agrees with the double pca on every solver, and its file loads as double") {
  const int d = 120;
  const Eigen::MatrixXd q = random_orthogonal(d, 9);
  dvector variances(d);
  for (int j = 0; j < d; ++j) variances[j] = 50.0 * std::pow(0.8, j) + 0.01;
  const auto tall = gaussian_rows(300, q, variances, 1.0, 10);
  const auto wide = gaussian_rows(40, q, variances, 1.0, 11);
  for (const auto solver : {vf::pca_solver::covariance, vf::pca_solver::gram, vf::pca_solver::randomized}) {
    CAPTURE(vf::to_string(solver));
    for (const auto* x : {&tall, &wide}) {
      const vf::pca_options options{.components = 8, .solver = solver};
      vf::pca exact(options);
      vf::basic_pca<float> single(options);
      exact.fit(*x);
      single.fit(*x);
      CHECK(single.solver_used() == solver);
      const dmatrix basis = single.basis().cast<double>();
      CHECK(max_column_difference(exact.basis(), basis) < 1e-3);
      CHECK(max_column_difference(exact.basis(), basis) ==
            doctest::Approx((exact.basis() - basis).cwiseAbs().maxCoeff()));  // same sign convention
      const dvector v = single.variances().cast<double>();
      CHECK(((exact.variances() - v).array() / exact.variances().array()).abs().maxCoeff() < 1e-3);
      const dmatrix a = to_d(exact.project(*x)), b = to_d(single.project(*x));
      CHECK((a - b).cwiseAbs().maxCoeff() < 1e-3 * a.cwiseAbs().maxCoeff());
    }
  }
  const fs::path file = scratch("float") / "single.pca";
  vf::basic_pca<float> single(vf::pca_options{.components = 8, .whiten = true});
  single.fit(tall);
  single.save(file);
  const vf::pca loaded = vf::pca::load(file);
  CHECK(loaded.basis() == dmatrix(single.basis().cast<double>()));
  CHECK(loaded.mean() == dvector(single.mean().cast<double>()));
  const dmatrix from_float = to_d(single.project(tall)), from_double = to_d(loaded.project(tall));
  CHECK((from_float - from_double).cwiseAbs().maxCoeff() < 1e-4 * from_double.cwiseAbs().maxCoeff());
}

TEST_CASE("pca save/load round trip and damaged files") {
  const fs::path dir = scratch("files");
  const int d = 16;
  const Eigen::MatrixXd q = random_orthogonal(d, 8);
  dvector variances(d);
  for (int j = 0; j < d; ++j) variances[j] = 20.0 / (1 + j);
  const auto x = gaussian_rows(200, q, variances, 3.0, 9);
  vf::pca p(vf::pca_options{.components = 4, .whiten = true});
  p.fit(x);
  p.save(dir / "pca.rec");
  const auto back = vf::pca::load(dir / "pca.rec");
  CHECK(back.whitened());
  CHECK(back.components() == 4);
  CHECK(back.solver_used() == p.solver_used());
  const auto y1 = p.project(x), y2 = back.project(x);
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);

  const std::string bytes = read_bytes(dir / "pca.rec");
  write_bytes(dir / "cut.rec", bytes.substr(0, bytes.size() - 20));
  CHECK_FALSE(error_of([&] { (void)vf::pca::load(dir / "cut.rec"); }).empty());
  std::string flipped = bytes;
  flipped[bytes.size() - 30] = char(flipped[bytes.size() - 30] ^ 1);
  write_bytes(dir / "flipped.rec", flipped);
  CHECK(error_of([&] { (void)vf::pca::load(dir / "flipped.rec"); }).find("checksum") != std::string::npos);
  vf::cosine_verifier cosine;
  cosine.save(dir / "cosine.rec");
  CHECK(error_of([&] { (void)vf::pca::load(dir / "cosine.rec"); }).find("not a 'pca'") != std::string::npos);
  CHECK(error_of([&] { vf::pca().save(dir / "unfitted.rec"); }).find("fitted") != std::string::npos);
}

TEST_CASE("pca errors: too many components, rank, non-finite input, dimensions, unfitted") {
  const int d = 10;
  const Eigen::MatrixXd q = random_orthogonal(d, 10);
  const auto x = gaussian_rows(50, q, dvector::Ones(d), 0.0, 11);
  CHECK(error_of([&] { vf::pca(vf::pca_options{.components = 11}).fit(x); }).find("10-dimensional") != std::string::npos);
  CHECK(error_of([&] { vf::pca(vf::pca_options{.components = 0}).fit(x); }).find("at least 1") != std::string::npos);
  const auto few = gaussian_rows(5, q, dvector::Ones(d), 0.0, 12);
  CHECK(error_of([&] { vf::pca(vf::pca_options{.components = 5}).fit(few); }).find("rank at most 4") != std::string::npos);
  // Rank 3 data in 10 dimensions.
  dvector low = dvector::Zero(d);
  low.head(3).setOnes();
  const auto flat = gaussian_rows(50, q, low, 0.0, 13);
  for (auto solver : {vf::pca_solver::covariance, vf::pca_solver::gram, vf::pca_solver::randomized})
    CHECK(error_of([&] { vf::pca(vf::pca_options{.components = 4, .solver = solver}).fit(flat); }).find("span only 3") !=
          std::string::npos);
  vf::pca ok(vf::pca_options{.components = 3});
  ok.fit(flat);
  CHECK(ok.components() == 3);

  auto bad = x;
  bad(4, 7) = std::numeric_limits<float>::quiet_NaN();
  CHECK(error_of([&] { vf::pca(vf::pca_options{.components = 2}).fit(bad); }).find("row 4") != std::string::npos);
  vf::pca p(vf::pca_options{.components = 2});
  CHECK(error_of([&] { (void)p.project(x); }).find("fitted") != std::string::npos);
  p.fit(x);
  CHECK(error_of([&] { (void)p.project(bad); }).find("row 4") != std::string::npos);
  const dp::matrix<float> narrow({std::size_t(2), std::size_t(9)});
  CHECK(error_of([&] { (void)p.project(narrow); }).find("9 dimensions") != std::string::npos);
  const dp::matrix<float> none({std::size_t(0), std::size_t(10)});
  CHECK(p.project(none).shape()[0] == 0);
}

static_assert(vf::verifier<vf::with_pca<vf::cosine_verifier>>);
static_assert(vf::verifier<vf::with_pca<vf::joint_bayesian>>);

TEST_CASE("with_pca: PCA on training features, V on the projections, threshold from training pairs") {
  const auto train = make_faces(60, 4, 64, 20), test = make_faces(60, 3, 64, 21);
  vf::with_pca<vf::joint_bayesian> v(vf::pca_options{.components = 14});
  CHECK(vf::with_pca<vf::joint_bayesian>::kind() == "pca+joint_bayesian");
  v.fit({train.x, train.ids, train.pairs});
  CHECK(v.fitted());
  CHECK(v.projection().components() == 14);

  // Same as fitting the parts by hand.
  vf::pca p(vf::pca_options{.components = 14});
  p.fit(train.x);
  vf::joint_bayesian jb;
  jb.fit({p.project(train.x), train.ids, train.pairs});
  CHECK(v.threshold() == doctest::Approx(jb.threshold()).epsilon(1e-9));
  const auto by_hand = jb.scores(p.project(test.x), test.pairs);
  const auto wrapped = v.scores(test.x, test.pairs);
  REQUIRE(wrapped.size() == by_hand.size());
  for (std::size_t i = 0; i < wrapped.size(); ++i) CHECK(wrapped[i] == doctest::Approx(by_hand[i]).epsilon(1e-6));
  const std::size_t d = test.x.shape()[1];
  const auto& pr = test.pairs[3];
  CHECK(v.score(std::span<const float>(test.x.data() + pr.first * d, d), std::span<const float>(test.x.data() + pr.second * d, d)) ==
        doctest::Approx(wrapped[3]).epsilon(1e-6));
  std::size_t correct = 0;
  for (std::size_t i = 0; i < wrapped.size(); ++i) correct += v.decide(wrapped[i]) == test.pairs[i].same;
  CHECK(double(correct) / double(wrapped.size()) > 0.9);

  // Unfitted / mismatched.
  vf::with_pca<vf::cosine_verifier> unfitted(vf::pca_options{.components = 5});
  CHECK(error_of([&] { (void)unfitted.scores(test.x, test.pairs); }).find("fitted") != std::string::npos);
  const dp::matrix<float> narrow({std::size_t(2), std::size_t(9)});
  CHECK(error_of([&] { (void)v.scores(narrow, {}); }).find("9 dimensions") != std::string::npos);
}

TEST_CASE("with_pca save/load: one file, bitwise equal scores, damaged or wrong files refused") {
  const fs::path dir = scratch("with_pca");
  const auto train = make_faces(50, 4, 48, 30), test = make_faces(20, 3, 48, 31);
  vf::with_pca<vf::joint_bayesian> v(vf::pca_options{.components = 12, .whiten = true},
                                     vf::joint_bayesian(vf::joint_bayesian_options{.exact_em = true}));
  v.fit({train.x, train.ids, train.pairs});
  CHECK(v.inner().options().exact_em);  // V's settings survive fit
  v.save(dir / "model.rec");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no leftovers
  const auto back = vf::with_pca<vf::joint_bayesian>::load(dir / "model.rec");
  CHECK(back.fitted());
  CHECK(back.threshold() == v.threshold());
  CHECK(back.projection().whitened());
  CHECK(back.inner().options().exact_em);
  const auto s1 = v.scores(test.x, test.pairs), s2 = back.scores(test.x, test.pairs);
  CHECK(std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(double)) == 0);

  vf::with_pca<vf::cosine_verifier> cosine_model(vf::pca_options{.components = 12});
  cosine_model.fit({train.x, train.ids, train.pairs});
  cosine_model.save(dir / "cosine.rec");
  const auto cos_back = vf::with_pca<vf::cosine_verifier>::load(dir / "cosine.rec");
  const auto c1 = cosine_model.scores(test.x, test.pairs), c2 = cos_back.scores(test.x, test.pairs);
  CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(double)) == 0);
  CHECK(error_of([&] { (void)vf::with_pca<vf::joint_bayesian>::load(dir / "cosine.rec"); })
            .find("not a 'verifier/pca+joint_bayesian'") != std::string::npos);

  // An embedded file of the wrong kind is refused with the outer file's name.
  {
    dp::io::record_writer w("verifier/pca+joint_bayesian", 1);
    v.projection().write(w, "pca.");
    vf::cosine_verifier plain;
    plain.save(dir / "plain.rec");
    w.add_text("inner", read_bytes(dir / "plain.rec"));
    w.save(dir / "mixed.rec");
  }
  const auto mixed = error_of([&] { (void)vf::with_pca<vf::joint_bayesian>::load(dir / "mixed.rec"); });
  CHECK(mixed.find("mixed.rec") != std::string::npos);
  CHECK(mixed.find("embedded") != std::string::npos);

  // The file is what record() builds in memory, and its "inner" section is
  // the inner verifier's own file, byte for byte.
  CHECK(v.record().bytes() == read_bytes(dir / "model.rec"));
  v.inner().save(dir / "inner.rec");
  const dp::io::record_reader outer(dir / "model.rec", "verifier/pca+joint_bayesian", 1);
  CHECK(outer.text("inner") == read_bytes(dir / "inner.rec"));

  // A damaged embedded record under a right outer checksum: the inner
  // checksum catches it, and the error names the outer file and the section.
  {
    std::string inner = read_bytes(dir / "inner.rec");
    inner[inner.size() / 2] = char(inner[inner.size() / 2] ^ 0x40);
    dp::io::record_writer w("verifier/pca+joint_bayesian", 1);
    v.projection().write(w, "pca.");
    w.add_text("inner", inner);
    w.save(dir / "damaged-inner.rec");
  }
  const auto damaged = error_of([&] { (void)vf::with_pca<vf::joint_bayesian>::load(dir / "damaged-inner.rec"); });
  CHECK(damaged.find("damaged-inner.rec") != std::string::npos);
  CHECK(damaged.find("section 'inner'") != std::string::npos);
  CHECK(damaged.find("checksum") != std::string::npos);

  const std::string bytes = read_bytes(dir / "model.rec");
  write_bytes(dir / "cut.rec", bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] { (void)vf::with_pca<vf::joint_bayesian>::load(dir / "cut.rec"); }).find("truncated") !=
        std::string::npos);
}
