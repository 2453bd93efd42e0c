// Joint Bayesian and PCA on data a user may well hand them: one image per
// person, duplicated rows, zero-variance columns, two rows, more dimensions
// than rows, tiny and huge scales. Each fit either throws deepid::error with
// a message or gives a model whose every score is finite; never NaN.
#include <doctest/doctest.h>

#include <deepid/core/rng.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace dp = deepid;
namespace vf = deepid::verify;

namespace {

// n rows of d Gaussian values around a centre per identity (spread 1,
// within-identity noise `noise`), identity of row i = i % identities.
struct data_set {
  dp::matrix<float> x;
  std::vector<int> ids;
};

data_set gaussian(std::size_t n, std::size_t d, std::size_t identities, double noise, std::uint64_t seed) {
  dp::rng gen(seed);
  std::vector<double> centres(identities * d);
  for (auto& c : centres) c = gen.normal();
  data_set s{dp::matrix<float>::from_shape({n, d}), {}};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t id = i % identities;
    s.ids.push_back(int(id));
    for (std::size_t j = 0; j < d; ++j) s.x.data()[i * d + j] = float(centres[id * d + j] + noise * gen.normal());
  }
  return s;
}

// Every pair of rows of the training data, then of fresh rows from the same
// centres: scores of a fitted model must all be finite.
std::vector<vf::labelled_pair> all_pairs(const std::vector<int>& ids) {
  std::vector<vf::labelled_pair> pairs;
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = i + 1; j < ids.size(); ++j) pairs.push_back({i, j, ids[i] == ids[j]});
  return pairs;
}

// "threw: <message>" or "finite" or "NaN/Inf score ...": fits V on `s` and
// scores every pair of its rows and of `fresh`.
template <class V>
std::string outcome(V v, const data_set& s, const data_set& fresh) {
  try {
    v.fit(vf::training_data{s.x, s.ids});
  } catch (const dp::error& e) {
    const std::string message = e.what();
    return message.empty() ? "threw an empty message" : "threw: " + message;
  }
  for (const data_set* rows : {&s, &fresh}) {
    const auto pairs = all_pairs(rows->ids);
    const auto scores = v.scores(rows->x, pairs);
    for (std::size_t p = 0; p < scores.size(); ++p)
      if (!std::isfinite(scores[p]))
        return "score " + std::to_string(scores[p]) + " for rows " + std::to_string(pairs[p].first) + " and " +
               std::to_string(pairs[p].second);
  }
  return "finite";
}

bool threw_or_finite(const std::string& result) { return result == "finite" || result.rfind("threw: ", 0) == 0; }

vf::pca_options components(std::size_t k, bool whiten = false) {
  vf::pca_options o;
  o.components = k;
  o.whiten = whiten;
  return o;
}

}  // namespace

TEST_CASE("degenerate data: Joint Bayesian throws deepid::error or scores finitely") {
  const auto fresh = gaussian(8, 6, 4, 0.3, 99);

  SUBCASE("one image per person: refused, S_eps cannot be learnt") {
    const auto s = gaussian(6, 6, 6, 0.3, 1);
    const auto r = outcome(vf::joint_bayesian{}, s, fresh);
    INFO(r);
    CHECK(r.find("threw: joint_bayesian: every identity has a single image") == 0);
  }
  SUBCASE("every identity's images duplicated: refused") {
    const auto s = gaussian(12, 6, 4, 0.0, 2);
    const auto r = outcome(vf::joint_bayesian{}, s, fresh);
    INFO(r);
    CHECK(r.find("threw: joint_bayesian: the images of each identity are identical") == 0);
  }
  SUBCASE("one identity duplicated among varied ones: finite") {
    auto s = gaussian(12, 6, 4, 0.3, 3);
    for (std::size_t j = 0; j < 6; ++j) s.x.data()[4 * 6 + j] = s.x.data()[0 * 6 + j];  // rows 0 and 4: identity 0
    const auto r = outcome(vf::joint_bayesian{}, s, fresh);
    INFO(r);
    CHECK(r == "finite");
  }
  SUBCASE("zero-variance columns: finite (the ridge keeps the covariances invertible)") {
    auto s = gaussian(12, 6, 4, 0.3, 4);
    auto f = fresh;
    for (auto* m : {&s.x, &f.x})
      for (std::size_t i = 0; i < m->shape()[0]; ++i) m->data()[i * 6 + 2] = 7.0f, m->data()[i * 6 + 5] = 0.0f;
    const auto r = outcome(vf::joint_bayesian{}, s, f);
    INFO(r);
    CHECK(r == "finite");
  }
  SUBCASE("two rows") {
    const auto same = gaussian(2, 6, 1, 0.3, 5);
    const auto r1 = outcome(vf::joint_bayesian{}, same, fresh);
    INFO(r1);
    CHECK(r1.find("threw: joint_bayesian: the training data hold 1 identity") == 0);
    const auto two = gaussian(2, 6, 2, 0.3, 6);
    const auto r2 = outcome(vf::joint_bayesian{}, two, fresh);
    INFO(r2);
    CHECK(r2.find("threw: joint_bayesian: every identity has a single image") == 0);
  }
  SUBCASE("every row the same: refused") {
    auto s = gaussian(8, 6, 4, 0.3, 7);
    for (std::size_t i = 0; i < 8 * 6; ++i) s.x.data()[i] = 1.5f;
    const auto r = outcome(vf::joint_bayesian{}, s, fresh);
    INFO(r);
    CHECK(r.find("threw: joint_bayesian: every training feature row is the same") == 0);
  }
  SUBCASE("more dimensions than rows, tiny and huge scales: threw or finite") {
    for (const double scale : {1.0, 1e-30, 1e30}) {
      auto s = gaussian(9, 40, 3, 0.3, 8);
      auto f = gaussian(6, 40, 3, 0.3, 9);
      for (auto* m : {&s.x, &f.x})
        for (std::size_t i = 0; i < m->size(); ++i) m->data()[i] = float(m->data()[i] * scale);
      const auto r = outcome(vf::joint_bayesian{}, s, f);
      INFO("scale " << scale << ": " << r);
      CHECK(threw_or_finite(r));
    }
  }
}

