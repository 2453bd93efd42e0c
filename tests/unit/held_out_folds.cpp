// Training on LFW people without ever training on a test fold's people: the
// fold lists, the LFW training set of a hold-out, the check every training
// run makes, combined training sets, and the protocol's per-fold parts; and
// training identities held out of the nets for a verifier to learn from.
#include <doctest/doctest.h>

#include <deepid/eval/held_out_folds.hpp>
#include <deepid/eval/protocol.hpp>
#include <deepid/face/face_set.hpp>
#include <deepid/face/identity_subset.hpp>
#include <deepid/face/synthetic_set.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/prefitted.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace ev = deepid::eval;
namespace fc = deepid::face;

namespace {
const deepid_test::scratch_folder scratch{"held_out_folds"};

// A fake LFW folder: names, pairs over three folds, landmarks for every
// image but one, and an (empty) image folder; selection reads no pixels.
//   fold 0: Ann (3 images), Bob (2)     fold 1: Cid (4), Dee (1)
//   fold 2: Eve (2), Fay (2)            in no pair: Gus (5), Hal (1)
std::filesystem::path fake_lfw() {
  const auto root = scratch("lfw");
  std::filesystem::create_directories(root / "lfw-deepfunneled");
  const std::vector<std::pair<std::string, int>> people = {{"Ann", 3}, {"Bob", 2}, {"Cid", 4}, {"Dee", 1},
                                                           {"Eve", 2}, {"Fay", 2}, {"Gus", 5}, {"Hal", 1}};
  std::ofstream names(root / "lfw-names.txt"), marks(root / "landmarks_deepfunneled_yunet.txt");
  for (const auto& [name, count] : people) {
    names << name << "\t" << count << "\n";
    for (int i = 1; i <= count; ++i) {
      if (name == "Gus" && i == 2) continue;  // YuNet found no face
      marks << fc::lfw_image_name(name, i) << " 100 110 140 110 120 130 105 150 135 150\n";
    }
  }
  std::ofstream pairs(root / "pairs.txt");
  pairs << "3\t1\n"
        << "Ann\t1\t2\n" << "Ann\t3\tBob\t1\n"
        << "Cid\t1\t4\n" << "Cid\t2\tDee\t1\n"
        << "Eve\t1\t2\n" << "Eve\t2\tFay\t1\n";
  return root;
}

std::set<std::string> people_of(const fc::face_set& set, const std::string& prefix = "") {
  std::set<std::string> out;
  for (const auto& f : set.faces) {
    if (f.image.compare(0, prefix.size(), prefix) != 0) continue;
    const auto name = f.image.substr(prefix.size());
    out.insert(name.substr(0, name.find('/')));
  }
  return out;
}
}  // namespace

TEST_CASE("Fold lists: ranges and single folds, each below the fold count; nonsense is refused") {
  CHECK(ev::parse_folds("0-4", 10) == std::set<int>{0, 1, 2, 3, 4});
  CHECK(ev::parse_folds("0-2,8", 10) == std::set<int>{0, 1, 2, 8});
  CHECK(ev::parse_folds("9", 10) == std::set<int>{9});
  CHECK(ev::format_folds({0, 1, 7}) == "0,1,7");
  for (const char* bad : {"", "10", "-1", "4-2", "a", "1,,2", "0-x", "3.5"})
    CHECK_THROWS_AS(ev::parse_folds(bad, 10), deepid::error);
}

TEST_CASE("The people of each fold; a person in two folds is refused") {
  const auto pairs = fc::read_lfw_pairs(fake_lfw() / "pairs.txt");
  const auto people = ev::fold_people(pairs);
  REQUIRE(people.size() == 3);
  CHECK(people[0] == std::set<std::string>{"Ann", "Bob"});
  CHECK(people[1] == std::set<std::string>{"Cid", "Dee"});
  CHECK(people[2] == std::set<std::string>{"Eve", "Fay"});
  auto leaky = pairs;
  leaky[5].second = "Ann/Ann_0002.jpg";  // Ann also in fold 2
  CHECK_THROWS_WITH_AS(ev::fold_people(leaky), doctest::Contains("Ann is in folds 0 and 2"), deepid::error);
}

