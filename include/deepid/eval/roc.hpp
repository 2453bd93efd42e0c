#pragma once
// ROC analysis of verification scores (higher = same). A point is (FPR, TPR)
// for "same iff score > t"; the curve sweeps t over every distinct score, so
// tied scores move together (a diagonal step). AUC is the trapezoid area,
// equal to P(score of a same pair > score of a different pair) with ties
// counted one half. EER is where FPR = 1 - TPR, interpolated on the curve.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

struct roc_point {
  double fpr = 0, tpr = 0, threshold = 0;
};

struct roc_curve {
  std::vector<roc_point> points;  // from (0, 0) to (1, 1), FPR non-decreasing

  double auc() const {
    double area = 0;
    for (std::size_t i = 1; i < points.size(); ++i)
      area += (points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr) / 2;
    return area;
  }

  // Equal error rate: the FPR where FPR = 1 - TPR (linear between points).
  double eer() const {
    for (std::size_t i = 1; i < points.size(); ++i) {
      const double f0 = points[i - 1].fpr - (1 - points[i - 1].tpr), f1 = points[i].fpr - (1 - points[i].tpr);
      if (f0 <= 0 && f1 >= 0) {
        const double t = f1 == f0 ? 0.0 : -f0 / (f1 - f0);
        return points[i - 1].fpr + t * (points[i].fpr - points[i - 1].fpr);
      }
    }
    return 0.5;
  }

  // Largest TPR among points with FPR <= target (no interpolation: achievable).
  double tpr_at_fpr(double target) const {
    double best = 0;
    for (const auto& p : points)
      if (p.fpr <= target + 1e-12) best = std::max(best, p.tpr);
    return best;
  }
};

inline roc_curve make_roc(std::span<const double> scores, std::span<const bool> same) {
  if (scores.size() != same.size()) throw error("make_roc: scores and labels differ in length");
  std::size_t positives = 0;
  for (bool s : same) positives += s;
  const std::size_t negatives = same.size() - positives;
  if (positives == 0 || negatives == 0) throw error("make_roc: need both same and different pairs");
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  roc_curve roc;
  roc.points.push_back({0, 0, scores[order[0]] + 1});
  std::size_t tp = 0, fp = 0;
  for (std::size_t k = 0; k < order.size();) {
    std::size_t j = k;
    while (j < order.size() && scores[order[j]] == scores[order[k]]) (same[order[j]] ? tp : fp)++, ++j;
    // Threshold just below this group: every score in it is accepted.
    const double t = j < order.size() ? 0.5 * (scores[order[k]] + scores[order[j]]) : scores[order[k]] - 1;
    roc.points.push_back({double(fp) / double(negatives), double(tp) / double(positives), t});
    k = j;
  }
  return roc;
}

}  // namespace eval
DEEPID_NAMESPACE_END
