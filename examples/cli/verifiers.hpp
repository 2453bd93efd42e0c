#pragma once
// The verifiers the tool knows by name, and running the LFW protocol with one.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <deepid/eval/protocol.hpp>

namespace deepid_cli {

struct verifier_settings {
  std::size_t pca = 150;        // components for the pca-*, jb*, lr, svm and nn verifiers
  std::size_t nn_groups = 0;    // nn: feature groups (one per patch net); 0: PCA then one group
  std::size_t nn_hidden2 = 0;   // nn with groups: hidden-2 width (0: the paper's 80 per group, at most 4,800)
  std::size_t groups = 0;       // jb-groups, sel-jb: equal feature groups, one per patch net (required)
  std::size_t select = 0;       // sel-jb: the most groups kept (0: as many as the search finds useful)
  deepid::eval::training_images images = deepid::eval::training_images::people;
  std::set<int> folds;          // fit and score only these folds (empty: all)
  std::set<int> learn_from;     // the folds the verifiers learn from (empty: all but the test fold)
  // Held-out training identities (features from the same nets, one identity
  // label per row): the verifier learns from them once, and each fold learns
  // only its threshold from its training folds. Null: the folds' people.
  const deepid::matrix<float>* outside = nullptr;
  std::vector<int> outside_identities;
};

extern const char* const verifier_names_help;

// Throws a usage error for names the tool does not know.
void check_verifier_name(const std::string& name);

// Verifier `name` fitted for each fold of the ten-fold protocol on
// `features`; the function scores the held-out folds of any features whose
// rows the pairs index (deepid::eval::ten_fold_verifiers).
using fitted_protocol =
    std::function<deepid::eval::protocol_result(const deepid::matrix<float>&, std::span<const deepid::eval::fold_pair>)>;
fitted_protocol fit_verifier(const std::string& name, const deepid::matrix<float>& features,
                             std::span<const deepid::eval::fold_pair> pairs, std::span<const int> identities,
                             const verifier_settings& settings);

// Runs the ten-fold protocol with verifier `name`.
deepid::eval::protocol_result evaluate_verifier(const std::string& name, const deepid::matrix<float>& features,
                                                std::span<const deepid::eval::fold_pair> pairs,
                                                std::span<const int> identities, const verifier_settings& settings);

}  // namespace deepid_cli
