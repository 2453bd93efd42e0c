// Joint Bayesian: hand-derived closed forms, recovery of known
// covariances (exact EM versus the published update), JB versus cosine,
// batched scores, save/load and bad input.
#include <doctest/doctest.h>

#include <deepid/core/rng.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/threshold.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pair_accuracy.hpp"
#include "test_files.hpp"

namespace dp = deepid;
namespace vf = deepid::verify;
namespace fs = std::filesystem;
using vf::dmatrix;
using vf::dvector;

namespace {

const deepid_test::scratch_folder scratch{"joint_bayesian"};
using deepid_test::write_bytes;
using deepid_test::read_bytes;
using deepid_test::error_of;

dmatrix mat(std::initializer_list<std::initializer_list<double>> rows) {
  dmatrix m(Eigen::Index(rows.size()), Eigen::Index(rows.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& r : rows) {
    Eigen::Index j = 0;
    for (double v : r) m(i, j++) = v;
    ++i;
  }
  return m;
}

std::vector<float> vec(std::initializer_list<float> v) { return v; }

double rel_error(const dmatrix& estimate, const dmatrix& truth) { return (estimate - truth).norm() / truth.norm(); }

// A random symmetric positive definite matrix, eigenvalues spread over [lo, hi].
dmatrix random_spd(int d, std::uint64_t seed, double lo, double hi) {
  dp::rng gen(seed);
  dmatrix b(d, d);
  for (int i = 0; i < d * d; ++i) b.data()[i] = gen.normal();
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr{Eigen::MatrixXd(b)};
  const Eigen::MatrixXd q = qr.householderQ();
  dvector ev(d);
  for (int i = 0; i < d; ++i) ev[i] = lo + (hi - lo) * double(i) / double(std::max(1, d - 1));
  return q * ev.asDiagonal() * q.transpose();
}

// Synthetic identities: x = offset + L_mu z + L_eps z', `images(k)` images for identity k.
struct synthetic {
  dp::matrix<float> x;
  std::vector<int> ids;
};

synthetic make_faces(const dmatrix& s_mu, const dmatrix& s_eps, int identities,
                     const std::function<int(int, dp::rng&)>& images, std::uint64_t seed, double offset = 0,
                     int first_id = 0) {
  const Eigen::Index d = s_mu.rows();
  const Eigen::MatrixXd l_mu = Eigen::LLT<Eigen::MatrixXd>(Eigen::MatrixXd(s_mu)).matrixL();
  const Eigen::MatrixXd l_eps = Eigen::LLT<Eigen::MatrixXd>(Eigen::MatrixXd(s_eps)).matrixL();
  dp::rng gen(seed);
  std::vector<double> values;
  synthetic out;
  dvector z(d);
  for (int k = 0; k < identities; ++k) {
    for (Eigen::Index i = 0; i < d; ++i) z[i] = gen.normal();
    const dvector mu = l_mu * z;
    const int m = images(k, gen);
    for (int j = 0; j < m; ++j) {
      for (Eigen::Index i = 0; i < d; ++i) z[i] = gen.normal();
      const dvector x = mu + l_eps * z;
      for (Eigen::Index i = 0; i < d; ++i) values.push_back(x[i] + offset);
      out.ids.push_back(first_id + k);
    }
  }
  out.x = dp::matrix<float>({out.ids.size(), std::size_t(d)});
  for (std::size_t i = 0; i < values.size(); ++i) out.x.data()[i] = float(values[i]);
  return out;
}

// Same pairs (consecutive images of an identity) and as many different pairs.
std::vector<vf::labelled_pair> make_pairs(const std::vector<int>& ids, std::size_t count, std::uint64_t seed) {
  std::vector<vf::labelled_pair> pairs;
  for (std::size_t i = 1; i < ids.size() && pairs.size() < count; ++i)
    if (ids[i] == ids[i - 1]) pairs.push_back({i - 1, i, true});
  dp::rng gen(seed);
  const std::size_t same = pairs.size();
  while (pairs.size() < 2 * same) {
    const auto a = std::size_t(gen.uniform() * double(ids.size())), b = std::size_t(gen.uniform() * double(ids.size()));
    if (ids[a] != ids[b]) pairs.push_back({a, b, false});
  }
  return pairs;
}

using deepid_test::accuracy;

const auto three_images = [](int, dp::rng&) { return 3; };

}  // namespace

static_assert(vf::verifier<vf::joint_bayesian>);

TEST_CASE("scalar closed form: A, G, r and the exact log-likelihood ratio") {
  const auto jb = vf::joint_bayesian::from_covariances(mat({{2}}), mat({{1}}));
  CHECK(jb.a()(0, 0) == doctest::Approx(-0.266667).epsilon(1e-5));
  CHECK(jb.g()(0, 0) == doctest::Approx(-0.4).epsilon(1e-12));
  // 1-D formulas: A = -a²/((a+b) b (2a+b)), G = -a/(b(2a+b)).
  CHECK(jb.a()(0, 0) == doctest::Approx(-4.0 / 15.0).epsilon(1e-12));
  CHECK(jb.llr_constant() == doctest::Approx(0.293893).epsilon(1e-5));
  struct row {
    float x1, x2;
    double r, llr;
  };
  for (const row& t : {row{1, 1, 0.266667, 0.427227}, row{1, -1, -1.333333, -0.372773}, row{0.5, 2, -0.333333, 0.127227}}) {
    const float a[] = {t.x1}, b[] = {t.x2};
    CHECK(jb.score(a, b) == doctest::Approx(t.r).epsilon(1e-5));
    CHECK(jb.log_likelihood_ratio(a, b) == doctest::Approx(t.llr).epsilon(1e-5));
  }
}

TEST_CASE("2-D closed form: A, G, r and the E-step matrix for m = 3") {
  const dmatrix s_mu = mat({{2, 0.5}, {0.5, 1}}), s_eps = mat({{1, 0.2}, {0.2, 0.5}});
  const auto jb = vf::joint_bayesian::from_covariances(s_mu, s_eps);
  const dmatrix a = mat({{-0.282433, 0.097077}, {0.097077, -0.564867}});
  const dmatrix g = mat({{-0.430458, 0.163142}, {0.163142, -0.860917}});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      CHECK(jb.a()(i, j) == doctest::Approx(a(i, j)).epsilon(1e-5));
      CHECK(jb.g()(i, j) == doctest::Approx(g(i, j)).epsilon(1e-5));
    }
  // The textbook form A = (S_mu+S_eps)^-1 - (F + G), F = S_eps^-1, agrees with the solve-based one.
  const Eigen::MatrixXd textbook = Eigen::MatrixXd(s_mu + s_eps).inverse() - Eigen::MatrixXd(s_eps).inverse() - jb.g();
  CHECK((textbook - jb.a()).norm() < 1e-12);
  // Negative definite, symmetric.
  CHECK(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(Eigen::MatrixXd(jb.a())).eigenvalues().maxCoeff() < 0);
  CHECK(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(Eigen::MatrixXd(jb.g())).eigenvalues().maxCoeff() < 0);
  CHECK(jb.a()(0, 1) == jb.a()(1, 0));

