#pragma once
// A random subset of a training set's identities, for curves of accuracy
// against the number of identities the nets learn from, and the identities
// kept out of the nets' training for a verifier to learn from.
#include <algorithm>
#include <set>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/face/face_set.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

// The faces of `count` identities drawn at random (a Fisher-Yates shuffle
// seeded by `seed`), relabelled 0..count-1 in their original order. For one
// seed the subsets are nested: the identities kept for a count are all kept
// for any larger count, so a curve over counts adds identities and changes
// nothing else.
inline face_set keep_identities(face_set set, std::size_t count, std::uint64_t seed) {
  const std::size_t n = set.identities();
  if (count == 0 || count > n)
    throw error("keep_identities: " + std::to_string(count) + " identities asked of a set of " + std::to_string(n));
  std::vector<int> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = int(i);
  rng random(mix64(seed ^ 0x6964656e74697479ull));
  for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[random.next() % (i + 1)]);
  std::vector<int> label(n, -1);
  std::sort(order.begin(), order.begin() + std::ptrdiff_t(count));
  face_set out;
  for (std::size_t k = 0; k < count; ++k) {
    label[std::size_t(order[k])] = int(k);
    out.identity_names.push_back(set.identity_names[std::size_t(order[k])]);
  }
  for (auto& f : set.faces)
    if (const int l = label[std::size_t(f.identity)]; l >= 0) out.faces.push_back({std::move(f.image), l, f.points});
  out.images = std::move(set.images);
  out.problems = std::move(set.problems);
  return out;
}

// The training set split by identity: `count` identities drawn at random
// (seeded) are kept out of `kept` and named in `held_out`, for a verifier
// that must learn from people its nets never saw. For one seed the held-out
// identities of a count are all held out for any larger count.
struct identity_split {
  face_set kept;
  std::vector<std::string> held_out;  // identity names, sorted
};

inline identity_split hold_out_identities(face_set set, std::size_t count, std::uint64_t seed) {
  const std::size_t n = set.identities();
  if (count == 0 || count + 2 > n)
    throw error("hold_out_identities: " + std::to_string(count) + " identities held out of a set of " +
                std::to_string(n) + " (at least 2 must remain to train)");
  const std::vector<std::string> all = set.identity_names;
  identity_split split;
  split.kept = keep_identities(std::move(set), n - count, seed);
  const std::set<std::string> kept(split.kept.identity_names.begin(), split.kept.identity_names.end());
  for (const auto& name : all)
    if (!kept.count(name)) split.held_out.push_back(name);
  std::sort(split.held_out.begin(), split.held_out.end());
  return split;
}

// The faces of the named identities only, relabelled 0..names-1 in the set's
// order. Every name must be an identity of the set (`source` names it in the
// error).
inline face_set only_identities(face_set set, const std::vector<std::string>& names, const std::string& source) {
  const std::set<std::string> wanted(names.begin(), names.end());
  std::vector<int> label(set.identities(), -1);
  face_set out;
  for (std::size_t i = 0; i < set.identities(); ++i)
    if (wanted.count(set.identity_names[i])) {
      label[i] = int(out.identity_names.size());
      out.identity_names.push_back(set.identity_names[i]);
    }
  if (out.identities() != wanted.size())
    for (const auto& name : wanted)
      if (std::find(out.identity_names.begin(), out.identity_names.end(), name) == out.identity_names.end())
        throw error(source + ": identity '" + name + "' is not in the set");
  for (auto& f : set.faces)
    if (const int l = label[std::size_t(f.identity)]; l >= 0) out.faces.push_back({std::move(f.image), l, f.points});
  out.images = std::move(set.images);
  out.problems = std::move(set.problems);
  return out;
}

}  // namespace face
DEEPID_NAMESPACE_END