TEST_CASE("degenerate data: PCA (+ Joint Bayesian) throws deepid::error or scores finitely") {
  const auto fresh = gaussian(8, 6, 4, 0.3, 99);
  using pca_jb = vf::with_pca<vf::joint_bayesian>;

  SUBCASE("two rows: one component fits, two are refused") {
    const auto s = gaussian(2, 6, 2, 0.3, 10);
    vf::pca p(components(1, true));
    REQUIRE_NOTHROW(p.fit(s.x));
    const auto y = p.project(fresh.x);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(std::isfinite(y.data()[i]));
    vf::pca two(components(2));
    CHECK_THROWS_AS(two.fit(s.x), dp::error);
  }
  SUBCASE("identical rows: refused rather than whitened by a zero variance") {
    auto s = gaussian(6, 6, 3, 0.3, 11);
    for (std::size_t i = 1; i < 6; ++i)
      for (std::size_t j = 0; j < 6; ++j) s.x.data()[i * 6 + j] = s.x.data()[j];
    vf::pca p(components(1, true));
    CHECK_THROWS_AS(p.fit(s.x), dp::error);
  }
  SUBCASE("zero-variance columns, whitened: as many components as the data span, finite") {
    auto s = gaussian(12, 6, 4, 0.3, 12);
    for (std::size_t i = 0; i < 12; ++i) s.x.data()[i * 6 + 1] = 3.0f, s.x.data()[i * 6 + 4] = 3.0f;
    vf::pca p(components(4, true));
    REQUIRE_NOTHROW(p.fit(s.x));
    const auto y = p.project(fresh.x);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(std::isfinite(y.data()[i]));
    // Two of the six columns are constant: the data span four dimensions, not six.
    vf::pca six(components(6, true));
    const std::string r = [&] {
      try {
        six.fit(s.x);
      } catch (const dp::error& e) {
        return std::string("threw: ") + e.what();
      }
      const auto z = six.project(fresh.x);
      for (std::size_t i = 0; i < z.size(); ++i)
        if (!std::isfinite(z.data()[i])) return std::string("not finite");
      return std::string("finite");
    }();
    INFO(r);
    CHECK(threw_or_finite(r));
  }
  SUBCASE("PCA then Joint Bayesian on one image per person, duplicates and constant columns") {
    const auto singles = gaussian(6, 6, 6, 0.3, 13);
    const auto r1 = outcome(pca_jb(components(3)), singles, fresh);
    INFO(r1);
    CHECK(r1.rfind("threw: joint_bayesian: every identity has a single image", 0) == 0);
    const auto duplicates = gaussian(12, 6, 4, 0.0, 14);
    const auto r2 = outcome(pca_jb(components(3)), duplicates, fresh);
    INFO(r2);
    CHECK(threw_or_finite(r2));
    CHECK(r2 != "finite");  // no within-identity variation: nothing to learn S_eps from
    auto constant = gaussian(12, 6, 4, 0.3, 15);
    for (std::size_t i = 0; i < 12; ++i) constant.x.data()[i * 6] = -2.0f;
    const auto r3 = outcome(pca_jb(components(4, true)), constant, fresh);
    INFO(r3);
    CHECK(r3 == "finite");
  }
}
