#pragma once
// Choosing a decision threshold on training scores (higher score = "same").
// Predict "same" iff score > threshold. Sorting gives O(n log n): every
// midpoint between consecutive distinct scores is tried; among equally good
// ones the middle of the best run is taken.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

struct threshold_choice {
  double threshold = 0;
  double accuracy = 0;  // on the scores it was chosen from
};

inline threshold_choice best_threshold(std::span<const double> scores, std::span<const bool> same) {
  if (scores.size() != same.size()) throw error("best_threshold: scores and labels differ in length");
  if (scores.empty()) throw error("best_threshold: no scores to choose a threshold from");
  for (double s : scores)
    if (!(s == s)) throw error("best_threshold: a score is NaN");
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  const std::size_t n = scores.size();
  std::size_t positives = 0;
  for (bool s : same) positives += s;
  // Threshold below everything: all predicted same -> correct = positives.
  std::size_t correct = positives, best = correct;
  std::vector<double> candidates;  // thresholds achieving `best`, in increasing order
  const double below = scores[order[0]] - 1.0;
  candidates.push_back(below);
  for (std::size_t k = 0; k < n;) {
    std::size_t j = k;
    // Moving the threshold past a group of equal scores flips them to "different".
    while (j < n && scores[order[j]] == scores[order[k]]) {
      correct += same[order[j]] ? std::size_t(-1) : 1;
      ++j;
    }
    const double t = j < n ? 0.5 * (scores[order[j - 1]] + scores[order[j]]) : scores[order[n - 1]] + 1.0;
    if (correct > best) {
      best = correct;
      candidates.assign(1, t);
    } else if (correct == best) {
      candidates.push_back(t);
    }
    k = j;
  }
  // Middle of the tied optima (they form runs; the median candidate is inside one).
  return {candidates[candidates.size() / 2], double(best) / double(n)};
}

inline double accuracy_at(std::span<const double> scores, std::span<const bool> same, double threshold) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) correct += (scores[i] > threshold) == same[i];
  return scores.empty() ? 0.0 : double(correct) / double(scores.size());
}

}  // namespace verify
DEEPID_NAMESPACE_END
