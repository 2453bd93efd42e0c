// Forward-backward greedy selection of feature groups (the search on a
// criterion, and greedy_selected<V> on synthetic groups with a known best
// subset), and DeepID2's grouped Joint Bayesian fused by a linear SVM.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <deepid/core/rng.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/feature_group_fusion.hpp>
#include <deepid/verify/greedy_selection.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pair_sampling.hpp>
#include <deepid/verify/pca.hpp>

#include "pair_accuracy.hpp"
#include "test_files.hpp"

namespace dp = deepid;
namespace vf = deepid::verify;
namespace fs = std::filesystem;

namespace {

// One thread unless a test asks for more: the test machines are shared.
const bool one_thread = (dp::set_num_threads(1), true);
const deepid_test::scratch_folder scratch{"greedy_selection"};

using group_list = std::vector<std::size_t>;

// Feature groups of `width` values per image. Group g of an image is
//   signal[g] > 0   the identity's own centre for the group (sd signal[g],
//                   independent across groups) plus image noise (sd noise)
//   signal[g] == 0  noise only, with the same total variance
//   signal[g] < 0   the negated values of group copy_of plus a little noise
//                   of its own (sd 0.8): redundant with that group
struct grouped_set {
  dp::matrix<float> x;
  std::vector<int> ids;
  std::vector<vf::labelled_pair> pairs;
};

grouped_set make_grouped(std::size_t identities, std::size_t per_identity, std::size_t width,
                         const std::vector<double>& signal, double noise, std::uint64_t seed,
                         std::size_t copy_of = 0, std::size_t pair_count = 2000) {
  dp::rng gen(seed);
  const std::size_t groups = signal.size(), d = groups * width;
  grouped_set s;
  s.x = dp::matrix<float>({identities * per_identity, d});
  for (std::size_t k = 0; k < identities; ++k) {
    std::vector<double> centre(d);
    for (std::size_t g = 0; g < groups; ++g)
      for (std::size_t j = 0; j < width; ++j) centre[g * width + j] = std::max(signal[g], 0.0) * gen.normal();
    for (std::size_t m = 0; m < per_identity; ++m) {
      const std::size_t row = k * per_identity + m;
      for (std::size_t g = 0; g < groups; ++g)
        for (std::size_t j = 0; j < width; ++j) {
          const std::size_t c = g * width + j;
          if (signal[g] > 0) s.x(row, c) = float(centre[c] + noise * gen.normal());
          else if (signal[g] == 0) s.x(row, c) = float(std::sqrt(1.0 + noise * noise) * gen.normal());
        }
      for (std::size_t g = 0; g < groups; ++g)
        if (signal[g] < 0)
          for (std::size_t j = 0; j < width; ++j)
            s.x(row, g * width + j) = -s.x(row, copy_of * width + j) + float(0.8 * gen.normal());
      s.ids.push_back(int(k));
    }
  }
  s.pairs = vf::sample_balanced_pairs(s.ids, pair_count, seed + 7);
  return s;
}

using deepid_test::accuracy;

group_list sorted(group_list g) {
  std::sort(g.begin(), g.end());
  return g;
}

using pca_jb = vf::with_pca<vf::joint_bayesian>;

// PCA (at most `components`, fewer for narrow selections) + Joint Bayesian, exact EM.
std::function<pca_jb(std::size_t)> pca_jb_of_width(std::size_t components) {
  return [components](std::size_t d) {
    vf::pca_options p;
    p.components = std::min(components, d);
    vf::joint_bayesian_options o;
    o.exact_em = true;
    return pca_jb(p, vf::joint_bayesian(o));
  };
}

// Groups 1, 4 and 6 carry independent identity evidence, 0, 2, 3 and 5 are
// noise, and 7 is a negated, noisier copy of group 1.
const std::vector<double> known_signal{0, 1, 0, 0, 1, 0, 1, -1};
constexpr std::size_t known_width = 6;

vf::greedy_selected_options known_options(std::size_t select) {
  vf::greedy_selected_options o;
  o.count = known_signal.size();
  o.search.select = select;
  // Chance moves the validation accuracy of a useless group by about 0.002.
  o.search.min_gain = 0.005;
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------
// The search on a given criterion

TEST_CASE("forward-backward search: a backward step drops a group that later groups made useless") {
  // Group 2 alone is best, so it goes in first; but 0 and 1 together beat
  // every set that holds 2, so once both are in, 2 is dropped.
  const std::map<group_list, double> table{
      {{0}, 0.70}, {{1}, 0.69}, {{2}, 0.80}, {{3}, 0.55},
      {{0, 2}, 0.85}, {{1, 2}, 0.83}, {{2, 3}, 0.79},
      {{0, 1, 2}, 0.90}, {{0, 2, 3}, 0.84},
      {{0, 1}, 0.95}, {{1, 2, 3}, 0.80}, {{0, 1, 2, 3}, 0.89},
      {{0, 1, 3}, 0.94}};
  std::size_t calls = 0;
  const vf::subset_accuracy criterion = [&](std::span<const std::size_t> s) {
    ++calls;
    const group_list key(s.begin(), s.end());
    REQUIRE(std::is_sorted(key.begin(), key.end()));
    const auto it = table.find(key);
    REQUIRE_MESSAGE(it != table.end(), "the search asked for a subset outside the table");
    return it->second;
  };
  vf::forward_backward_options o;
  o.select = 3;
  const auto r = vf::forward_backward_select(4, criterion, o);
  CHECK(r.groups == group_list{0, 1});
  REQUIRE(r.trace.size() == 4);
  CHECK((r.trace[0].added && r.trace[0].group == 2 && r.trace[0].accuracy == 0.80));
  CHECK((r.trace[1].added && r.trace[1].group == 0 && r.trace[1].accuracy == 0.85));
  CHECK((r.trace[2].added && r.trace[2].group == 1 && r.trace[2].accuracy == 0.90));
  CHECK((!r.trace[3].added && r.trace[3].group == 2 && r.trace[3].accuracy == 0.95));
  CHECK(r.accuracy == 0.95);
  // Adding 3 or 2 back does not help, so the search stops below K.
  CHECK(r.evaluations == calls);  // each subset scored once
  CHECK(r.evaluations == 11);

  // Forward only (K reached before a backward step could help) keeps group 2.
  o.select = 2;
  const auto two = vf::forward_backward_select(4, criterion, o);
  CHECK(two.groups == group_list{2, 0});
  CHECK(two.accuracy == 0.85);

  // min_gain: 0.85 -> 0.90 is not enough when it must exceed 0.06.
  o.select = 4;
  o.min_gain = 0.06;
  const auto strict = vf::forward_backward_select(4, criterion, o);
  CHECK(strict.groups == group_list{2});
  CHECK(strict.trace.size() == 1);
}

TEST_CASE("forward-backward search: ties go to the lowest group index; max_steps bounds the search") {
  const vf::subset_accuracy flat = [](std::span<const std::size_t> s) { return 0.5 + 0.1 * double(s.size()); };
  vf::forward_backward_options o;
  o.select = 3;
  const auto r = vf::forward_backward_select(5, flat, o);
  CHECK(r.groups == group_list{0, 1, 2});
  o.max_steps = 2;
  CHECK(vf::forward_backward_select(5, flat, o).groups == group_list{0, 1});
}

TEST_CASE("forward-backward search on per-group scores: the sum of the chosen groups' scores") {
  // Groups 0 and 2: the label (+-1) plus independent unit noise, about 84%
  // right alone and 92% summed; group 1 is noise, which only dilutes a sum.
  dp::rng gen(3);
  std::vector<vf::labelled_pair> pairs;
  std::vector<std::vector<double>> scores(3);
  for (std::size_t i = 0; i < 4000; ++i) {
    const bool same = i % 2 == 0;
    pairs.push_back({i, i, same});
    scores[0].push_back((same ? 1 : -1) + gen.normal());
    scores[1].push_back(gen.normal());
    scores[2].push_back((same ? 1 : -1) + gen.normal());
  }
  vf::forward_backward_options o;
  o.select = 3;
  const auto r = vf::forward_backward_select(scores, pairs, o);
  CHECK(sorted(r.groups) == group_list{0, 2});
  CHECK(r.trace.front().accuracy == doctest::Approx(0.84).epsilon(0.02));
  CHECK(r.accuracy == doctest::Approx(0.92).epsilon(0.02));
  CHECK(r.trace.size() == 2);

  // Bad input.
  auto nan = scores;
  nan[1][3] = std::nan("");
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(nan, pairs, o), doctest::Contains("not finite"), dp::error);
  auto short_one = scores;
  short_one[2].pop_back();
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(short_one, pairs, o), doctest::Contains("group 2 has 3999 scores"),
                       dp::error);
}

