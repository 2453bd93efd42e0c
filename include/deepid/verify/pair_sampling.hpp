#pragma once
// Where pair-based verifiers get their training pairs: the labelled pairs
// they are given, or balanced same/different pairs sampled from identity
// labels; and the checks and labels those pairs need.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// `count` pairs, alternately same and different (50/50), drawn
// deterministically from `seed`: a same pair picks an identity with at least
// two rows, then two distinct rows of it; a different pair picks two rows of
// different identities. Throws when either kind cannot be formed.
inline std::vector<labelled_pair> sample_balanced_pairs(std::span<const int> identities, std::size_t count,
                                                        std::uint64_t seed) {
  std::map<int, std::vector<std::size_t>> rows_of;
  for (std::size_t i = 0; i < identities.size(); ++i) rows_of[identities[i]].push_back(i);
  std::vector<const std::vector<std::size_t>*> multi;
  for (const auto& [id, rows] : rows_of)
    if (rows.size() >= 2) multi.push_back(&rows);
  if (multi.empty()) throw error("sample_balanced_pairs: no identity has two rows, so there are no same pairs");
  if (rows_of.size() < 2) throw error("sample_balanced_pairs: one identity only, so there are no different pairs");
  rng gen(seed);
  auto pick = [&](std::size_t n) { return std::size_t(gen.uniform() * double(n)) % n; };
  std::vector<labelled_pair> pairs;
  pairs.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    if (k % 2 == 0) {
      const auto& rows = *multi[pick(multi.size())];
      const std::size_t i = pick(rows.size());
      std::size_t j = pick(rows.size() - 1);
      if (j >= i) ++j;
      pairs.push_back({rows[i], rows[j], true});
    } else {
      const std::size_t i = pick(identities.size());
      std::size_t j = pick(identities.size());
      while (identities[j] == identities[i]) j = pick(identities.size());
      pairs.push_back({i, j, false});
    }
  }
  return pairs;
}

namespace detail::pairwise {

// The training pairs of `data`: its pairs, or balanced pairs sampled from its identities.
inline std::vector<labelled_pair> training_pairs(const training_data& data, std::size_t sampled, std::uint64_t seed,
                                                 const std::string& who) {
  const std::size_t rows = data.features.shape()[0];
  if (!data.pairs.empty()) {
    check_pairs(data.pairs, rows, who.c_str());
    return {data.pairs.begin(), data.pairs.end()};
  }
  if (data.identities.empty()) throw error(who + ": fit needs labelled pairs or identity labels, got neither");
  if (data.identities.size() != rows)
    throw error(who + ": " + std::to_string(data.identities.size()) + " identity labels for " + std::to_string(rows) +
                " feature rows");
  return sample_balanced_pairs(data.identities, sampled, seed);
}

inline void require_both_labels(std::span<const labelled_pair> pairs, const std::string& who) {
  std::size_t same = 0;
  for (const auto& p : pairs) same += p.same;
  if (same == 0 || same == pairs.size())
    throw error(who + ": training pairs must include both same and different pairs (" + std::to_string(same) + " of " +
                std::to_string(pairs.size()) + " are same)");
}

inline std::vector<int> labels_of(std::span<const labelled_pair> pairs) {
  std::vector<int> y(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) y[i] = pairs[i].same ? 1 : 0;
  return y;
}

}  // namespace detail::pairwise

}  // namespace verify
DEEPID_NAMESPACE_END
