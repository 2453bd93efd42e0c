#pragma once
// The accuracy of a verifier's pair scores at a threshold, for the verifier
// tests (pair_verifiers.cpp, greedy_selection.cpp, joint_bayesian.cpp): the
// share of pairs whose score is above the threshold exactly when the pair
// is of one identity.
#include <cstddef>
#include <span>
#include <vector>

#include <deepid/verify/verifier.hpp>

namespace deepid_test {

inline double accuracy(const std::vector<double>& scores, std::span<const deepid::verify::labelled_pair> pairs,
                       double threshold) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) correct += (scores[i] > threshold) == pairs[i].same;
  return double(correct) / double(pairs.size());
}

}  // namespace deepid_test
