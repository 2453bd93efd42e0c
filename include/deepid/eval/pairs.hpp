#pragma once
// LFW-style pair lists for any identity-labelled set: `folds` folds of
// `per_half` matched and `per_half` mismatched pairs, the identities of
// different folds disjoint (as in LFW View 2), drawn deterministically.
#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/eval/protocol.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

inline std::vector<fold_pair> make_fold_pairs(std::span<const int> identities, int folds, std::size_t per_half,
                                              std::uint64_t seed) {
  std::map<int, std::vector<std::size_t>> rows_of;
  for (std::size_t i = 0; i < identities.size(); ++i) rows_of[identities[i]].push_back(i);
  std::vector<int> people;
  for (const auto& [id, rows] : rows_of) people.push_back(id);
  rng gen(seed);
  for (std::size_t i = people.size(); i > 1; --i) std::swap(people[i - 1], people[gen.next() % i]);
  if (people.size() < std::size_t(2 * folds))
    throw error("make_fold_pairs: " + std::to_string(people.size()) + " identities cannot fill " +
                std::to_string(folds) + " identity-disjoint folds");
  std::vector<fold_pair> pairs;
  for (int f = 0; f < folds; ++f) {
    std::vector<int> mine;
    for (std::size_t k = std::size_t(f); k < people.size(); k += std::size_t(folds)) mine.push_back(people[k]);
    std::vector<int> with_two;
    for (int id : mine)
      if (rows_of[id].size() >= 2) with_two.push_back(id);
    if (with_two.empty()) throw error("make_fold_pairs: fold " + std::to_string(f) + " has no identity with two images");
    for (std::size_t k = 0; k < per_half; ++k) {
      const auto& rows = rows_of[with_two[gen.next() % with_two.size()]];
      const std::size_t a = gen.next() % rows.size();
      std::size_t b = gen.next() % (rows.size() - 1);
      if (b >= a) ++b;
      pairs.push_back({rows[a], rows[b], true, f});
    }
    for (std::size_t k = 0; k < per_half; ++k) {
      const std::size_t i = gen.next() % mine.size();
      std::size_t j = gen.next() % (mine.size() - 1);
      if (j >= i) ++j;
      const auto& ra = rows_of[mine[i]];
      const auto& rb = rows_of[mine[j]];
      pairs.push_back({ra[gen.next() % ra.size()], rb[gen.next() % rb.size()], false, f});
    }
  }
  return pairs;
}

}  // namespace eval
DEEPID_NAMESPACE_END
