// Thresholds, ROC, AUC, EER and the ten-fold protocol against hand-computed
// cases and brute force.
#include <doctest/doctest.h>

#include <deepid/eval/protocol.hpp>
#include <deepid/eval/report.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/threshold.hpp>

#include <deepid/core/rng.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

#include "test_files.hpp"

namespace ev = deepid::eval;
namespace vf = deepid::verify;

namespace {
const deepid_test::scratch_folder scratch{"eval"};

std::vector<char> as_chars(std::initializer_list<bool> v) { return {v.begin(), v.end()}; }
std::span<const bool> bools(const std::vector<char>& v) {
  return {reinterpret_cast<const bool*>(v.data()), v.size()};
}

// Folds of one-dimensional pairs: same pairs at distance 0.5 +- 0.45,
// different ones at 1.5 +- 0.45, so the best threshold on any folds lies
// between -1.05 and -0.95.
struct separable_folds {
  deepid::matrix<float> x;
  std::vector<ev::fold_pair> pairs;
  std::vector<int> ids;
};
separable_folds make_separable_folds(std::size_t folds, std::size_t per_fold, std::uint64_t seed) {
  deepid::rng gen(seed);
  separable_folds s{deepid::matrix<float>({folds * per_fold * 2, 1}), {}, std::vector<int>(folds * per_fold * 2)};
  for (std::size_t f = 0; f < folds; ++f)
    for (std::size_t k = 0; k < per_fold; ++k) {
      const std::size_t a = (f * per_fold + k) * 2, b = a + 1;
      const bool same = k % 2 == 0;
      s.x(a, 0) = 0;
      s.x(b, 0) = float((same ? 0.5 : 1.5) + 0.45 * (gen.uniform() * 2 - 1));
      s.ids[a] = int(a);
      s.ids[b] = same ? int(a) : int(b);
      s.pairs.push_back({a, b, same, int(f)});
    }
  return s;
}
}  // namespace

TEST_CASE("best threshold equals brute force over every candidate") {
  deepid::rng gen(3);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t n = 5 + trial;
    std::vector<double> scores(n);
    std::vector<char> same(n);
    for (std::size_t i = 0; i < n; ++i) {
      same[i] = gen.uniform() < 0.5;
      // Coarse values make ties common.
      scores[i] = std::round((same[i] ? 0.6 : 0.0) + gen.normal()) / 2;
    }
    const auto choice = vf::best_threshold(scores, bools(same));
    double brute = 0;
    std::vector<double> candidates{-1e9, 1e9};
    for (double s : scores) candidates.push_back(s), candidates.push_back(s + 1e-9), candidates.push_back(s - 1e-9);
    for (double t : candidates) brute = std::max(brute, vf::accuracy_at(scores, bools(same), t));
    CHECK(choice.accuracy == doctest::Approx(brute));
    CHECK(vf::accuracy_at(scores, bools(same), choice.threshold) == doctest::Approx(brute));
  }
}

TEST_CASE("threshold of a hand-worked margin example: middle of the best interval") {
  // A hand-worked example (as similarities: negate the distances).
  const std::vector<double> distance{0.2, 0.3, 0.5, 0.6, 0.7, 0.9, 1.1};
  const auto same = as_chars({true, true, false, true, true, false, false});
  std::vector<double> score;
  for (double d : distance) score.push_back(-d);
  const auto choice = vf::best_threshold(score, bools(same));
  CHECK(choice.threshold == doctest::Approx(-0.8));
  CHECK(choice.accuracy == doctest::Approx(6.0 / 7));
}