  const auto x1 = vec({1, -0.5}), x2 = vec({0.8f, -0.2f});
  CHECK(jb.score(x1, x2) == doctest::Approx(0.301543).epsilon(1e-5));

  const dmatrix t3 = vf::jb::e_step_matrix(s_mu, s_eps, 3);
  const dmatrix expected = mat({{0.284590, 0.004627}, {0.002314, 0.284590}});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) CHECK(t3(i, j) == doctest::Approx(expected(i, j)).epsilon(1e-4));
  CHECK(std::abs(t3(0, 1) - t3(1, 0)) > 1e-3);  // not symmetrised
}

TEST_CASE("log_likelihood_ratio equals the log ratio of the two Gaussian densities") {
  const dmatrix s_mu = random_spd(4, 1, 0.5, 3), s_eps = random_spd(4, 2, 0.2, 1);
  dvector mean(4);
  mean << 1, -2, 0.5, 3;
  const auto jb = vf::joint_bayesian::from_covariances(s_mu, s_eps, mean);
  Eigen::MatrixXd same(8, 8), diff = Eigen::MatrixXd::Zero(8, 8);
  same << s_mu + s_eps, s_mu, s_mu, s_mu + s_eps;
  diff.topLeftCorner(4, 4) = s_mu + s_eps;
  diff.bottomRightCorner(4, 4) = s_mu + s_eps;
  auto log_density = [](const Eigen::MatrixXd& cov, const Eigen::VectorXd& z) {
    const Eigen::LLT<Eigen::MatrixXd> f(cov);
    const double log_det = 2 * f.matrixL().toDenseMatrix().diagonal().array().log().sum();
    return -0.5 * z.dot(f.solve(z)) - 0.5 * log_det;  // 2π terms cancel in the ratio
  };
  dp::rng gen(7);
  for (int t = 0; t < 5; ++t) {
    std::vector<float> a(4), b(4);
    Eigen::VectorXd z(8);
    for (int i = 0; i < 4; ++i) {
      a[std::size_t(i)] = float(mean[i] + 2 * gen.normal());
      b[std::size_t(i)] = float(mean[i] + 2 * gen.normal());
      z[i] = double(a[std::size_t(i)]) - mean[i];
      z[i + 4] = double(b[std::size_t(i)]) - mean[i];
    }
    const double expected = log_density(same, z) - log_density(diff, z);
    CHECK(jb.log_likelihood_ratio(a, b) == doctest::Approx(expected).epsilon(1e-10));
    CHECK(jb.log_likelihood_ratio(a, b) == doctest::Approx(0.5 * jb.score(a, b) + jb.llr_constant()).epsilon(1e-12));
  }
}

