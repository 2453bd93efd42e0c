#pragma once
// The LFW View 2 ten-fold protocol on precomputed features: for each fold the
// verifier (PCA, threshold included) learns only from the other nine folds —
// their pairs, and the identities of the images in them — and is tested on
// the held-out fold. Reported: mean accuracy and standard error
// (S_E = sigma / sqrt(10), sigma with n - 1), the pooled ROC of the held-out
// scores, AUC, EER and TPR at FPR 1e-2 and 1e-3.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/eval/roc.hpp"
#include "deepid/verify/threshold.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// A pair of feature rows in a fold.
struct fold_pair {
  std::size_t first = 0, second = 0;
  bool same = false;
  int fold = 0;
};

struct fold_result {
  int fold = 0;
  double accuracy = 0, threshold = 0, train_accuracy = 0;
};

struct protocol_result {
  std::string name;
  std::vector<fold_result> folds;
  double mean_accuracy = 0, standard_error = 0;
  roc_curve roc;  // pooled over the held-out folds
  double auc = 0, eer = 0, tpr_at_1e2 = 0, tpr_at_1e3 = 0;
  std::vector<double> scores;  // held-out score of every pair, in input order
};

// Which images a fold's verifier learns from.
enum class training_images {
  pairs_only,  // the images of the nine training folds' pairs (LFW "restricted")
  people,      // every image of the people in those pairs, none of the test fold's people
               // (LFW "unrestricted": identity labels of the training folds are used)
};

// The mean accuracy, its standard error and the pooled ROC of fold results
// and held-out scores (one per pair, in pair order).
inline protocol_result summarise_folds(std::string name, std::vector<fold_result> folds, std::vector<double> scores,
                                       std::span<const fold_pair> pairs) {
  protocol_result result;
  result.name = std::move(name);
  result.folds = std::move(folds);
  result.scores = std::move(scores);
  double sum = 0;
  for (const auto& f : result.folds) sum += f.accuracy;
  const double n = double(result.folds.size());
  result.mean_accuracy = sum / n;
  double var = 0;
  for (const auto& f : result.folds) var += (f.accuracy - result.mean_accuracy) * (f.accuracy - result.mean_accuracy);
  result.standard_error = n > 1 ? std::sqrt(var / (n - 1)) / std::sqrt(n) : 0.0;
  std::unique_ptr<bool[]> same(new bool[pairs.size()]);
  for (std::size_t i = 0; i < pairs.size(); ++i) same[i] = pairs[i].same;
  result.roc = make_roc(result.scores, std::span<const bool>(same.get(), pairs.size()));
  result.auc = result.roc.auc();
  result.eer = result.roc.eer();
  result.tpr_at_1e2 = result.roc.tpr_at_fpr(1e-2);
  result.tpr_at_1e3 = result.roc.tpr_at_fpr(1e-3);
  return result;
}