TEST_CASE("LFW training people leave out exactly the held-out folds' people, and single-image people") {
  const auto lfw = fc::lfw_dataset::open(fake_lfw());
  const auto pairs = lfw.view2_pairs();
  {
    const auto set = ev::lfw_training_people(lfw, pairs, {0});
    // Ann, Bob: held out. Dee, Hal: one image. Gus: 4 of 5 images have landmarks.
    CHECK(people_of(set) == std::set<std::string>{"Cid", "Eve", "Fay", "Gus"});
    CHECK(set.identity_names == std::vector<std::string>{"Cid", "Eve", "Fay", "Gus"});
    CHECK(set.faces.size() == 4 + 2 + 2 + 4);
    CHECK(set.problems.size() == 1);
  }
  {
    const auto set = ev::lfw_training_people(lfw, pairs, {1, 2});
    CHECK(people_of(set) == std::set<std::string>{"Ann", "Bob", "Gus"});
  }
  {
    ev::lfw_training_options o;
    o.max_images = 2;
    const auto set = ev::lfw_training_people(lfw, pairs, {2}, o);
    CHECK(set.faces.size() == 2 + 2 + 2 + 2);  // Ann, Bob, Cid, Gus: two images each
    CHECK(set.faces.front().image == "Ann/Ann_0001.jpg");
  }
  CHECK_THROWS_WITH_AS(ev::lfw_training_people(lfw, pairs, {3}), doctest::Contains("held-out fold 3"), deepid::error);
}

TEST_CASE("Every hold-out of one or two folds keeps their people out of the training set") {
  // The check independent of lfw_training_people: for each group of folds,
  // no training face is of a person named in the pairs of those folds.
  const auto lfw = fc::lfw_dataset::open(fake_lfw());
  const auto pairs = lfw.view2_pairs();
  for (const auto& held : std::vector<std::set<int>>{{0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}}) {
    const auto set = ev::lfw_training_people(lfw, pairs, held);
    const auto trained = people_of(set);
    for (const auto& p : pairs) {
      if (!held.count(p.fold)) continue;
      for (const auto& image : {p.first, p.second}) CHECK(trained.count(image.substr(0, image.find('/'))) == 0);
    }
  }
}

TEST_CASE("The training check finds a held-out person slipped into a combined set") {
  const auto lfw = fc::lfw_dataset::open(fake_lfw());
  const auto pairs = lfw.view2_pairs();
  const auto people = ev::fold_people(pairs);
  fc::face_set other;
  other.images = fc::image_store::from_function([](const std::string&) { return cv::Mat(); });
  other.identity_names = {"Ann"};  // another data set's "Ann" is not LFW's: not checked
  other.faces.push_back({"Ann/Ann_0001.jpg", 0, {}});
  auto combined = fc::combine({{"celeba", other}, {"lfw", ev::lfw_training_people(lfw, pairs, {0})}});
  CHECK_NOTHROW(ev::check_held_out(combined, people, {0}));
  CHECK(combined.identity_names.front() == "celeba:Ann");
  CHECK(combined.faces.front().image == "celeba:Ann/Ann_0001.jpg");
  CHECK(combined.faces.back().image.rfind("lfw:Gus/", 0) == 0);
  CHECK(combined.faces.back().identity == int(combined.identities()) - 1);

  combined.faces.push_back({"lfw:Bob/Bob_0002.jpg", 1, {}});
  CHECK_THROWS_WITH_AS(ev::check_held_out(combined, people, {0}),
                       doctest::Contains("Bob/Bob_0002.jpg is of Bob, a person of held-out LFW fold 0"), deepid::error);
  // The set was made for fold 0: it holds fold 1's Cid, so it may not train
  // nets that test fold 1.
  CHECK_THROWS_WITH_AS(ev::check_held_out(combined, people, {1}), doctest::Contains("Cid"), deepid::error);
}