TEST_CASE("forward-backward search: bad input") {
  const vf::subset_accuracy any = [](std::span<const std::size_t>) { return 0.6; };
  vf::forward_backward_options o;
  o.select = 0;
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(4, any, o), doctest::Contains("K = 0 groups requested from 4"),
                       dp::error);
  o.select = 5;
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(4, any, o), doctest::Contains("K = 5 groups requested from 4"),
                       dp::error);
  o.select = 1;
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(0, any, o), doctest::Contains("no groups"), dp::error);
  o.min_gain = -1;
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(4, any, o), doctest::Contains("min_gain"), dp::error);
  o.min_gain = 0;
  const vf::subset_accuracy broken = [](std::span<const std::size_t>) { return std::nan(""); };
  CHECK_THROWS_WITH_AS(vf::forward_backward_select(4, broken, o), doctest::Contains("non-finite"), dp::error);
}

// ---------------------------------------------------------------------------
// greedy_selected<V>

TEST_CASE("greedy_selected: the search model's scores are Joint Bayesian's without EM on the subset's columns") {
  const auto s = make_grouped(40, 4, 3, {1, 0.5, 0, 1}, 1.0, 11);
  const auto bw = vf::detail::selection::between_within_covariances(s.x, s.ids, "test");
  const std::vector<std::size_t> columns{0, 1, 2, 9, 10, 11};  // groups 0 and 3
  dp::matrix<float> sub({s.x.shape()[0], columns.size()});
  vf::dmatrix centred(Eigen::Index(s.x.shape()[0]), Eigen::Index(columns.size()));
  for (std::size_t i = 0; i < s.x.shape()[0]; ++i)
    for (std::size_t c = 0; c < columns.size(); ++c) {
      sub(i, c) = s.x(i, columns[c]);
      centred(Eigen::Index(i), Eigen::Index(c)) = double(s.x(i, columns[c])) - bw.mean[Eigen::Index(columns[c])];
    }
  const auto s_mu = vf::detail::selection::principal_submatrix(bw.s_mu, columns, 1e-6);
  const auto s_eps = vf::detail::selection::principal_submatrix(bw.s_eps, columns, 1e-6);
  const auto fast = vf::detail::selection::closed_form_scores(s_mu, s_eps, centred, s.pairs);

  vf::joint_bayesian_options o;
  o.max_iterations = 0;
  vf::joint_bayesian direct(o);
  direct.fit({sub, s.ids, {}});
  CHECK(direct.iterations() == 0);
  CHECK((direct.s_mu() - s_mu).norm() < 1e-9 * direct.s_mu().norm());
  CHECK((direct.s_eps() - s_eps).norm() < 1e-9 * direct.s_eps().norm());
  const auto reference = direct.scores(sub, s.pairs);
  REQUIRE(fast.size() == reference.size());
  double largest = 0, worst = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    largest = std::max(largest, std::abs(reference[i]));
    worst = std::max(worst, std::abs(fast[i] - reference[i]));
  }
  CHECK(largest > 1);
  CHECK(worst < 1e-9 * largest);
}