TEST_CASE("exact EM recovers known S_mu and S_eps within 5%; the published update is less accurate") {
  const int d = 6;
  const dmatrix s_mu = random_spd(d, 11, 0.5, 4), s_eps = random_spd(d, 12, 0.3, 2);
  // 1 to 11 images per identity.
  const auto data = make_faces(s_mu, s_eps, 5000, [](int, dp::rng& g) { return 1 + int(g.uniform() * 11); }, 13, 3.0);

  vf::joint_bayesian exact(vf::joint_bayesian_options{.exact_em = true});
  exact.fit({data.x, data.ids});
  vf::joint_bayesian published;
  published.fit({data.x, data.ids});
  const double exact_mu = rel_error(exact.s_mu(), s_mu), exact_eps = rel_error(exact.s_eps(), s_eps);
  const double pub_mu = rel_error(published.s_mu(), s_mu), pub_eps = rel_error(published.s_eps(), s_eps);
  MESSAGE("relative errors: exact EM S_mu " << exact_mu << ", S_eps " << exact_eps << " (" << exact.iterations()
                                           << " iterations); published S_mu " << pub_mu << ", S_eps " << pub_eps << " ("
                                           << published.iterations() << " iterations)");
  CHECK(exact.converged());
  CHECK(published.converged());
  CHECK(exact_mu < 0.05);
  CHECK(exact_eps < 0.05);
  CHECK(pub_eps > 2 * exact_eps);  // the published M-step under-estimates S_eps
  CHECK(pub_mu + pub_eps > exact_mu + exact_eps);
  // The training mean is subtracted (the data were offset by 3).
  CHECK(std::abs(exact.mean()[0] - 3.0) < 0.1);
}

TEST_CASE("JB beats cosine when intra-personal noise is structured") {
  const int d = 20;
  // Identity: isotropic; intra-personal: three strong directions (pose, light, ...) plus a little noise.
  const dmatrix s_mu = dmatrix::Identity(d, d);
  dmatrix basis = random_spd(d, 21, 1, 2);
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(Eigen::MatrixXd(basis)).householderQ();
  dvector noise = dvector::Constant(d, 0.05);
  noise.head(3).setConstant(8.0);
  const dmatrix s_eps = q * noise.asDiagonal() * q.transpose();
  const auto train = make_faces(s_mu, s_eps, 300, [](int, dp::rng&) { return 6; }, 22);
  const auto test = make_faces(s_mu, s_eps, 200, [](int, dp::rng&) { return 4; }, 23, 0.0, 1000);
  const auto train_pairs = make_pairs(train.ids, 600, 24), test_pairs = make_pairs(test.ids, 400, 25);

  vf::joint_bayesian jb;
  jb.fit({train.x, train.ids, train_pairs});
  vf::cosine_verifier cosine;
  cosine.fit({train.x, train.ids, train_pairs});
  CHECK(jb.has_threshold());
  const double jb_acc = accuracy(jb.scores(test.x, test_pairs), test_pairs, jb.threshold());
  const double cos_acc = accuracy(cosine.scores(test.x, test_pairs), test_pairs, cosine.threshold());
  MESSAGE("held-out accuracy: Joint Bayesian " << jb_acc << ", cosine " << cos_acc);
  CHECK(jb_acc > 0.95);
  CHECK(jb_acc > cos_acc + 0.1);
}