TEST_CASE("A random subset of identities: nested over counts, relabelled in order, faces kept whole") {
  auto set = fc::synthetic_face_set(10, 3);
  const auto five = fc::keep_identities(set, 5, 7);
  const auto eight = fc::keep_identities(set, 8, 7);
  REQUIRE(five.identities() == 5);
  CHECK(five.faces.size() == 15);
  // Labels 0..4 in the original order, each with its three faces.
  for (std::size_t k = 1; k < five.identities(); ++k) CHECK(five.identity_names[k - 1] < five.identity_names[k]);
  for (const auto& f : five.faces) {
    const auto original = std::find_if(set.faces.begin(), set.faces.end(), [&](const fc::labelled_face& g) { return g.image == f.image; });
    REQUIRE(original != set.faces.end());
    CHECK(set.identity_names[std::size_t(original->identity)] == five.identity_names[std::size_t(f.identity)]);
  }
  for (const auto& name : five.identity_names)
    CHECK(std::find(eight.identity_names.begin(), eight.identity_names.end(), name) != eight.identity_names.end());
  // Another seed draws another subset; every identity drawn is the whole set.
  CHECK(fc::keep_identities(set, 5, 8).identity_names != five.identity_names);
  CHECK(fc::keep_identities(set, 10, 7).faces.size() == set.faces.size());
  CHECK_THROWS_WITH_AS(fc::keep_identities(set, 11, 7), doctest::Contains("11 identities asked of a set of 10"),
                       deepid::error);
}

TEST_CASE("Held-out identities: disjoint from the kept ones, growing with the count; a named subset") {
  const auto set = fc::synthetic_face_set(10, 3);
  const auto three = fc::hold_out_identities(set, 3, 7);
  const auto five = fc::hold_out_identities(set, 5, 7);
  REQUIRE(three.held_out.size() == 3);
  CHECK(three.kept.identities() == 7);
  CHECK(three.kept.faces.size() == 21);
  CHECK(std::is_sorted(three.held_out.begin(), three.held_out.end()));
  // Kept and held out are disjoint and make up the whole set.
  std::set<std::string> all(three.held_out.begin(), three.held_out.end());
  for (const auto& name : three.kept.identity_names) CHECK(all.insert(name).second);
  CHECK(all.size() == 10);
  // A larger count holds out every identity a smaller one did.
  for (const auto& name : three.held_out)
    CHECK(std::find(five.held_out.begin(), five.held_out.end(), name) != five.held_out.end());
  CHECK_THROWS_WITH_AS(fc::hold_out_identities(set, 9, 7), doctest::Contains("at least 2 must remain"), deepid::error);

  // The held-out people's faces, relabelled in the set's order.
  const auto people = fc::only_identities(set, three.held_out, "test");
  REQUIRE(people.identities() == 3);
  CHECK(people.identity_names == three.held_out);
  CHECK(people.faces.size() == 9);
  for (const auto& f : people.faces) {
    const auto original = std::find_if(set.faces.begin(), set.faces.end(), [&](const fc::labelled_face& g) { return g.image == f.image; });
    REQUIRE(original != set.faces.end());
    CHECK(set.identity_names[std::size_t(original->identity)] == people.identity_names[std::size_t(f.identity)]);
  }
  CHECK_THROWS_WITH_AS(fc::only_identities(set, {three.held_out[0], "nobody"}, "list.txt"),
                       doctest::Contains("list.txt: identity 'nobody' is not in the set"), deepid::error);
}

