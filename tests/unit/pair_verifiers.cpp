// Pair-based verifiers: the DeepID1 neural-network verifier, logistic
// regression and linear SVM on pair features, score fusion, and binarised
// features with Hamming distance.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <deepid/core/rng.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/feature_group_fusion.hpp>
#include <deepid/verify/hamming.hpp>
#include <deepid/verify/linear_models.hpp>
#include <deepid/verify/nn_verifier.hpp>
#include <deepid/verify/pair_classifier.hpp>
#include <deepid/verify/pair_sampling.hpp>
#include <deepid/verify/score_fusion.hpp>

#include "pair_accuracy.hpp"
#include "test_files.hpp"

namespace dp = deepid;
namespace vf = deepid::verify;

namespace {

// One thread unless a test asks for more: the test machines are shared.
const bool one_thread = (dp::set_num_threads(1), true);

// Identities with random centres; each image is its centre plus noise.
struct pair_set {
  dp::matrix<float> x;
  std::vector<int> ids;
  std::vector<vf::labelled_pair> pairs;
};

pair_set make_set(std::size_t identities, std::size_t per_identity, std::size_t dim, double noise,
                  std::uint64_t seed, std::size_t pair_count) {
  dp::rng gen(seed);
  pair_set s;
  s.x = dp::matrix<float>({identities * per_identity, dim});
  for (std::size_t k = 0; k < identities; ++k) {
    std::vector<double> centre(dim);
    for (auto& c : centre) c = gen.normal();
    for (std::size_t m = 0; m < per_identity; ++m) {
      const std::size_t row = k * per_identity + m;
      for (std::size_t j = 0; j < dim; ++j) s.x(row, j) = float(centre[j] + noise * gen.normal());
      s.ids.push_back(int(k));
    }
  }
  s.pairs = vf::sample_balanced_pairs(s.ids, pair_count, seed + 1);
  return s;
}

using deepid_test::accuracy;

const deepid_test::scratch_folder scratch{"pair_verifiers"};
using deepid_test::read_bytes;
using deepid_test::write_bytes;

// A tiny net: 4 groups of 6 values per face (D = 24), 6 units per group, 12 in hidden 2.
vf::nn_verifier_options tiny_options() {
  vf::nn_verifier_options o;
  o.sizes = {4, 6, 8, 16, 0};
  o.stage1_epochs = 20;
  o.stage2_epochs = 20;
  o.batch = 32;
  o.learning_rate = 0.02;
  o.dropout = 0.2;
  o.seed = 5;
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------
// Neural-network verifier

TEST_CASE("nn verifier: the paper's 60-group net has 26,126,401 parameters, nothing allocated") {
  constexpr auto paper = vf::nn_verifier_sizes::paper();
  static_assert(paper.parameter_count() == 26'126'401);
  CHECK(paper.first_layer_parameters() == 3'076'800);              // 60 x (640 x 80 + 80)
  CHECK(paper.hidden1_total() * paper.hidden2 + paper.hidden2 == 23'044'800);
  CHECK(paper.input_size() == 38'400);
  CHECK(paper.stage1_width() == 80);
  const vf::nn_verifier v;  // default options are the paper's sizes
  CHECK(v.parameter_count() == 26'126'401);
  CHECK(v.net().parameters().empty());
  CHECK_FALSE(v.fitted());
  // A small net is the same type.
  vf::nn_verifier_options small;
  small.sizes = {2, 3, 4, 5, 0};
  const vf::nn_verifier s(small);
  CHECK(s.parameter_count() == 2 * (6 * 4 + 4) + 8 * 5 + 5 + 5 + 1);
}

TEST_CASE("nn verifier: gradients match central finite differences (double, tiny net)") {
  const vf::nn_verifier_sizes sizes{3, 2, 3, 4, 0};
  vf::nn_verifier_net<double> net(sizes);
  net.initialise(17);
  dp::rng gen(23);
  // Non-zero biases keep units off the ReLU kink.
  for (auto& p : net.parameters()) p += 0.1 * gen.normal();
  const std::size_t n = 5;
  std::vector<double> in(n * sizes.input_size()), labels{1, 0, 1, 1, 0};
  for (auto& v : in) v = gen.normal();

  for (const vf::nn_pass pass : {vf::nn_pass{0.0, 0, true}, vf::nn_pass{0.5, 99, true}, vf::nn_pass{0.5, 99, false}}) {
    CAPTURE(pass.dropout);
    CAPTURE(pass.first_layer);
    std::vector<double> grad(net.parameters().size());
    net.loss(in.data(), labels.data(), n, pass, grad.data());
    std::size_t compared = 0, bad = 0;
    const double eps = 1e-6;
    for (std::size_t i = 0; i < grad.size(); ++i) {
      if (!pass.first_layer && i < net.first_layer_end()) {
        CHECK(grad[i] == 0.0);
        continue;
      }
      auto p = net.parameters();
      const double keep = p[i];
      p[i] = keep + eps;
      const double up = net.loss(in.data(), labels.data(), n, pass, nullptr);
      p[i] = keep - eps;
      const double down = net.loss(in.data(), labels.data(), n, pass, nullptr);
      p[i] = keep;
      const double numeric = (up - down) / (2 * eps);
      ++compared;
      if (std::abs(numeric - grad[i]) > 1e-7 + 1e-5 * std::abs(numeric)) {
        ++bad;
        MESSAGE("parameter " << i << ": analytic " << grad[i] << ", numeric " << numeric);
      }
    }
    CHECK(bad == 0);
    CHECK(compared == (pass.first_layer ? sizes.parameter_count() : sizes.parameter_count() - net.first_layer_end()));
  }
  // Dropout masks are a function of the seed: the same seed, the same loss.
  const vf::nn_pass a{0.5, 7, true}, b{0.5, 8, true};
  CHECK(net.loss(in.data(), labels.data(), n, a, nullptr) == net.loss(in.data(), labels.data(), n, a, nullptr));
  CHECK(net.loss(in.data(), labels.data(), n, a, nullptr) != net.loss(in.data(), labels.data(), n, b, nullptr));
}

TEST_CASE("nn verifier: learns a separable pair problem on unseen identities") {
  const auto train = make_set(60, 5, 24, 0.35, 1, 1200);
  const auto test = make_set(30, 5, 24, 0.35, 2, 600);
  for (const bool two_stage : {true, false}) {
    CAPTURE(two_stage);
    auto o = tiny_options();
    o.two_stage = two_stage;
    vf::nn_verifier v(o);
    v.fit({train.x, train.ids, train.pairs});
    REQUIRE(v.fitted());
    const auto s = v.scores(test.x, test.pairs);
    const double acc = accuracy(s, test.pairs, v.threshold());
    MESSAGE("nn verifier (two_stage " << two_stage << "): held-out accuracy " << acc << ", stage-2 loss "
                                      << v.stage2_losses().front() << " -> " << v.stage2_losses().back());
    CHECK(acc >= 0.9);
    CHECK(v.stage2_losses().back() < v.stage2_losses().front());
    // score(a, b) agrees with the batched scores; probability is its sigmoid.
    const auto& p = test.pairs[3];
    const std::span<const float> a(test.x.data() + p.first * 24, 24), b(test.x.data() + p.second * 24, 24);
    CHECK(v.score(a, b) == doctest::Approx(s[3]).epsilon(1e-4));
    CHECK(v.probability(a, b) == doctest::Approx(1 / (1 + std::exp(-s[3]))).epsilon(1e-4));
  }
}

TEST_CASE("nn verifier: fits from identities alone (balanced pairs drawn from the seed)") {
  const auto train = make_set(40, 5, 24, 0.35, 3, 0);
  const auto test = make_set(20, 5, 24, 0.35, 4, 400);
  auto o = tiny_options();
  o.sampled_pairs = 1000;
  vf::nn_verifier v(o);
  v.fit({train.x, train.ids, {}});
  CHECK(accuracy(v.scores(test.x, test.pairs), test.pairs, v.threshold()) >= 0.85);
  const auto drawn = vf::sample_balanced_pairs(train.ids, 1000, 9);
  std::size_t same = 0;
  for (const auto& p : drawn) {
    same += p.same;
    CHECK(p.first != p.second);
    CHECK((train.ids[p.first] == train.ids[p.second]) == p.same);
  }
  CHECK(same == 500);
  CHECK(vf::sample_balanced_pairs(train.ids, 50, 9).back().first == vf::sample_balanced_pairs(train.ids, 50, 9).back().first);
}

TEST_CASE("nn verifier: add_identity_pairs learns from the identities beside a handful of given pairs") {
  // 40 given pairs are too few for the net; the identities hold many more.
  const auto train = make_set(40, 5, 24, 0.35, 3, 40);
  const auto test = make_set(20, 5, 24, 0.35, 4, 400);
  auto o = tiny_options();
  o.sampled_pairs = 1000;
  vf::nn_verifier few(o);
  few.fit({train.x, train.ids, train.pairs});
  o.add_identity_pairs = true;
  vf::nn_verifier more(o);
  more.fit({train.x, train.ids, train.pairs});
  const double acc_few = accuracy(few.scores(test.x, test.pairs), test.pairs, few.threshold());
  const double acc_more = accuracy(more.scores(test.x, test.pairs), test.pairs, more.threshold());
  MESSAGE("held-out accuracy: 40 given pairs " << acc_few << ", plus 1,000 drawn from the identities " << acc_more);
  CHECK(acc_more >= 0.85);
  CHECK(acc_more > acc_few + 0.03);
  // The threshold still comes from the given pairs; without identities the option changes nothing.
  vf::nn_verifier no_ids(o), plain(tiny_options());
  no_ids.fit({train.x, {}, train.pairs});
  plain.fit({train.x, {}, train.pairs});
  CHECK(no_ids.scores(test.x, test.pairs) == plain.scores(test.x, test.pairs));
}

TEST_CASE("nn verifier: stage 1 trains each group alone; stage 2 keeps the first layer fixed") {
  const auto train = make_set(40, 5, 24, 0.35, 5, 800);
  const auto o = tiny_options();
  vf::nn_verifier v(o);
  v.fit_stage1({train.x, train.ids, train.pairs});
  CHECK_FALSE(v.fitted());
  CHECK_THROWS_AS(v.scores(train.x, train.pairs), dp::error);
  const auto& net = v.net();
  const std::vector<float> layer1(net.parameters().begin(), net.parameters().begin() + std::ptrdiff_t(net.first_layer_end()));
  const std::vector<float> rest_before(net.parameters().begin() + std::ptrdiff_t(net.first_layer_end()), net.parameters().end());
  // Stage 1 moved the first layer away from its initialisation.
  vf::nn_verifier_net<float> fresh(net.sizes());
  fresh.initialise(dp::mix64(o.seed ^ 0x66756c6cull));
  CHECK_FALSE(std::equal(layer1.begin(), layer1.end(), fresh.parameters().begin()));

  v.fit_stage2({train.x, train.ids, train.pairs});
  CHECK(v.fitted());
  CHECK(std::equal(layer1.begin(), layer1.end(), net.parameters().begin()));  // bitwise unchanged
  CHECK_FALSE(std::equal(rest_before.begin(), rest_before.end(), net.parameters().begin() + std::ptrdiff_t(net.first_layer_end())));

  // Group 0's sub-network sees only group 0: changing group 2's values leaves
  // group 0's first-layer weights bitwise equal, and changes group 2's.
  auto changed = train.x;
  for (std::size_t i = 0; i < changed.shape()[0]; ++i)
    for (std::size_t j = 12; j < 18; ++j) changed(i, j) = -2 * changed(i, j) + 0.5f;
  vf::nn_verifier w(o);
  w.fit_stage1({changed, train.ids, train.pairs});
  const auto g0 = 2 * 6 * 8;  // one group's weights
  CHECK(std::equal(layer1.begin(), layer1.begin() + g0, w.net().parameters().begin()));
  CHECK_FALSE(std::equal(layer1.begin() + 2 * g0, layer1.begin() + 3 * g0, w.net().parameters().begin() + 2 * g0));
  CHECK_THROWS_AS(vf::nn_verifier(o).fit_stage2({train.x, train.ids, train.pairs}), dp::error);
}

TEST_CASE("nn verifier: deterministic for a seed, whatever the thread count") {
  const auto train = make_set(30, 4, 24, 0.35, 6, 500);
  auto o = tiny_options();
  o.stage1_epochs = o.stage2_epochs = 4;
  auto fit_scores = [&](std::uint64_t seed, int threads) {
    dp::set_num_threads(threads);
    auto oo = o;
    oo.seed = seed;
    vf::nn_verifier v(oo);
    v.fit({train.x, train.ids, train.pairs});
    return v.scores(train.x, train.pairs);
  };
  const auto a = fit_scores(5, 1), b = fit_scores(5, 1), c = fit_scores(5, 2), d = fit_scores(6, 1);
  dp::set_num_threads(1);
  CHECK(a == b);
  CHECK(a == c);
  CHECK(a != d);
}

TEST_CASE("nn verifier: save and load round trip; corrupt and truncated files are refused") {
  const auto train = make_set(30, 4, 24, 0.35, 7, 400);
  auto o = tiny_options();
  o.stage1_epochs = o.stage2_epochs = 3;
  vf::nn_verifier v(o);
  const auto dir = scratch("nn_save_load");
  CHECK_THROWS_AS(v.save(dir / "unfitted.nnv"), dp::error);
  v.fit({train.x, train.ids, train.pairs});
  const auto path = dir / "nn.nnv";
  v.save(path);
  const auto loaded = vf::nn_verifier::load(path);
  CHECK(loaded.fitted());
  CHECK(loaded.threshold() == v.threshold());
  CHECK(loaded.scores(train.x, train.pairs) == v.scores(train.x, train.pairs));
  CHECK(loaded.net().sizes().stage1_width() == v.net().sizes().stage1_width());

  const auto bytes = read_bytes(path);
  auto corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x20;
  const auto bad = dir / "nn_bad.nnv";
  write_bytes(bad, corrupt);
  CHECK_THROWS_WITH_AS(vf::nn_verifier::load(bad), doctest::Contains("checksum"), dp::error);
  write_bytes(bad, bytes.substr(0, bytes.size() / 3));
  CHECK_THROWS_WITH_AS(vf::nn_verifier::load(bad), doctest::Contains("truncated"), dp::error);
  // Another verifier's file is refused by kind.
  vf::l2_verifier l2;
  l2.fit({train.x, train.ids, train.pairs});
  l2.save(bad);
  CHECK_THROWS_WITH_AS(vf::nn_verifier::load(bad), doctest::Contains("not a 'verifier/nn'"), dp::error);
}

TEST_CASE("nn verifier: bad input") {
  auto train = make_set(20, 4, 24, 0.35, 8, 200);
  auto o = tiny_options();
  o.stage1_epochs = o.stage2_epochs = 1;
  vf::nn_verifier v(o);
  CHECK_THROWS_WITH_AS(v.scores(train.x, train.pairs), doctest::Contains("not fitted"), dp::error);
  CHECK_THROWS_WITH_AS(v.score(std::vector<float>(24), std::vector<float>(24)), doctest::Contains("not fitted"), dp::error);
  // 25 dimensions do not split into 4 groups of 6.
  const auto wrong = make_set(20, 4, 25, 0.35, 8, 200);
  CHECK_THROWS_WITH_AS(v.fit({wrong.x, wrong.ids, wrong.pairs}), doctest::Contains("dimensions"), dp::error);
  // Block inferred from the features: 24 / 4 = 6.
  auto inferred = o;
  inferred.sizes.block = 0;
  vf::nn_verifier vi(inferred);
  vi.fit({train.x, train.ids, train.pairs});
  CHECK(vi.net().sizes().block == 6);
  CHECK_THROWS_WITH_AS(vi.scores(wrong.x, wrong.pairs), doctest::Contains("25 dimensions"), dp::error);
  CHECK_THROWS_AS(vi.score(std::vector<float>(24), std::vector<float>(23)), dp::error);
  // NaN features.
  auto nan = train.x;
  nan(3, 5) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(v.fit({nan, train.ids, train.pairs}), doctest::Contains("not finite"), dp::error);
  CHECK_THROWS_WITH_AS(vi.scores(nan, train.pairs), doctest::Contains("not finite"), dp::error);
  // Pairs out of range, one-sided labels, no labels at all.
  std::vector<vf::labelled_pair> out_of_range{{0, 999, true}, {0, 1, false}};
  CHECK_THROWS_AS(v.fit({train.x, train.ids, out_of_range}), dp::error);
  std::vector<vf::labelled_pair> all_same{{0, 1, true}, {4, 5, true}};
  CHECK_THROWS_WITH_AS(v.fit({train.x, train.ids, all_same}), doctest::Contains("both same and different"), dp::error);
  CHECK_THROWS_WITH_AS(v.fit({train.x, {}, {}}), doctest::Contains("neither"), dp::error);
  auto bad_rate = o;
  bad_rate.dropout = 1.0;
  CHECK_THROWS_AS(vf::nn_verifier(bad_rate).fit({train.x, train.ids, train.pairs}), dp::error);
}

// ---------------------------------------------------------------------------
// Logistic regression and linear SVM

TEST_CASE("linear SVM: the 1-D hard-margin solution") {
  // Negatives at 0 and 1, positives at 3 and 4: the maximum-margin line is
  // w = 1, b = -2 (margin points 1 and 3); also the optimum with b regularised.
  vf::dmatrix x(4, 1);
  x << 0, 1, 3, 4;
  const std::vector<int> y{0, 0, 1, 1};
  vf::svm_options o;
  o.c = 1000;
  o.tolerance = 1e-9;
  vf::linear_svm svm(o);
  svm.fit(x, y);
  CHECK(svm.weights()(0) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(svm.bias() == doctest::Approx(-2.0).epsilon(1e-6));
  const double at[] = {1, 2, 3};
  CHECK(svm.decision(&at[0]) == doctest::Approx(-1.0).epsilon(1e-6));
  CHECK(svm.decision(&at[2]) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(std::abs(svm.decision(&at[1])) < 1e-6);
  // Soft margin: a small c shrinks w below the hard-margin 1.
  vf::svm_options soft;
  soft.c = 0.05;
  vf::linear_svm s2(soft);
  s2.fit(x, y);
  CHECK(s2.weights()(0) > 0);
  CHECK(s2.weights()(0) < 0.99);
}

TEST_CASE("logistic regression: signs and symmetry on hand-made 1-D data") {
  vf::dmatrix x(6, 1);
  x << -3, -2, -1, 1, 2, 3;
  const std::vector<int> y{0, 0, 1, 0, 1, 1};  // overlapping, symmetric
  vf::logistic_regression lr;
  lr.fit(x, y);
  CHECK(lr.weights()(0) > 0);
  CHECK(std::abs(lr.bias()) < 1e-6);
  const double at[] = {0, 2};
  CHECK(lr.probability(&at[0]) == doctest::Approx(0.5));
  CHECK(lr.probability(&at[1]) > 0.5);
  // Optimality: the gradient of the regularised loss vanishes.
  double gw = 0, gb = 0;
  for (int i = 0; i < 6; ++i) {
    const double r = lr.probability(&x(i, 0)) - y[std::size_t(i)];
    gw += r * x(i, 0) / 6, gb += r / 6;
  }
  CHECK(std::abs(gw + 1e-4 * lr.weights()(0)) < 1e-6);
  CHECK(std::abs(gb) < 1e-6);
}

TEST_CASE("logistic regression and linear SVM separate linearly separable 2-D data") {
  // Labels by the side of the line x0 + 2 x1 = 0.5, points within 0.1 of it dropped.
  dp::rng gen(41);
  std::vector<double> rows;
  std::vector<int> y;
  while (y.size() < 200) {
    const double a = 2 * gen.normal(), b = 2 * gen.normal(), m = a + 2 * b - 0.5;
    if (std::abs(m) < 0.1 * std::sqrt(5.0)) continue;
    rows.push_back(a), rows.push_back(b), y.push_back(m > 0);
  }
  const vf::dmatrix x = Eigen::Map<const vf::dmatrix>(rows.data(), 200, 2);
  vf::logistic_options lo;
  lo.l2 = 1e-6;
  vf::logistic_regression lr(lo);
  lr.fit(x, y);
  vf::svm_options so;
  so.c = 100;
  vf::linear_svm svm(so);
  svm.fit(x, y);
  std::size_t lr_ok = 0, svm_ok = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    lr_ok += (lr.decision(&rows[2 * i]) > 0) == bool(y[i]);
    svm_ok += (svm.decision(&rows[2 * i]) > 0) == bool(y[i]);
  }
  CHECK(lr_ok == 200);
  CHECK(svm_ok == 200);
  // Both normals point along (1, 2).
  CHECK(lr.weights()(1) / lr.weights()(0) == doctest::Approx(2.0).epsilon(0.15));
  CHECK(svm.weights()(1) / svm.weights()(0) == doctest::Approx(2.0).epsilon(0.15));
  CHECK_THROWS_AS(lr.fit(x, std::vector<int>(200, 1)), dp::error);
  CHECK_THROWS_AS(svm.fit(x, std::vector<int>(3, 1)), dp::error);
}

TEST_CASE("pair LR and SVM verifiers learn a separable problem; hand-made signs") {
  const auto train = make_set(50, 5, 8, 0.3, 11, 1500);
  const auto test = make_set(30, 5, 8, 0.3, 12, 600);
  vf::logistic_verifier lr;
  vf::svm_verifier svm;
  lr.fit({train.x, train.ids, train.pairs});
  svm.fit({train.x, train.ids, train.pairs});
  const auto slr = lr.scores(test.x, test.pairs), ssvm = svm.scores(test.x, test.pairs);
  const double alr = accuracy(slr, test.pairs, lr.threshold()), asvm = accuracy(ssvm, test.pairs, svm.threshold());
  MESSAGE("held-out accuracy: logistic " << alr << ", svm " << asvm);
  CHECK(alr >= 0.95);
  CHECK(asvm >= 0.95);
  // A face with itself scores higher than with its negation; scores are symmetric.
  std::vector<float> a(8), minus_a(8), b(8);
  for (std::size_t j = 0; j < 8; ++j) a[j] = train.x(0, j), minus_a[j] = -a[j], b[j] = train.x(7, j);
  CHECK(lr.score(a, a) > lr.threshold());
  CHECK(lr.score(a, minus_a) < lr.threshold());
  CHECK(svm.score(a, a) > svm.threshold());
  CHECK(svm.score(a, minus_a) < svm.threshold());
  CHECK(lr.score(a, b) == lr.score(b, a));
  CHECK(svm.score(a, b) == svm.score(b, a));
  CHECK(lr.score(a, b) == doctest::Approx(lr.scores(train.x, std::vector<vf::labelled_pair>{{0, 7, false}})[0]));

  // Save/load round trip.
  const auto path = scratch("lr_svm") / "svm.rec";
  svm.save(path);
  const auto back = vf::svm_verifier::load(path);
  CHECK(back.scores(test.x, test.pairs) == ssvm);
  CHECK(back.threshold() == svm.threshold());
  CHECK_THROWS_AS(vf::logistic_verifier::load(path), dp::error);
  lr.save(path);
  CHECK(vf::logistic_verifier::load(path).scores(test.x, test.pairs) == slr);

  // Bad input.
  vf::svm_verifier unfitted;
  CHECK_THROWS_WITH_AS(unfitted.scores(test.x, test.pairs), doctest::Contains("not fitted"), dp::error);
  CHECK_THROWS_AS(unfitted.score(a, b), dp::error);
  const auto wrong = make_set(5, 2, 7, 0.3, 13, 10);
  CHECK_THROWS_WITH_AS(svm.scores(wrong.x, wrong.pairs), doctest::Contains("fitted on 8"), dp::error);
  auto nan = test.x;
  nan(1, 1) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(lr.scores(nan, test.pairs), doctest::Contains("not finite"), dp::error);
  CHECK_THROWS_WITH_AS(vf::logistic_verifier().fit({nan, test.ids, test.pairs}), doctest::Contains("not finite"), dp::error);
  a[2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(svm.score(a, b), dp::error);
}

// ---------------------------------------------------------------------------
// Fusion

TEST_CASE("score fusion beats each component when the components are complementary") {
  // Two feature groups on very different scales (x1 and x100) whose noise
  // is independent: each group alone confuses many pairs, but rarely the
  // same ones, so a weighted sum of the two distances separates more.
  const auto make = [](std::uint64_t seed, std::size_t pair_count) {
    auto s = make_set(80, 5, 16, 0.75, seed, pair_count);
    for (std::size_t i = 0; i < s.x.shape()[0]; ++i)
      for (std::size_t j = 8; j < 16; ++j) s.x(i, j) *= 100.0f;
    return s;
  };
  const auto train = make(21, 2000), test = make(22, 2000);
  vf::feature_group_options o;
  o.count = 2;
  vf::feature_group_fusion<vf::l2_verifier> fused(o);
  fused.fit({train.x, train.ids, train.pairs});
  const auto fs_ = fused.scores(test.x, test.pairs);
  const double acc_fused = accuracy(fs_, test.pairs, fused.threshold());
  const auto parts = fused.member_scores(test.x, test.pairs);
  REQUIRE(parts.size() == 2);
  const double acc0 = accuracy(parts[0], test.pairs, fused.members()[0].threshold());
  const double acc1 = accuracy(parts[1], test.pairs, fused.members()[1].threshold());
  MESSAGE("accuracy: group 0 " << acc0 << ", group 1 " << acc1 << ", fused " << acc_fused);
  CHECK(acc_fused > acc0 + 0.03);
  CHECK(acc_fused > acc1 + 0.03);
  // Both components get positive weight on their raw scales (l2: -distance).
  for (double w : fused.fusion().raw_weights()) CHECK(w > 0);

  // The same through score_fusion on collected score vectors.
  const auto train_parts = fused.member_scores(train.x, train.pairs);
  vf::score_fusion sf;
  sf.fit(train_parts, train.pairs);
  const auto direct = sf.fuse(parts);
  CHECK(accuracy(direct, test.pairs, sf.threshold()) == doctest::Approx(acc_fused));
  const std::vector<double> one{parts[0][5], parts[1][5]};
  CHECK(sf.fuse_one(one) == doctest::Approx(direct[5]));
  // score(a, b) of the composite agrees with its batched scores.
  const auto& p = test.pairs[5];
  CHECK(fused.score({test.x.data() + p.first * 16, 16}, {test.x.data() + p.second * 16, 16}) == doctest::Approx(fs_[5]));

  // Save/load: one file holding the members.
  const auto path = scratch("score_fusion") / "fusion.rec";
  fused.save(path);
  const auto back = vf::feature_group_fusion<vf::l2_verifier>::load(path);
  CHECK(back.scores(test.x, test.pairs) == fs_);
  CHECK(back.threshold() == fused.threshold());
  sf.save(path);
  CHECK(vf::score_fusion::load(path).fuse(parts) == direct);

  // Holdout: members and fusion see disjoint pairs; still beats the components.
  o.holdout = 0.3;
  vf::feature_group_fusion<vf::l2_verifier> held(o);
  held.fit({train.x, train.ids, train.pairs});
  CHECK(accuracy(held.scores(test.x, test.pairs), test.pairs, held.threshold()) > std::max(acc0, acc1));

  // From identities alone: balanced pairs are drawn.
  vf::feature_group_fusion<vf::l2_verifier> from_ids(o);
  from_ids.fit({train.x, train.ids, {}});
  CHECK(accuracy(from_ids.scores(test.x, test.pairs), test.pairs, from_ids.threshold()) > std::max(acc0, acc1));

  // Bad input.
  vf::score_fusion unfitted;
  CHECK_THROWS_WITH_AS(unfitted.fuse(parts), doctest::Contains("not fitted"), dp::error);
  CHECK_THROWS_AS(sf.fuse(std::vector<std::vector<double>>{parts[0]}), dp::error);
  CHECK_THROWS_AS(sf.fit(std::vector<std::vector<double>>{parts[0], std::vector<double>(3)}, test.pairs), dp::error);
  auto with_nan = parts;
  with_nan[1][2] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(sf.fuse(with_nan), doctest::Contains("not finite"), dp::error);
  vf::feature_group_options three;
  three.count = 3;
  CHECK_THROWS_WITH_AS(vf::feature_group_fusion<vf::l2_verifier>(three).fit({train.x, train.ids, train.pairs}),
                       doctest::Contains("equal groups"), dp::error);
  CHECK_THROWS_AS(fused.scores(make_set(3, 2, 9, 0.1, 1, 4).x, std::vector<vf::labelled_pair>{{0, 1, true}}), dp::error);
}

// ---------------------------------------------------------------------------
// Hamming

TEST_CASE("hamming: hand-computed distance and packing") {
  // bit = x > 0: a -> 1 0 1 1 0 (0 is not > 0), b -> 0 0 1 0 1  => 3 differ.
  dp::matrix<float> x({2, 5});
  const float av[] = {0.5f, 0.0f, 2.0f, 1e-6f, -1.0f}, bv[] = {-0.5f, -3.0f, 0.1f, -1e-6f, 4.0f};
  for (std::size_t j = 0; j < 5; ++j) x(0, j) = av[j], x(1, j) = bv[j];
  const auto codes = vf::binarise(x);
  CHECK(codes.words_per_row() == 1);
  CHECK(codes.row(0)[0] == 0b01101u);
  CHECK(codes.row(1)[0] == 0b10100u);
  CHECK(vf::hamming_distance(codes.row(0), codes.row(1)) == 3);
  vf::hamming_verifier h;
  CHECK(h.score(std::span<const float>(av), std::span<const float>(bv)) == -3.0);
  CHECK(h.scores(x, std::vector<vf::labelled_pair>{{0, 1, false}, {1, 1, true}}) == std::vector<double>{-3.0, 0.0});
}

TEST_CASE("hamming: popcount edge cases, dimensions not a multiple of 64") {
  for (const std::size_t d : {1u, 63u, 64u, 65u, 127u, 128u, 130u, 200u}) {
    CAPTURE(d);
    dp::rng gen(d);
    dp::matrix<float> x({4, d});
    for (std::size_t j = 0; j < d; ++j) {
      x(0, j) = 1.0f;                       // all ones
      x(1, j) = -1.0f;                      // all zeros
      x(2, j) = float(gen.normal());        // random
      x(3, j) = j % 2 ? 1.0f : 0.0f;        // odd bits
    }
    const auto codes = vf::binarise(x);
    CHECK(codes.words_per_row() == (d + 63) / 64);
    // Unused high bits of the last word stay zero.
    if (d % 64) CHECK((codes.row(0).back() >> (d % 64)) == 0);
    CHECK(vf::hamming_distance(codes.row(0), codes.row(1)) == d);
    CHECK(vf::hamming_distance(codes.row(0), codes.row(3)) == (d + 1) / 2);
    CHECK(vf::hamming_distance(codes.row(1), codes.row(3)) == d / 2);
    std::size_t brute = 0;
    for (std::size_t j = 0; j < d; ++j) brute += (x(2, j) > 0) != (x(0, j) > 0);
    CHECK(vf::hamming_distance(codes.row(2), codes.row(0)) == brute);
    for (std::size_t j = 0; j < d; ++j) CHECK(codes.bit(2, j) == (x(2, j) > 0));
  }
}

TEST_CASE("hamming verifier: fit, threshold, batches, save/load and bad input") {
  auto s = make_set(40, 4, 100, 0.4, 31, 600);
  vf::hamming_verifier h;
  h.fit({s.x, s.ids, s.pairs});
  CHECK(h.fitted());
  const auto sc = h.scores(s.x, s.pairs);
  CHECK(accuracy(sc, s.pairs, h.threshold()) >= 0.9);
  for (double v : sc) CHECK((v <= 0 && v >= -100 && v == std::floor(v)));
  const auto& p = s.pairs[4];
  CHECK(h.score({s.x.data() + p.first * 100, 100}, {s.x.data() + p.second * 100, 100}) == sc[4]);
  const auto path = scratch("hamming") / "hamming.rec";
  h.save(path);
  const auto back = vf::hamming_verifier::load(path);
  CHECK(back.threshold() == h.threshold());
  CHECK(back.scores(s.x, s.pairs) == sc);
  auto nan = s.x;
  nan(2, 99) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(h.scores(nan, s.pairs), doctest::Contains("not finite"), dp::error);
  const auto wrong = make_set(4, 2, 99, 0.4, 1, 4);
  CHECK_THROWS_WITH_AS(h.scores(wrong.x, wrong.pairs), doctest::Contains("fitted on 100"), dp::error);
  CHECK_THROWS_AS(h.score(std::vector<float>(100), std::vector<float>(99)), dp::error);
  CHECK_THROWS_AS(vf::hamming_distance(std::vector<std::uint64_t>(2), std::vector<std::uint64_t>(1)), dp::error);
  CHECK_THROWS_AS(h.scores(s.x, std::vector<vf::labelled_pair>{{0, 1000, true}}), dp::error);
}

static_assert(vf::verifier<vf::nn_verifier>);
static_assert(vf::verifier<vf::logistic_verifier>);
static_assert(vf::verifier<vf::svm_verifier>);
static_assert(vf::verifier<vf::hamming_verifier>);
static_assert(vf::verifier<vf::feature_group_fusion<vf::l2_verifier>>);
static_assert(vf::verifier<vf::feature_group_fusion<vf::nn_verifier>>);