TEST_CASE("greedy_selected: keeps exactly the informative groups, not noise or a redundant copy") {
  const auto train = make_grouped(300, 6, known_width, known_signal, 1.1, 21, 1);
  const auto test = make_grouped(100, 6, known_width, known_signal, 1.1, 22, 1);
  vf::greedy_selected<pca_jb> sel(known_options(known_signal.size()), pca_jb_of_width(24));
  sel.fit({train.x, train.ids, train.pairs});
  CHECK(sel.groups() == group_list{1, 4, 6});
  CHECK(sorted(sel.selection().groups) == group_list{1, 4, 6});
  CHECK(sel.inner().projection().input_dim() == 3 * known_width);
  // The trace rises at every step and ends on the selection's accuracy.
  const auto& trace = sel.selection().trace;
  REQUIRE(trace.size() >= 3);
  for (std::size_t i = 1; i < trace.size(); ++i) CHECK(trace[i].accuracy > trace[i - 1].accuracy);
  CHECK(trace.back().accuracy == sel.selection().accuracy);
  MESSAGE("validation accuracy after each step: " << trace[0].accuracy << " " << trace[1].accuracy << " "
                                                   << trace[2].accuracy);

  // On unseen people, the selection verifies better than any one group and
  // than Joint Bayesian on every group.
  const auto scores = sel.scores(test.x, test.pairs);
  const double acc = accuracy(scores, test.pairs, sel.threshold());
  vf::greedy_selected_options one = known_options(1);
  vf::greedy_selected<pca_jb> single(one, pca_jb_of_width(24));
  single.fit({train.x, train.ids, train.pairs});
  const double acc_single = accuracy(single.scores(test.x, test.pairs), test.pairs, single.threshold());
  auto all = pca_jb_of_width(24)(train.x.shape()[1]);
  all.fit({train.x, train.ids, train.pairs});
  const double acc_all = accuracy(all.scores(test.x, test.pairs), test.pairs, all.threshold());
  MESSAGE("test accuracy: selected " << acc << ", best single group " << acc_single << ", all groups " << acc_all);
  CHECK(single.groups().size() == 1);
  CHECK(acc > acc_single + 0.05);
  CHECK(acc > acc_all);

  // score(a, b) agrees with the batched scores.
  const auto& p = test.pairs[3];
  const std::size_t d = test.x.shape()[1];
  CHECK(sel.score({test.x.data() + p.first * d, d}, {test.x.data() + p.second * d, d}) == doctest::Approx(scores[3]));

  // K = 2 keeps two of the informative groups.
  vf::greedy_selected<pca_jb> two(known_options(2), pca_jb_of_width(24));
  two.fit({train.x, train.ids, train.pairs});
  REQUIRE(two.groups().size() == 2);
  for (auto g : two.groups()) CHECK((g == 1 || g == 4 || g == 6));
}