TEST_CASE("ROC, AUC and EER on a hand-computed case") {
  // Scores: same {0.9, 0.8, 0.4}, different {0.7, 0.3, 0.1}.
  const std::vector<double> s{0.9, 0.8, 0.7, 0.4, 0.3, 0.1};
  const auto same = as_chars({true, true, false, true, false, false});
  const auto roc = ev::make_roc(s, bools(same));
  // Points: (0,0) (0,1/3) (0,2/3) (1/3,2/3) (1/3,1) (2/3,1) (1,1)
  REQUIRE(roc.points.size() == 7);
  CHECK(roc.points[2].tpr == doctest::Approx(2.0 / 3));
  CHECK(roc.points[3].fpr == doctest::Approx(1.0 / 3));
  // AUC = P(same > different) = 8 of 9 orderings.
  CHECK(roc.auc() == doctest::Approx(8.0 / 9));
  // FPR - (1 - TPR) changes sign on the segment (0, 2/3) -> (1/3, 2/3): EER = 1/3.
  CHECK(roc.eer() == doctest::Approx(1.0 / 3));
  CHECK(roc.tpr_at_fpr(0.0) == doctest::Approx(2.0 / 3));
  CHECK(roc.tpr_at_fpr(0.34) == doctest::Approx(1.0));
}

TEST_CASE("AUC counts ties as one half") {
  const std::vector<double> s{0.5, 0.5, 0.5, 0.5};
  const auto same = as_chars({true, false, true, false});
  CHECK(ev::make_roc(s, bools(same)).auc() == doctest::Approx(0.5));
}

