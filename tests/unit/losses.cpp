// Verification losses against the hand-computed values of reference section
// 11 and central differences; the margin re-fit against its worked example.
#include <doctest/doctest.h>

#include <deepid/core/rng.hpp>
#include <deepid/loss/verification.hpp>

#include <vector>

namespace ls = deepid::loss;

TEST_CASE("L2 contrastive loss: hand-computed values") {
  const std::vector<double> fi{1, 0}, fj{0, 0};
  std::vector<double> gi(2, 0), gj(2, 0);
  CHECK(ls::verification_pair(ls::verification_kind::l2, fi.data(), fj.data(), 2, true, 2.0, gi.data(), gj.data()) ==
        doctest::Approx(0.5));
  CHECK(gi == std::vector<double>{1, 0});
  CHECK(gj == std::vector<double>{-1, 0});
  gi = gj = {0, 0};
  CHECK(ls::verification_pair(ls::verification_kind::l2, fi.data(), fj.data(), 2, false, 2.0, gi.data(), gj.data()) ==
        doctest::Approx(0.5));
  CHECK(gi == std::vector<double>{-1, 0});
  CHECK(gj == std::vector<double>{1, 0});
  gi = gj = {0, 0};
  CHECK(ls::verification_pair(ls::verification_kind::l2, fi.data(), fj.data(), 2, false, 0.5, gi.data(), gj.data()) == 0.0);
  CHECK(gi == std::vector<double>{0, 0});
  // The ablations drop one side each.
  CHECK(ls::verification_pair(ls::verification_kind::l2_pos, fi.data(), fj.data(), 2, false, 2.0, gi.data(), gj.data()) == 0.0);
  CHECK(ls::verification_pair(ls::verification_kind::l2_neg, fi.data(), fj.data(), 2, true, 2.0, gi.data(), gj.data()) == 0.0);
}

TEST_CASE("verification losses: gradients match central differences") {
  deepid::rng gen(4);
  const std::size_t dim = 6;
  for (auto kind : {ls::verification_kind::l2, ls::verification_kind::l1, ls::verification_kind::cosine}) {
    for (bool same : {true, false}) {
      std::vector<double> fi(dim), fj(dim);
      for (auto& v : fi) v = gen.normal();
      for (auto& v : fj) v = gen.normal();
      const double margin = kind == ls::verification_kind::l1 ? 20.0 : 10.0;  // negatives active
      const double w = 3.0, b = -0.5;
      std::vector<double> gi(dim, 0), gj(dim, 0);
      double dw = 0, db = 0;
      ls::verification_pair(kind, fi.data(), fj.data(), dim, same, margin, gi.data(), gj.data(), w, b, &dw, &db);
      auto loss = [&](const std::vector<double>& a, const std::vector<double>& c, double ww, double bb) {
        std::vector<double> x(dim, 0), y(dim, 0);
        return ls::verification_pair(kind, a.data(), c.data(), dim, same, margin, x.data(), y.data(), ww, bb);
      };
      const double h = 1e-6;
      for (std::size_t k = 0; k < dim; ++k) {
        auto p = fi, m = fi;
        p[k] += h, m[k] -= h;
        CHECK(gi[k] == doctest::Approx((loss(p, fj, w, b) - loss(m, fj, w, b)) / (2 * h)).epsilon(1e-5));
        auto q = fj, r = fj;
        q[k] += h, r[k] -= h;
        CHECK(gj[k] == doctest::Approx((loss(fi, q, w, b) - loss(fi, r, w, b)) / (2 * h)).epsilon(1e-5));
      }
      if (kind == ls::verification_kind::cosine) {
        CHECK(dw == doctest::Approx((loss(fi, fj, w + h, b) - loss(fi, fj, w - h, b)) / (2 * h)).epsilon(1e-5));
        CHECK(db == doctest::Approx((loss(fi, fj, w, b + h) - loss(fi, fj, w, b - h)) / (2 * h)).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("margin re-fit: a hand-worked example gives m = 0.8") {
  ls::margin_refitter refit(7);
  const std::vector<std::pair<double, bool>> seen{{0.2, true}, {0.3, true}, {0.5, false}, {0.6, true},
                                                  {0.7, true}, {0.9, false}, {1.1, false}};
  for (auto [d, same] : seen) refit.add(d, same);
  CHECK(refit.due());
  CHECK(refit.refit() == doctest::Approx(0.8));
  // The window forgets old pairs: seven far-apart negatives replace them.
  for (int i = 0; i < 7; ++i) refit.add(5.0 + i, false);
  CHECK(refit.refit() < 5.0);
}