TEST_CASE("greedy_selected: search_components reduces each group before the search") {
  // Groups of 10 values whose identity signal lives in 3 directions.
  const auto base = make_grouped(160, 6, 3, {0, 1, 0, 1, 0}, 1.0, 31);
  dp::rng gen(32);
  const std::size_t n = base.x.shape()[0];
  dp::matrix<float> x({n, 50});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t g = 0; g < 5; ++g)
      for (std::size_t j = 0; j < 10; ++j)
        x(i, g * 10 + j) = j < 3 ? base.x(i, g * 3 + j) : float(0.3 * gen.normal());
  vf::greedy_selected_options o;
  o.count = 5;
  o.search.select = 5;
  o.search.min_gain = 0.005;
  o.search_components = 4;
  vf::greedy_selected<pca_jb> sel(o, pca_jb_of_width(12));
  sel.fit({x, base.ids, {}});
  CHECK(sel.groups() == group_list{1, 3});
  CHECK(sel.has_threshold());  // learnt on the validation pairs when fit gets no pairs
}

TEST_CASE("greedy_selected: the search can fit V itself for each subset") {
  // l2 distance: a noise group only adds noise to the distance.
  const std::vector<double> signal{1, 0, 0, 1, 0};
  const auto train = make_grouped(120, 5, 4, signal, 1.0, 41);
  vf::greedy_selected_options o;
  o.count = signal.size();
  o.search.select = 5;
  o.search.min_gain = 0.005;
  o.model = vf::selection_model::verifier;
  vf::greedy_selected<vf::l2_verifier> sel(o);
  sel.fit({train.x, train.ids, train.pairs});
  CHECK(sel.groups() == group_list{0, 3});
  CHECK(vf::greedy_selected<vf::l2_verifier>::kind() == "selected-l2");
}