// The protocol's verifiers, fitted once: for each fold a verifier (and its
// threshold) learnt from the other nine folds. `evaluate` then scores the
// held-out folds of any features whose rows line up with `pairs` — the same
// features, or the same faces changed at test time (occluded, say), so a
// study scores many test conditions against one set of fitted verifiers.
// `only` limits the fitted folds (empty: all): features from nets that may
// test only some folds (eval/held_out_folds.hpp) fit and score just those,
// and merge_fold_results joins the parts. `learn_from` limits the folds a
// verifier learns from (empty: every fold but the test fold): given the nets'
// held-out folds, each verifier learns only from people the nets never saw,
// as the verifier's own held-out training identities.
template <verify::verifier V>
class ten_fold_verifiers {
 public:
  ten_fold_verifiers(std::string name, const matrix<float>& features, std::span<const fold_pair> pairs,
                     std::span<const int> identities, const std::function<V()>& make = [] { return V{}; },
                     training_images images = training_images::pairs_only, const std::set<int>& only = {},
                     const std::set<int>& learn_from = {})
      : name_(std::move(name)) {
    if (identities.size() != features.shape()[0])
      throw error("run_ten_fold: " + std::to_string(identities.size()) + " identity labels for " +
                  std::to_string(features.shape()[0]) + " feature rows");
    std::map<int, std::vector<std::size_t>> by_fold;
    for (std::size_t i = 0; i < pairs.size(); ++i) by_fold[pairs[i].fold].push_back(i);
    if (by_fold.size() < 2) throw error("run_ten_fold: need at least two folds");
    const std::size_t d = features.shape()[1];
    for (int f : only)
      if (!by_fold.count(f)) throw error(name_ + ": fold " + std::to_string(f) + " has no pairs");
    for (int f : learn_from)
      if (!by_fold.count(f)) throw error(name_ + ": fold " + std::to_string(f) + " (to learn from) has no pairs");
    for (const auto& [fold, test] : by_fold) {
      if (!only.empty() && !only.count(fold)) continue;
      // Training rows: the images of the other folds' pairs, each once.
      std::map<std::size_t, std::size_t> row_of;
      std::vector<verify::labelled_pair> train_pairs;
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (pairs[i].fold == fold || (!learn_from.empty() && !learn_from.count(pairs[i].fold))) continue;
        const std::size_t a = row_of.emplace(pairs[i].first, row_of.size()).first->second;
        const std::size_t b = row_of.emplace(pairs[i].second, row_of.size()).first->second;
        train_pairs.push_back({a, b, pairs[i].same});
      }
      if (images == training_images::people) {
        std::map<int, bool> allowed;  // person -> may train (false: in the test fold)
        for (const auto& [source, row] : row_of) allowed.emplace(identities[source], true);
        for (auto i : test) allowed[identities[pairs[i].first]] = false, allowed[identities[pairs[i].second]] = false;
        for (std::size_t r = 0; r < identities.size(); ++r) {
          const auto it = allowed.find(identities[r]);
          if (it != allowed.end() && it->second) row_of.emplace(r, row_of.size());
        }
      }
      if (train_pairs.empty())
        throw error(name_ + ": fold " + std::to_string(fold) + " has no training fold to learn from");
      matrix<float> train({row_of.size(), d});
      std::vector<int> train_ids(row_of.size());
      for (const auto& [source, row] : row_of) {
        std::copy_n(features.data() + source * d, d, train.data() + row * d);
        train_ids[row] = identities[source];
      }
      auto verifier = std::make_shared<V>(make());
      verifier->fit(verify::training_data{train, train_ids, train_pairs});
      // The fold's threshold is the one fit learnt from these training pairs;
      // the training accuracy is measured at it, not chosen again.
      const double threshold = verifier->threshold();
      const auto train_scores = verifier->scores(train, train_pairs);
      std::unique_ptr<bool[]> train_same(new bool[train_pairs.size()]);
      for (std::size_t i = 0; i < train_pairs.size(); ++i) train_same[i] = train_pairs[i].same;
      const double train_accuracy =
          verify::accuracy_at(train_scores, std::span<const bool>(train_same.get(), train_pairs.size()), threshold);
      folds_.push_back({fold, std::move(verifier), threshold, train_accuracy});
    }
    some_folds_ = !only.empty() && only.size() < by_fold.size();
  }

  // Held-out accuracy of every fitted fold on `features` (rows as `pairs`
  // index them), with the pooled ROC. Pairs of folds not fitted are an error
  // unless the verifiers were fitted for some folds only; then they are
  // skipped (score 0, no fold result).
  protocol_result evaluate(const matrix<float>& features, std::span<const fold_pair> pairs) const {
    std::vector<double> scores(pairs.size(), 0.0);
    std::vector<fold_result> folds;
    std::map<int, std::vector<std::size_t>> by_fold;
    for (std::size_t i = 0; i < pairs.size(); ++i) by_fold[pairs[i].fold].push_back(i);
    for (const auto& [fold, test] : by_fold)
      if (!some_folds_ && std::none_of(folds_.begin(), folds_.end(), [&](const fitted& f) { return f.fold == fold; }))
        throw error(name_ + ": no verifier was fitted for fold " + std::to_string(fold));
    for (const auto& f : folds_) {
      const auto it = by_fold.find(f.fold);
      if (it == by_fold.end()) continue;
      const auto& test = it->second;
      std::vector<verify::labelled_pair> test_pairs;
      for (auto i : test) test_pairs.push_back({pairs[i].first, pairs[i].second, pairs[i].same});
      const auto test_scores = f.verifier->scores(features, test_pairs);
      std::size_t correct = 0;
      for (std::size_t k = 0; k < test.size(); ++k) {
        if (!std::isfinite(test_scores[k])) throw error(name_ + ": a verifier returned a non-finite score");
        correct += (test_scores[k] > f.threshold) == pairs[test[k]].same;
        scores[test[k]] = test_scores[k];
      }
      folds.push_back({f.fold, double(correct) / double(test.size()), f.threshold, f.train_accuracy});
    }
    if (some_folds_) {
      // The ROC and the mean are of the fitted folds' pairs only.
      std::vector<fold_pair> kept;
      std::vector<double> kept_scores;
      for (std::size_t i = 0; i < pairs.size(); ++i)
        if (std::any_of(folds.begin(), folds.end(), [&](const fold_result& r) { return r.fold == pairs[i].fold; }))
          kept.push_back(pairs[i]), kept_scores.push_back(scores[i]);
      auto result = summarise_folds(name_, std::move(folds), std::move(kept_scores), kept);
      result.scores = std::move(scores);
      return result;
    }
    return summarise_folds(name_, std::move(folds), std::move(scores), pairs);
  }


 private:
  struct fitted {
    int fold = 0;
    std::shared_ptr<const V> verifier;
    double threshold = 0, train_accuracy = 0;
  };
  std::string name_;
  std::vector<fitted> folds_;
  bool some_folds_ = false;
};

