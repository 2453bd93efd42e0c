#pragma once
// LFW's "unrestricted, labeled outside data" setting with LFW's own people in
// the outside data. View 2's ten folds are person-disjoint, so nets may learn
// from the people of some folds as long as they only ever test the folds
// whose people they never saw: a model set trained with folds H held out is
// used for the folds of H only, and another set covers the rest.
//
//   fold_people(pairs)                  the people of each fold (checked disjoint)
//   parse_folds("0-4")                  a fold list as the tools write it
//   lfw_training_people(lfw, pairs, H)  LFW faces that may train nets testing H
//   check_held_out(set, people, H)      throws if a face of H's people is in set
//                                       (the training tools check every set they train on)
//   held_out_folds files                what a model set and its features record
//
// People in no pair of View 2 are in no fold: they may train every model set.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/lfw.hpp"
#include "deepid/io/atomic_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// The tag of LFW faces in a combined training set ("lfw:Name/Name_0001.jpg").
inline constexpr const char* lfw_tag = "lfw";

// The people of each fold's pairs, indexed by fold. Throws when a person is
// in two folds: the hold-out below relies on View 2 being person-disjoint.
inline std::vector<std::set<std::string>> fold_people(std::span<const face::face_pair> pairs,
                                                      const std::string& source = "pairs") {
  std::map<std::string, int> fold_of;
  std::vector<std::set<std::string>> people;
  for (const auto& p : pairs) {
    if (p.fold < 0) throw error(source + ": negative fold " + std::to_string(p.fold));
    if (std::size_t(p.fold) >= people.size()) people.resize(std::size_t(p.fold) + 1);
    for (const auto& image : {p.first, p.second}) {
      const std::string person = image.substr(0, image.find('/'));
      const auto [it, added] = fold_of.emplace(person, p.fold);
      if (!added && it->second != p.fold)
        throw error(source + ": " + person + " is in folds " + std::to_string(it->second) + " and " +
                    std::to_string(p.fold) + "; held-out folds need person-disjoint folds");
      people[std::size_t(p.fold)].insert(person);
    }
  }
  return people;
}

// "0-4", "5,7,9" or "0-2,8" -> the folds; each must be below `folds`.
inline std::set<int> parse_folds(const std::string& text, int folds) {
  std::set<int> out;
  std::stringstream list(text);
  auto number = [&](const std::string& t) {
    std::size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || v < 0 || v >= folds)
      throw error("fold list '" + text + "': '" + t + "' is not a fold number 0.." + std::to_string(folds - 1));
    return v;
  };
  for (std::string item; std::getline(list, item, ',');) {
    const auto dash = item.find('-');
    if (dash == std::string::npos) {
      out.insert(number(item));
      continue;
    }
    const int first = number(item.substr(0, dash)), last = number(item.substr(dash + 1));
    if (last < first) throw error("fold list '" + text + "': range '" + item + "' runs backwards");
    for (int f = first; f <= last; ++f) out.insert(f);
  }
  if (out.empty()) throw error("fold list '" + text + "' names no fold");
  return out;
}

inline std::string format_folds(const std::set<int>& folds) {
  std::string s;
  for (int f : folds) s += (s.empty() ? "" : ",") + std::to_string(f);
  return s;
}

// Throws, naming the face and the fold, when a face of `set` whose image
// name starts with `prefix` ("lfw:" in a combined set, "" in an LFW-only one)
// belongs to a person of a held-out fold.
inline void check_held_out(const face::face_set& set, std::span<const std::set<std::string>> people,
                           const std::set<int>& held_out, const std::string& prefix = std::string(lfw_tag) + ":") {
  for (const auto& face : set.faces) {
    if (face.image.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string name = face.image.substr(prefix.size());
    const std::string person = name.substr(0, name.find('/'));
    for (int f : held_out)
      if (std::size_t(f) < people.size() && people[std::size_t(f)].count(person))
        throw error("training set: " + name + " is of " + person + ", a person of held-out LFW fold " +
                    std::to_string(f));
  }
}

struct lfw_training_options {
  std::size_t min_images = 2;   // a person needs a second image to be an identity to learn
  std::size_t max_images = 50;  // the first this many images (George_W_Bush has 530)
};

// The LFW faces that may train nets used to test the folds `held_out`: every
// person with at least min_images images (landmarks present) except the
// people of those folds. Image names are LFW's own ("Name/Name_0001.jpg");
// face::combine tags them when the set joins another.
inline face::face_set lfw_training_people(const face::lfw_dataset& lfw, std::span<const face::face_pair> pairs,
                                          const std::set<int>& held_out, lfw_training_options o = {}) {
  const auto people = fold_people(pairs);
  for (int f : held_out)
    if (std::size_t(f) >= people.size())
      throw error("held-out fold " + std::to_string(f) + ": the pair list has " + std::to_string(people.size()) +
                  " folds");
  std::set<std::string> excluded;
  for (int f : held_out) excluded.insert(people[std::size_t(f)].begin(), people[std::size_t(f)].end());
  face::face_set set;
  set.images = lfw.images();
  for (const auto& person : lfw.people()) {
    if (excluded.count(person.name)) continue;
    std::vector<std::string> usable;
    for (int i = 1; i <= person.images && usable.size() < o.max_images; ++i) {
      const auto image = face::lfw_image_name(person.name, i);
      if (lfw.landmarks().contains(image)) usable.push_back(image);
      else set.problems.push_back("LFW " + image + ": no landmarks");
    }
    if (usable.size() < std::max<std::size_t>(o.min_images, 1)) continue;
    const int label = int(set.identity_names.size());
    set.identity_names.push_back(person.name);
    for (const auto& image : usable) set.faces.push_back({image, label, lfw.landmarks().at(image).points});
  }
  check_held_out(set, people, held_out, "");
  return set;
}

// What a model set (DIR/lfw_held_out_folds.txt) or a feature file
// (F.held_out_folds.txt) records: the LFW folds whose people its nets never
// saw, the only folds it may test. No file: the nets saw no LFW person.
inline std::filesystem::path held_out_folds_path_of_models(const std::filesystem::path& dir) {
  return dir / "lfw_held_out_folds.txt";
}
inline std::filesystem::path held_out_folds_path_of_features(const std::filesystem::path& npy) {
  auto p = npy;
  p.replace_extension(".held_out_folds.txt");
  return p;
}

inline void write_held_out_folds(const std::filesystem::path& path, const std::set<int>& folds,
                                 const std::string& note = {}) {
  io::atomic_file f(path);
  f.write("# LFW View 2 folds whose people these nets never saw: they may test only these folds\n");
  if (!note.empty()) f.write("# " + note + "\n");
  f.write(format_folds(folds) + "\n");
  f.commit();
}

inline std::optional<std::set<int>> read_held_out_folds(const std::filesystem::path& path, int folds = 10) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  auto in = io::open_input(path, "the held-out folds");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    try {
      return parse_folds(line, folds);
    } catch (const error& e) {
      throw error(path.string() + ": " + e.what());
    }
  }
  throw error(path.string() + ": no fold list");
}

}  // namespace eval
DEEPID_NAMESPACE_END