TEST_CASE("A verifier learnt once from held-out identities: the folds learn only its threshold") {
  // 2-d features. The folds' people vary along x; the outside people along
  // y, so a Joint Bayesian model of either differs from the other's.
  namespace vf = deepid::verify;
  deepid::rng gen(5);
  const auto people = [&](int count, int images, bool along_x, deepid::matrix<float>& x, std::vector<int>& ids) {
    x = deepid::matrix<float>({std::size_t(count * images), 2});
    ids.clear();
    for (int p = 0; p < count; ++p) {
      const double cx = 4 * gen.normal(), cy = 4 * gen.normal();
      for (int k = 0; k < images; ++k) {
        const std::size_t r = std::size_t(p * images + k);
        x(r, 0) = float(cx + (along_x ? 2.0 : 0.3) * gen.normal());
        x(r, 1) = float(cy + (along_x ? 0.3 : 2.0) * gen.normal());
        ids.push_back(p);
      }
    }
  };
  deepid::matrix<float> outside, x;
  std::vector<int> outside_ids, ids;
  people(60, 4, false, outside, outside_ids);
  const int folds = 4;
  people(folds * 6, 3, true, x, ids);
  std::vector<ev::fold_pair> pairs;
  for (int f = 0; f < folds; ++f)
    for (std::size_t p = 0; p < 6; ++p) {
      const std::size_t a = std::size_t(f * 18) + 3 * p, b = std::size_t(f * 18) + 3 * ((p + 1) % 6);
      pairs.push_back({a, a + 1 + p % 2, true, f});
      pairs.push_back({a, b + 2, false, f});
    }
  const vf::joint_bayesian_options exact{.exact_em = true};
  vf::joint_bayesian direct(exact);
  direct.fit({outside, outside_ids});
  const auto shared = vf::prefitted<vf::joint_bayesian>::fit_once(vf::joint_bayesian(exact), {outside, outside_ids});
  const ev::ten_fold_verifiers<vf::prefitted<vf::joint_bayesian>> protocol(
      "jb", x, pairs, ids, [&] { return shared; }, ev::training_images::people);
  const auto r = protocol.evaluate(x, pairs);
  REQUIRE(r.folds.size() == std::size_t(folds));
  // Scores are the outside model's; each threshold is the best on the other folds' pairs.
  for (int f = 0; f < folds; ++f) {
    std::vector<vf::labelled_pair> test, train;
    std::vector<char> train_same;
    for (const auto& p : pairs)
      if (p.fold == f) test.push_back({p.first, p.second, p.same});
      else train.push_back({p.first, p.second, p.same}), train_same.push_back(p.same);
    const auto test_scores = direct.scores(x, test);
    std::size_t k = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i)
      if (pairs[i].fold == f) CHECK(r.scores[i] == test_scores[k++]);
    const auto best = deepid::verify::best_threshold(direct.scores(x, train),
                                         std::span<const bool>(reinterpret_cast<const bool*>(train_same.data()), train_same.size()));
    CHECK(r.folds[std::size_t(f)].threshold == best.threshold);
  }
  // A model learnt from the folds' own people scores otherwise.
  const auto own = ev::run_ten_fold<vf::joint_bayesian>("jb", x, pairs, ids, [&] { return vf::joint_bayesian(exact); },
                                                        ev::training_images::people);
  CHECK(own.scores != r.scores);
  CHECK_THROWS_WITH_AS(vf::prefitted<vf::joint_bayesian>(std::make_shared<const vf::joint_bayesian>()),
                       doctest::Contains("not fitted"), deepid::error);
}

TEST_CASE("A tagged store routes names to their store and names the missing tag") {
  int calls_a = 0, calls_b = 0;
  auto a = fc::image_store::from_function([&](const std::string& n) {
    ++calls_a;
    CHECK(n == "x/1.jpg");
    return cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3));
  });
  auto b = fc::image_store::from_function([&](const std::string& n) {
    ++calls_b;
    CHECK(n == "y/2.jpg");
    return cv::Mat(2, 2, CV_8UC3);
  });
  const auto store = fc::image_store::tagged({{"a", a}, {"bb", b}});
  CHECK(store.load("a:x/1.jpg").rows == 1);
  CHECK(store.load("bb:y/2.jpg").rows == 2);
  CHECK(calls_a == 1);
  CHECK(calls_b == 1);
  CHECK_FALSE(store.contains("b:y/2.jpg"));
  CHECK_THROWS_WITH_AS(store.load("c:z.jpg"), doctest::Contains("names no tagged store"), deepid::error);
  CHECK_THROWS_AS(fc::image_store::tagged({{"a:b", a}}), deepid::error);
}