TEST_CASE("greedy_selected: deterministic; save and load round trip") {
  const auto train = make_grouped(120, 5, known_width, known_signal, 1.3, 51, 1);
  const auto test = make_grouped(60, 5, known_width, known_signal, 1.3, 52, 1);
  vf::greedy_selected<pca_jb> a(known_options(4), pca_jb_of_width(24)), b(known_options(4), pca_jb_of_width(24));
  a.fit({train.x, train.ids, train.pairs});
  b.fit({train.x, train.ids, train.pairs});
  CHECK(a.selection().groups == b.selection().groups);
  REQUIRE(a.selection().trace.size() == b.selection().trace.size());
  for (std::size_t i = 0; i < a.selection().trace.size(); ++i) {
    CHECK(a.selection().trace[i].group == b.selection().trace[i].group);
    CHECK(a.selection().trace[i].accuracy == b.selection().trace[i].accuracy);
  }
  const auto scores = a.scores(test.x, test.pairs);
  CHECK(scores == b.scores(test.x, test.pairs));
  CHECK(a.threshold() == b.threshold());

  // Each step's subsets are scored in parallel: the thread count changes nothing.
  dp::set_num_threads(2);
  vf::greedy_selected<pca_jb> threaded(known_options(4), pca_jb_of_width(24));
  threaded.fit({train.x, train.ids, train.pairs});
  dp::set_num_threads(1);
  CHECK(threaded.selection().groups == a.selection().groups);
  CHECK(threaded.selection().accuracy == a.selection().accuracy);

  // Another seed holds out other people: still a valid selection.
  vf::greedy_selected_options other = known_options(4);
  other.seed = 99;
  vf::greedy_selected<pca_jb> c(other, pca_jb_of_width(24));
  c.fit({train.x, train.ids, train.pairs});
  CHECK(!c.groups().empty());

  const fs::path path = scratch("save_load") / "greedy_selection.rec";
  a.save(path);
  const auto back = vf::greedy_selected<pca_jb>::load(path);
  CHECK(back.groups() == a.groups());
  CHECK(back.selection().groups == a.selection().groups);
  CHECK(back.selection().trace.size() == a.selection().trace.size());
  CHECK(back.selection().accuracy == a.selection().accuracy);
  CHECK(back.widths() == a.widths());
  CHECK(back.threshold() == a.threshold());
  CHECK(back.scores(test.x, test.pairs) == scores);
  CHECK_THROWS_AS(vf::greedy_selected<vf::l2_verifier>::load(path), dp::error);  // another kind
}