TEST_CASE("ten-fold protocol: thresholds come from the training folds only") {
  // Ten folds of features where the best threshold differs per fold: a
  // threshold leaked from the test fold would score 100% everywhere.
  const std::size_t folds = 10;
  const auto [x, pairs, ids] = make_separable_folds(folds, 40, 11);
  const auto result = ev::run_ten_fold<vf::l2_verifier>("l2", x, pairs, ids);
  CHECK(result.folds.size() == folds);
  CHECK(result.mean_accuracy == doctest::Approx(1.0));
  CHECK(result.auc == doctest::Approx(1.0));
  for (const auto& f : result.folds) {
    CHECK(f.threshold < -0.95);  // between the classes' distance ranges
    CHECK(f.threshold > -1.05);
  }
  CHECK(result.standard_error == doctest::Approx(0.0));

  // Writing the ROC: CSV rows and a PNG.
  const auto dir = scratch("roc");
  std::vector<ev::protocol_result> all{result};
  ev::write_roc_csv(dir / "roc.csv", all);
  ev::plot_roc_png(dir / "roc.png", all, "test");
  std::ifstream csv(dir / "roc.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "verifier,fpr,tpr,threshold");
  CHECK(deepid::face::load_image(dir / "roc.png").cols == 900);
}

// An L2 verifier whose fit keeps a threshold of its own (not the best one on
// its training pairs): the protocol must use that threshold as it is.
struct preset_threshold_verifier : vf::l2_verifier {
  static constexpr double preset = -0.5;
  void fit(const vf::training_data& data) {
    vf::l2_verifier::fit(data);
    set_threshold(preset);
  }
  static preset_threshold_verifier load(const std::filesystem::path&) { return {}; }
  static preset_threshold_verifier from_record(const deepid::io::record_reader&) { return {}; }
};

TEST_CASE("ten-fold protocol: each fold decides at the threshold its verifier learnt") {
  // The best threshold (near -1) is right on every pair; the preset -0.5
  // calls about half the same pairs different.
  const std::size_t folds = 4;
  const auto [x, pairs, ids] = make_separable_folds(folds, 40, 5);
  const auto result = ev::run_ten_fold<preset_threshold_verifier>("preset", x, pairs, ids);
  REQUIRE(result.folds.size() == folds);
  for (const auto& f : result.folds) {
    CHECK(f.threshold == preset_threshold_verifier::preset);
    CHECK(f.train_accuracy < 0.9);  // measured at the preset, not the best (1.0)
    CHECK(f.accuracy < 0.9);
  }
  CHECK(ev::run_ten_fold<vf::l2_verifier>("l2", x, pairs, ids).mean_accuracy == doctest::Approx(1.0));
}

TEST_CASE("ten-fold protocol: standard error is sigma/sqrt(10) over fold accuracies") {
  // One-dimensional features where folds differ in difficulty.
  deepid::rng gen(5);
  deepid::matrix<float> x({400, 1});
  std::vector<ev::fold_pair> pairs;
  std::vector<int> ids(400);
  for (std::size_t i = 0; i < 200; ++i) {
    const bool same = i % 2;
    const int fold = int(i / 20);
    x(2 * i, 0) = 0;
    x(2 * i + 1, 0) = float((same ? 1.0 : 2.0) + (0.2 + 0.1 * fold) * gen.normal());
    ids[2 * i] = int(2 * i);
    ids[2 * i + 1] = same ? int(2 * i) : int(2 * i + 1);
    pairs.push_back({2 * i, 2 * i + 1, same, fold});
  }
  const auto r = ev::run_ten_fold<vf::l2_verifier>("l2", x, pairs, ids);
  double mean = 0, var = 0;
  for (const auto& f : r.folds) mean += f.accuracy / 10;
  for (const auto& f : r.folds) var += (f.accuracy - mean) * (f.accuracy - mean) / 9;
  CHECK(r.mean_accuracy == doctest::Approx(mean));
  CHECK(r.standard_error == doctest::Approx(std::sqrt(var / 10)));
  CHECK(r.mean_accuracy > 0.6);
  CHECK(r.mean_accuracy < 1.0);
}

TEST_CASE("ten-fold verifiers fitted on clean features score changed test features") {
  // 1-d features: same pairs 0.5 apart, different pairs 1.5 apart, so every
  // fold's l2 verifier learns a threshold on the distance within [0.5, 1.5].
  const std::size_t folds = 10, per_fold = 6;
  deepid::matrix<float> clean({folds * per_fold * 2, 1});
  std::vector<ev::fold_pair> pairs;
  std::vector<int> ids(clean.shape()[0]);
  for (std::size_t f = 0; f < folds; ++f)
    for (std::size_t k = 0; k < per_fold; ++k) {
      const std::size_t a = (f * per_fold + k) * 2, b = a + 1;
      const bool same = k % 2 == 0;
      clean(a, 0) = float(f);
      clean(b, 0) = float(f) + (same ? 0.5f : 1.5f);
      ids[a] = int(a);
      ids[b] = same ? int(a) : int(b);
      pairs.push_back({a, b, same, int(f)});
    }
  const ev::ten_fold_verifiers<vf::l2_verifier> fitted("l2", clean, pairs, ids);
  const auto on_clean = fitted.evaluate(clean, pairs);
  CHECK(on_clean.mean_accuracy == doctest::Approx(1.0));
  CHECK(on_clean.mean_accuracy == ev::run_ten_fold<vf::l2_verifier>("l2", clean, pairs, ids).mean_accuracy);

  // The test faces "changed": each second face moved 1.2 further, so every
  // pair is now farther apart than any threshold and called different. Rows
  // are re-indexed to a compact matrix of the test faces, as a study does.
  deepid::matrix<float> changed({pairs.size() * 2, 1});
  std::vector<ev::fold_pair> test = pairs;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    changed(2 * i, 0) = clean(pairs[i].first, 0);
    changed(2 * i + 1, 0) = clean(pairs[i].second, 0) + 1.2f;
    test[i].first = 2 * i, test[i].second = 2 * i + 1;
  }
  const auto on_changed = fitted.evaluate(changed, test);
  CHECK(on_changed.mean_accuracy == doctest::Approx(0.5));
  for (const auto& f : on_changed.folds) CHECK(f.accuracy == doctest::Approx(0.5));
  // Only the held-out folds' thresholds are used: the training accuracy is the clean fit's.
  CHECK(on_changed.folds[3].train_accuracy == on_clean.folds[3].train_accuracy);

  // A fold that was never fitted cannot be scored.
  std::vector<ev::fold_pair> unknown{{0, 1, true, 42}};
  CHECK_THROWS_WITH_AS(fitted.evaluate(clean, unknown), "l2: no verifier was fitted for fold 42", deepid::error);
}