TEST_CASE("Held-out fold files round-trip; a missing file means the nets saw no LFW person") {
  const auto path = ev::held_out_folds_path_of_features(scratch("fold_files") / "f.npy");
  CHECK(path.filename() == "f.held_out_folds.txt");
  CHECK_FALSE(ev::read_held_out_folds(path).has_value());
  ev::write_held_out_folds(path, {5, 6, 7, 8, 9}, "a note");
  CHECK(ev::read_held_out_folds(path) == std::set<int>{5, 6, 7, 8, 9});
  std::ofstream(path) << "# nothing\n";
  CHECK_THROWS_WITH_AS(ev::read_held_out_folds(path), doctest::Contains("no fold list"), deepid::error);
  std::ofstream(path) << "0-12\n";
  CHECK_THROWS_WITH_AS(ev::read_held_out_folds(path), doctest::Contains(path.string().c_str()), deepid::error);
}

TEST_CASE("Protocol parts: each fits only its folds, and the merged result equals the whole protocol") {
  // 4 people per fold, 3 images each, 1-d features: person p at 10 p, plus
  // image noise, so the distances separate most pairs.
  const int folds = 4;
  deepid::matrix<float> x({std::size_t(folds * 4 * 3), 1});
  std::vector<int> ids;
  for (int i = 0; i < folds * 12; ++i) {
    ids.push_back(i / 3);
    x.data()[i] = float(10 * (i / 3) + ((i * 7) % 5) * 1.5);
  }
  std::vector<ev::fold_pair> pairs;
  for (int f = 0; f < folds; ++f) {
    const std::size_t base = std::size_t(f * 12);
    for (std::size_t p = 0; p < 4; ++p) pairs.push_back({base + 3 * p, base + 3 * p + 1 + p % 2, true, f});
    for (std::size_t p = 0; p < 4; ++p) pairs.push_back({base + 3 * p, base + 3 * ((p + 1) % 4) + 2, false, f});
  }
  const auto whole = ev::run_ten_fold<deepid::verify::l2_verifier>("l2", x, pairs, ids);
  const auto make = [] { return deepid::verify::l2_verifier{}; };
  const ev::ten_fold_verifiers<deepid::verify::l2_verifier> first("l2", x, pairs, ids, make,
                                                                   ev::training_images::pairs_only, {0, 1});
  const ev::ten_fold_verifiers<deepid::verify::l2_verifier> second("l2", x, pairs, ids, make,
                                                                    ev::training_images::pairs_only, {2, 3});
  const std::vector<ev::protocol_result> parts{first.evaluate(x, pairs), second.evaluate(x, pairs)};
  CHECK(parts[0].folds.size() == 2);
  CHECK(parts[0].folds[0].fold == 0);
  const auto merged = ev::merge_fold_results("l2", parts, pairs);
  REQUIRE(merged.folds.size() == whole.folds.size());
  for (std::size_t f = 0; f < merged.folds.size(); ++f) {
    CHECK(merged.folds[f].fold == whole.folds[f].fold);
    CHECK(merged.folds[f].accuracy == whole.folds[f].accuracy);
  }
  CHECK(merged.mean_accuracy == whole.mean_accuracy);
  CHECK(merged.standard_error == whole.standard_error);
  CHECK(merged.auc == whole.auc);
  CHECK(merged.scores == whole.scores);

  CHECK_THROWS_WITH_AS(ev::merge_fold_results("l2", std::vector<ev::protocol_result>{parts[0]}, pairs),
                       doctest::Contains("no feature set scores fold 2"), deepid::error);
  CHECK_THROWS_WITH_AS(ev::merge_fold_results("l2", std::vector<ev::protocol_result>{parts[0], parts[0]}, pairs),
                       doctest::Contains("fold 0 is scored by two feature sets"), deepid::error);
  CHECK_THROWS_WITH_AS((ev::ten_fold_verifiers<deepid::verify::l2_verifier>("l2", x, pairs, ids, make,
                                                                            ev::training_images::pairs_only, {7})),
                       doctest::Contains("fold 7 has no pairs"), deepid::error);
}