TEST_CASE("greedy_selected: bad input") {
  const auto train = make_grouped(40, 4, 3, {1, 0, 1, 0}, 1.0, 61);
  const vf::training_data data{train.x, train.ids, train.pairs};
  const auto message = [&](vf::greedy_selected_options o) {
    try {
      vf::greedy_selected<pca_jb>(o, pca_jb_of_width(4)).fit(data);
    } catch (const dp::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  vf::greedy_selected_options o;
  o.count = 4;
  o.search.select = 0;
  CHECK(message(o).find("K = 0 groups requested from 4") != std::string::npos);
  o.search.select = 5;
  CHECK(message(o).find("K = 5 groups requested from 4") != std::string::npos);
  o.search.select = 2;
  o.widths = {3, 3, 3, 2};
  CHECK(message(o).find("the group widths sum to 11 dimensions, the features have 12") != std::string::npos);
  o.widths = {3, 0, 6, 3};
  CHECK(message(o).find("width 0") != std::string::npos);
  o.widths.clear();
  o.count = 5;
  CHECK(message(o).find("cannot split 12 dimensions into 5 equal groups") != std::string::npos);
  o.count = 4;
  o.validation_fraction = 1.0;
  CHECK(message(o).find("validation_fraction") != std::string::npos);
  o.validation_fraction = 0.25;
  CHECK(message(o) == "no error");

  vf::greedy_selected<pca_jb> sel(o, pca_jb_of_width(4));
  CHECK_THROWS_WITH_AS(sel.fit({train.x, {}, train.pairs}), doctest::Contains("one identity label per row"), dp::error);
  const std::vector<int> three_people{0, 0, 0, 1, 1, 1, 2, 2, 2};
  dp::matrix<float> small({9, 12});
  for (std::size_t i = 0; i < small.size(); ++i) small.data()[i] = float(i % 7);
  CHECK_THROWS_WITH_AS(sel.fit({small, three_people, {}}), doctest::Contains("at least 4 identities, got 3"), dp::error);
  CHECK_THROWS_WITH_AS(sel.scores(train.x, train.pairs), doctest::Contains("not fitted"), dp::error);
  sel.fit(data);
  dp::matrix<float> narrow({4, 10});
  CHECK_THROWS_WITH_AS(sel.scores(narrow, std::vector<vf::labelled_pair>{{0, 1, true}}),
                       doctest::Contains("sum to 12 dimensions, the features have 10"), dp::error);
  CHECK_THROWS_WITH_AS(sel.scores(train.x, std::vector<vf::labelled_pair>{{0, 100000, true}}),
                       doctest::Contains("refers to row 100000"), dp::error);
}

static_assert(vf::verifier<vf::greedy_selected<pca_jb>>);
static_assert(vf::verifier<vf::greedy_selected<vf::l2_verifier>>);

// ---------------------------------------------------------------------------
// DeepID2's grouped Joint Bayesian fused by a linear SVM

TEST_CASE("feature_group_fusion of PCA + Joint Bayesian beats its best single group") {
  // Four groups, each with its own independent identity evidence: every
  // group alone confuses many pairs, rarely the same ones.
  const std::vector<double> signal{1, 1, 1, 1};
  const auto train = make_grouped(150, 6, 8, signal, 1.6, 71);
  const auto test = make_grouped(100, 6, 8, signal, 1.6, 72);
  vf::feature_group_options o;
  o.count = 4;
  vf::feature_group_fusion<pca_jb> fused(o, [](std::size_t) { return pca_jb_of_width(6)(8); });
  fused.fit({train.x, train.ids, train.pairs});
  const double acc_fused = accuracy(fused.scores(test.x, test.pairs), test.pairs, fused.threshold());
  const auto parts = fused.member_scores(test.x, test.pairs);
  REQUIRE(parts.size() == 4);
  double best_single = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(fused.members()[k].projection().components() == 6);
    best_single = std::max(best_single, accuracy(parts[k], test.pairs, fused.members()[k].threshold()));
  }
  MESSAGE("test accuracy: best single group " << best_single << ", fused " << acc_fused);
  CHECK(acc_fused > best_single + 0.05);
  // Every group's JB score gets a positive weight (higher = same for all).
  for (double w : fused.fusion().raw_weights()) CHECK(w > 0);
}
