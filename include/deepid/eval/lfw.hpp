#pragma once
// Binding the LFW View 2 pairs to the rows of a feature file: each pair's
// two image names become row indices, each row gets an identity label from
// its person's name (the folder part of "Name/Name_0001.jpg").
#include <map>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/eval/protocol.hpp"
#include "deepid/face/lfw.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

struct bound_pairs {
  std::vector<fold_pair> pairs;
  std::vector<int> identities;  // one per feature row
};

inline std::string person_of(const std::string& image) { return image.substr(0, image.find('/')); }

inline bound_pairs bind_pairs(std::span<const std::string> row_names, std::span<const face::face_pair> pairs,
                              const std::string& source) {
  std::map<std::string, std::size_t> row;
  for (std::size_t i = 0; i < row_names.size(); ++i) row.emplace(row_names[i], i);
  std::map<std::string, int> person;
  bound_pairs out;
  for (const auto& name : row_names) out.identities.push_back(person.emplace(person_of(name), int(person.size())).first->second);
  for (const auto& p : pairs) {
    const auto a = row.find(p.first), b = row.find(p.second);
    if (a == row.end() || b == row.end())
      throw error(source + ": no features for image '" + (a == row.end() ? p.first : p.second) +
                  "' of an LFW pair");
    out.pairs.push_back({a->second, b->second, p.same, p.fold});
  }
  return out;
}

}  // namespace eval
DEEPID_NAMESPACE_END