TEST_CASE("batched scores equal score(), and the threshold comes from the training pairs") {
  const dmatrix s_mu = random_spd(8, 31, 0.5, 2), s_eps = random_spd(8, 32, 0.2, 1);
  const auto data = make_faces(s_mu, s_eps, 60, three_images, 33, -1.5);
  const auto pairs = make_pairs(data.ids, 100, 34);
  vf::joint_bayesian jb;
  jb.fit({data.x, data.ids, pairs});
  const auto batch = jb.scores(data.x, pairs);
  REQUIRE(batch.size() == pairs.size());
  const std::size_t d = data.x.shape()[1];
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const std::span<const float> a(data.x.data() + pairs[p].first * d, d), b(data.x.data() + pairs[p].second * d, d);
    CHECK(batch[p] == doctest::Approx(jb.score(a, b)).epsilon(1e-12));
    CHECK(jb.score(a, b) == doctest::Approx(jb.score(b, a)).epsilon(1e-12));  // symmetric
  }
  std::unique_ptr<bool[]> same(new bool[pairs.size()]);
  for (std::size_t i = 0; i < pairs.size(); ++i) same[i] = pairs[i].same;
  CHECK(jb.threshold() == vf::best_threshold(batch, std::span<const bool>(same.get(), pairs.size())).threshold);
  // A row used by many pairs, and pairs of a row with itself.
  const std::vector<vf::labelled_pair> star = {{0, 0, true}, {0, 5, false}, {5, 0, false}, {0, 7, false}};
  const auto s = jb.scores(data.x, star);
  CHECK(s[1] == doctest::Approx(s[2]).epsilon(1e-12));
  CHECK(jb.scores(data.x, {}).empty());
  // A model without training pairs has no threshold.
  vf::joint_bayesian bare;
  bare.fit({data.x, data.ids});
  CHECK_FALSE(bare.has_threshold());
  CHECK(error_of([&] { (void)bare.decide(0.0); }).find("threshold") != std::string::npos);
}