// Runs the protocol for verifier type V (made by `make` for each fold).
// `identities` gives each feature row's person (for identity-based learners).
template <verify::verifier V>
protocol_result run_ten_fold(const std::string& name, const matrix<float>& features, std::span<const fold_pair> pairs,
                             std::span<const int> identities, const std::function<V()>& make = [] { return V{}; },
                             training_images images = training_images::pairs_only) {
  return ten_fold_verifiers<V>(name, features, pairs, identities, make, images).evaluate(features, pairs);
}

// One result from parts that each scored some folds (ten_fold_verifiers
// fitted with `only`): each fold must be scored by exactly one part; its
// accuracy and its pairs' scores come from that part.
inline protocol_result merge_fold_results(const std::string& name, std::span<const protocol_result> parts,
                                          std::span<const fold_pair> pairs) {
  std::map<int, std::size_t> part_of;
  std::vector<fold_result> folds;
  for (std::size_t k = 0; k < parts.size(); ++k)
    for (const auto& f : parts[k].folds) {
      if (!part_of.emplace(f.fold, k).second)
        throw error(name + ": fold " + std::to_string(f.fold) + " is scored by two feature sets");
      folds.push_back(f);
    }
  std::vector<double> scores(pairs.size(), 0.0);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto it = part_of.find(pairs[i].fold);
    if (it == part_of.end()) throw error(name + ": no feature set scores fold " + std::to_string(pairs[i].fold));
    if (parts[it->second].scores.size() != pairs.size())
      throw error(name + ": a part holds " + std::to_string(parts[it->second].scores.size()) + " scores for " +
                  std::to_string(pairs.size()) + " pairs");
    scores[i] = parts[it->second].scores[i];
  }
  std::sort(folds.begin(), folds.end(), [](const fold_result& a, const fold_result& b) { return a.fold < b.fold; });
  return summarise_folds(name, std::move(folds), std::move(scores), pairs);
}

}  // namespace eval
DEEPID_NAMESPACE_END
