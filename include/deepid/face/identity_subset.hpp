#pragma once
// A random subset of a training set's identities, for curves of accuracy
// against the number of identities the nets learn from.
#include <algorithm>
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

}  // namespace face
DEEPID_NAMESPACE_END