TEST_CASE("save/load round trip gives bitwise equal scores; damaged files are refused") {
  const fs::path dir = scratch("files");
  const dmatrix s_mu = random_spd(5, 41, 0.5, 2), s_eps = random_spd(5, 42, 0.2, 1);
  const auto data = make_faces(s_mu, s_eps, 80, three_images, 43, 2.0);
  const auto pairs = make_pairs(data.ids, 80, 44);
  vf::joint_bayesian jb(vf::joint_bayesian_options{.exact_em = true, .ridge = 1e-5});
  jb.fit({data.x, data.ids, pairs});
  const fs::path file = dir / "jb.rec";
  jb.save(file);
  const auto back = vf::joint_bayesian::load(file);
  CHECK(back.fitted());
  CHECK(back.options().exact_em);
  CHECK(back.options().ridge == 1e-5);
  CHECK(back.threshold() == jb.threshold());
  CHECK(back.iterations() == jb.iterations());
  CHECK(back.llr_constant() == jb.llr_constant());
  const auto s1 = jb.scores(data.x, pairs), s2 = back.scores(data.x, pairs);
  bool bitwise = true;
  for (std::size_t i = 0; i < s1.size(); ++i) bitwise = bitwise && std::memcmp(&s1[i], &s2[i], sizeof(double)) == 0;
  CHECK(bitwise);

  const std::string bytes = read_bytes(file);
  for (std::size_t cut : {std::size_t(4), std::size_t(30), bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
    write_bytes(dir / "cut.rec", bytes.substr(0, cut));
    CHECK_FALSE(error_of([&] { (void)vf::joint_bayesian::load(dir / "cut.rec"); }).empty());
  }
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = char(flipped[bytes.size() / 2] ^ 0x40);
  write_bytes(dir / "flipped.rec", flipped);
  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "flipped.rec"); }).find("checksum") != std::string::npos);

  vf::cosine_verifier cosine;
  cosine.fit({data.x, data.ids, pairs});
  cosine.save(dir / "cosine.rec");
  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "cosine.rec"); }).find("not a 'verifier/joint_bayesian'") !=
        std::string::npos);

  dp::io::record_writer newer("verifier/joint_bayesian", 2);
  newer.add_scalar("dim", 5);
  newer.save(dir / "newer.rec");
  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "newer.rec"); }).find("newer") != std::string::npos);

  dp::io::record_writer bad_dim("verifier/joint_bayesian", 1);
  bad_dim.add_scalar("dim", -3);
  bad_dim.save(dir / "bad_dim.rec");
  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "bad_dim.rec"); }).find("corrupt") != std::string::npos);

  dp::io::record_writer missing("verifier/joint_bayesian", 1);
  missing.add_scalar("dim", 5);
  missing.save(dir / "missing.rec");
  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "missing.rec"); }).find("missing") != std::string::npos);

  CHECK(error_of([&] { (void)vf::joint_bayesian::load(dir / "absent.rec"); }).find("cannot open") != std::string::npos);
  CHECK(error_of([&] { vf::joint_bayesian().save(dir / "unfitted.rec"); }).find("fitted") != std::string::npos);
}

TEST_CASE("bad training data: a clear error or a finite, regularised model") {
  const dmatrix s_mu = random_spd(4, 51, 0.5, 2), s_eps = random_spd(4, 52, 0.2, 1);
  auto finite_scores = [](const vf::joint_bayesian& jb, const dp::matrix<float>& x, const std::vector<int>& ids) {
    const auto pairs = make_pairs(ids, 50, 5);
    bool ok = true;
    for (double s : jb.scores(x, pairs)) ok = ok && std::isfinite(s);
    return ok;
  };

  SUBCASE("every identity has one image") {
    const auto data = make_faces(s_mu, s_eps, 30, [](int, dp::rng&) { return 1; }, 53);
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids}); }).find("single image") != std::string::npos);
  }
  SUBCASE("some identities have one image") {
    const auto data = make_faces(s_mu, s_eps, 200, [](int k, dp::rng&) { return k % 2 ? 1 : 4; }, 54);
    vf::joint_bayesian jb;
    jb.fit({data.x, data.ids});
    CHECK(finite_scores(jb, data.x, data.ids));
  }
  SUBCASE("one identity") {
    const auto data = make_faces(s_mu, s_eps, 1, [](int, dp::rng&) { return 10; }, 55);
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids}); }).find("at least two") != std::string::npos);
  }
  SUBCASE("duplicated images") {
    auto data = make_faces(s_mu, s_eps, 40, three_images, 56);
    const std::size_t d = data.x.shape()[1];
    // Identities 0-9: three copies of one image; the rest vary.
    for (std::size_t i = 0; i < 30; ++i) std::copy_n(data.x.data() + (i / 3 * 3) * d, d, data.x.data() + i * d);
    vf::joint_bayesian jb;
    jb.fit({data.x, data.ids});
    CHECK(finite_scores(jb, data.x, data.ids));
    // Every identity's images identical: no intra-personal variation at all.
    for (std::size_t i = 0; i < data.x.shape()[0]; ++i)
      std::copy_n(data.x.data() + (i / 3 * 3) * d, d, data.x.data() + i * d);
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids}); }).find("duplicated") != std::string::npos);
  }
  SUBCASE("fewer images than dimensions (rank-deficient covariances)") {
    const dmatrix big_mu = random_spd(50, 57, 0.5, 2), big_eps = random_spd(50, 58, 0.2, 1);
    const auto data = make_faces(big_mu, big_eps, 8, three_images, 59);  // 24 images, 50 dimensions
    const auto pairs = make_pairs(data.ids, 20, 6);
    for (bool exact : {false, true}) {
      vf::joint_bayesian jb(vf::joint_bayesian_options{.exact_em = exact});
      jb.fit({data.x, data.ids, pairs});
      CHECK(jb.a().allFinite());
      CHECK(jb.g().allFinite());
      CHECK(finite_scores(jb, data.x, data.ids));
      CHECK(std::isfinite(jb.threshold()));
    }
    // Without a ridge the singular S_eps is reported, not inverted.
    CHECK(error_of([&] { vf::joint_bayesian(vf::joint_bayesian_options{.ridge = 0}).fit({data.x, data.ids}); })
              .find("positive definite") != std::string::npos);
  }
  SUBCASE("non-finite features") {
    auto data = make_faces(s_mu, s_eps, 10, three_images, 60);
    data.x(7, 2) = std::numeric_limits<float>::quiet_NaN();
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids}); }).find("row 7") != std::string::npos);
    data.x(7, 2) = std::numeric_limits<float>::infinity();
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids}); }).find("not finite") != std::string::npos);
  }
  SUBCASE("mismatched sizes and missing labels") {
    const auto data = make_faces(s_mu, s_eps, 10, three_images, 61);
    const std::vector<int> short_ids(data.ids.begin(), data.ids.end() - 1);
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, short_ids}); }).find("identity labels") != std::string::npos);
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x}); }).find("identity labels") != std::string::npos);
    const std::vector<vf::labelled_pair> outside = {{0, 30, true}};
    CHECK(error_of([&] { vf::joint_bayesian().fit({data.x, data.ids, outside}); }).find("row 30") != std::string::npos);
    const dp::matrix<float> empty({std::size_t(0), std::size_t(4)});
    CHECK(error_of([&] { vf::joint_bayesian().fit({empty, {}}); }).find("no training features") != std::string::npos);
  }
}