TEST_CASE("A fold's verifier learns only from the folds it is given (the nets' unseen people)") {
  // 4 folds of 4 people, 3 images each, 1-d features; folds 2 and 3 are
  // spread 5 times wider, so a threshold learnt from them differs.
  const int folds = 4;
  deepid::matrix<float> x({std::size_t(folds * 12), 1});
  std::vector<int> ids;
  for (int i = 0; i < folds * 12; ++i) {
    ids.push_back(i / 3);
    x.data()[i] = float((10 * (i / 3) + ((i * 7) % 5) * 1.5) * (i / 12 >= 2 ? 5 : 1));
  }
  std::vector<ev::fold_pair> pairs;
  for (int f = 0; f < folds; ++f) {
    const std::size_t base = std::size_t(f * 12);
    for (std::size_t p = 0; p < 4; ++p) pairs.push_back({base + 3 * p, base + 3 * p + 1 + p % 2, true, f});
    for (std::size_t p = 0; p < 4; ++p) pairs.push_back({base + 3 * p, base + 3 * ((p + 1) % 4) + 2, false, f});
  }
  // The threshold fold 0's verifier must choose: the best on fold 1's pairs alone.
  std::vector<deepid::verify::labelled_pair> fold1;
  std::vector<char> fold1_same;
  for (const auto& p : pairs)
    if (p.fold == 1) fold1.push_back({p.first, p.second, p.same}), fold1_same.push_back(p.same);
  const auto fold1_scores = deepid::verify::l2_verifier{}.scores(x, fold1);
  const auto expected = deepid::verify::best_threshold(
      fold1_scores, std::span<const bool>(reinterpret_cast<const bool*>(fold1_same.data()), fold1_same.size()));

  const auto make = [] { return deepid::verify::l2_verifier{}; };
  for (const auto images : {ev::training_images::pairs_only, ev::training_images::people}) {
    const ev::ten_fold_verifiers<deepid::verify::l2_verifier> unseen("l2", x, pairs, ids, make, images, {0, 1}, {0, 1});
    const auto r = unseen.evaluate(x, pairs);
    REQUIRE(r.folds.size() == 2);
    CHECK(r.folds[0].fold == 0);
    CHECK(r.folds[0].threshold == expected.threshold);
    CHECK(r.folds[0].train_accuracy == expected.accuracy);
    // Without the restriction fold 0 learns from folds 1-3, whose wider spread moves the threshold.
    const ev::ten_fold_verifiers<deepid::verify::l2_verifier> all("l2", x, pairs, ids, make, images, {0, 1});
    CHECK(all.evaluate(x, pairs).folds[0].threshold != expected.threshold);
  }
  CHECK_THROWS_WITH_AS((ev::ten_fold_verifiers<deepid::verify::l2_verifier>("l2", x, pairs, ids, make,
                                                                            ev::training_images::pairs_only, {0}, {0})),
                       doctest::Contains("fold 0 has no training fold to learn from"), deepid::error);
  CHECK_THROWS_WITH_AS((ev::ten_fold_verifiers<deepid::verify::l2_verifier>("l2", x, pairs, ids, make,
                                                                            ev::training_images::pairs_only, {0}, {0, 9})),
                       doctest::Contains("fold 9 (to learn from) has no pairs"), deepid::error);
}
