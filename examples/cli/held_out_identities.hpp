#pragma once
// DIR/held_out_identities.txt: the identities of a model folder's training
// set that its nets never saw ('deepid train --hold-out-identities'), kept for
// a verifier to learn from. 'deepid features --celeba' writes their features
// with a copy, F.held_out_identities.txt, which 'eval-lfw --verifier-data'
// requires: no other feature file (LFW's, say) can pass for them. One
// identity name per line; '#' lines are comments.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <deepid/core/error.hpp>
#include <deepid/io/atomic_file.hpp>
#include <deepid/io/input_file.hpp>

namespace deepid_cli {

inline std::filesystem::path held_out_identities_path(const std::filesystem::path& models) {
  return models / "held_out_identities.txt";
}

inline std::filesystem::path held_out_identities_path_of_features(const std::filesystem::path& npy) {
  auto p = npy;
  p.replace_extension(".held_out_identities.txt");
  return p;
}

inline void write_held_out_identities(const std::filesystem::path& path, const std::vector<std::string>& names,
                                      const std::string& note) {
  deepid::io::atomic_file f(path);
  f.write("# identities of the training set these nets never saw, kept for a verifier to learn from\n# " + note + "\n");
  for (const auto& name : names) f.write(name + "\n");
  f.commit();
}

// No file: the nets learnt from every identity of their training set.
inline std::optional<std::vector<std::string>> read_held_out_identities(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  auto in = deepid::io::open_input(path, "the held-out identities");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] != '#') names.push_back(line);
  }
  if (names.empty()) throw deepid::error(path.string() + ": no identity listed");
  return names;
}

}  // namespace deepid_cli