TEST_CASE("bad scoring input: unfitted, mismatched dimensions, non-finite, out of range") {
  const dmatrix s_mu = random_spd(4, 71, 0.5, 2), s_eps = random_spd(4, 72, 0.2, 1);
  auto data = make_faces(s_mu, s_eps, 20, three_images, 73);
  const auto pairs = make_pairs(data.ids, 10, 7);
  vf::joint_bayesian unfitted;
  CHECK_FALSE(unfitted.fitted());
  const auto a = vec({1, 2, 3, 4});
  CHECK(error_of([&] { (void)unfitted.score(a, a); }).find("fitted") != std::string::npos);
  CHECK(error_of([&] { (void)unfitted.scores(data.x, pairs); }).find("fitted") != std::string::npos);

  vf::joint_bayesian jb;
  jb.fit({data.x, data.ids, pairs});
  const auto three = vec({1, 2, 3});
  CHECK(error_of([&] { (void)jb.score(a, three); }).find("3 dimensions") != std::string::npos);
  const dp::matrix<float> wide({std::size_t(3), std::size_t(5)});
  CHECK(error_of([&] { (void)jb.scores(wide, {}); }).find("5 dimensions") != std::string::npos);
  const std::vector<vf::labelled_pair> outside = {{0, 60, true}};
  CHECK(error_of([&] { (void)jb.scores(data.x, outside); }).find("row 60") != std::string::npos);
  auto nan = a;
  nan[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK(error_of([&] { (void)jb.score(a, nan); }).find("not finite") != std::string::npos);
  data.x(pairs[0].first, 0) = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { (void)jb.scores(data.x, pairs); }).find("not finite") != std::string::npos);
  // Rows no pair refers to are not read.
  auto spare = data.x;
  spare(spare.shape()[0] - 1, 0) = std::numeric_limits<float>::quiet_NaN();
  const std::vector<vf::labelled_pair> first_rows = {{1, 2, true}};
  CHECK(std::isfinite(jb.scores(spare, first_rows)[0]));
  // Bad covariances given directly.
  CHECK(error_of([&] { (void)vf::joint_bayesian::from_covariances(mat({{1, 0}, {0, 1}}), mat({{1}})); })
            .find("square") != std::string::npos);
  CHECK(error_of([&] { (void)vf::joint_bayesian::from_covariances(mat({{1}}), mat({{-1}})); }).find("positive definite") !=
        std::string::npos);
}
