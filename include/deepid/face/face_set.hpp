#pragma once
// Identity-labelled faces for training: image name, identity label
// (0..identities-1) and landmarks, with the store that holds the images.
// Readers: CelebA-style (identity file + landmark list + tar or folder) and
// folder-per-identity (root/<identity>/<image> + a landmark TSV).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/face/image_store.hpp"
#include "deepid/face/landmark_list.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct labelled_face {
  std::string image;
  int identity = 0;
  landmarks5 points;
};

// What to do with an item that cannot be used (no landmarks, bad image).
enum class on_bad_item { fail, skip };

struct face_set {
  image_store images;
  std::vector<labelled_face> faces;
  std::vector<std::string> identity_names;  // label -> the data set's own id
  std::vector<std::string> problems;        // items skipped, with the reason

  std::size_t identities() const { return identity_names.size(); }
};

namespace detail {
// Gives labels 0..n-1 in order of first appearance of sorted ids.
inline void label_identities(face_set& set, const std::vector<std::pair<std::string, std::string>>& image_ids,
                             const landmark_list& marks, on_bad_item policy, const std::string& source) {
  std::map<std::string, int> labels;
  for (const auto& [image, id] : image_ids) labels.emplace(id, 0);
  int next = 0;
  for (auto& [id, label] : labels) label = next++, set.identity_names.push_back(id);
  for (const auto& [image, id] : image_ids) {
    if (!marks.contains(image)) {
      const std::string why = source + ": no landmarks for image '" + image + "' in " + marks.source();
      if (policy == on_bad_item::fail) throw error(why);
      set.problems.push_back(why);
      continue;
    }
    set.faces.push_back({image, labels[id], marks.at(image).points});
  }
}
}  // namespace detail

// CelebA-style folder (as ../shared/data/celeba_subset): identity.txt
// ("<file> <identity>" per line), landmarks_aligned_yunet.txt, and the images
// in celeba_subset_aligned_178x218.tar (members img_align_yunet/<file>) or in
// a folder img_align_yunet/.
inline face_set read_celeba(const std::filesystem::path& root, on_bad_item policy = on_bad_item::fail) {
  face_set set;
  if (std::filesystem::exists(root / "celeba_subset_aligned_178x218.tar"))
    set.images = image_store::from_tar(root / "celeba_subset_aligned_178x218.tar", "img_align_yunet/");
  else if (std::filesystem::is_directory(root / "img_align_yunet"))
    set.images = image_store::from_folder(root / "img_align_yunet");
  else
    throw error(root.string() + ": no CelebA images (expected celeba_subset_aligned_178x218.tar or img_align_yunet/)");
  const auto identity_path = root / "identity.txt";
  auto in = io::open_input(identity_path, "the identity file");
  std::vector<std::pair<std::string, std::string>> image_ids;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string image, id, extra;
    if (!(f >> image >> id) || (f >> extra))
      throw error(identity_path.string() + ":" + std::to_string(line_no) + ": expected '<image> <identity>'");
    image_ids.emplace_back(image, id);
  }
  if (image_ids.empty()) throw error(identity_path.string() + ": no identities listed");
  detail::label_identities(set, image_ids, landmark_list::read(root / "landmarks_aligned_yunet.txt"), policy,
                           identity_path.string());
  return set;
}

// Folder per identity: root/<identity>/<image>, landmarks in a TSV whose image
// names are "<identity>/<image>" (the generic format of face/landmark_list.hpp).
inline face_set read_identity_folders(const std::filesystem::path& root, const std::filesystem::path& landmarks,
                                      on_bad_item policy = on_bad_item::fail) {
  face_set set;
  set.images = image_store::from_folder(root);
  std::vector<std::pair<std::string, std::string>> image_ids;
  std::vector<std::filesystem::path> people;
  for (const auto& entry : std::filesystem::directory_iterator(root))
    if (entry.is_directory()) people.push_back(entry.path());
  std::sort(people.begin(), people.end());
  for (const auto& person : people) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(person))
      if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) image_ids.emplace_back(person.filename().string() + "/" + f, person.filename().string());
  }
  if (image_ids.empty()) throw error(root.string() + ": no identity folders with images");
  detail::label_identities(set, image_ids, landmark_list::read(landmarks), policy, root.string());
  return set;
}

// Several sets as one: image "<tag>:<image>" and identity "<tag>:<id>" for
// each (tag, set), labels renumbered in order, the stores joined by
// image_store::tagged. Problems carry over with their tag.
inline face_set combine(std::vector<std::pair<std::string, face_set>> sets) {
  face_set out;
  std::vector<std::pair<std::string, image_store>> stores;
  for (auto& [tag, set] : sets) {
    const int first_label = int(out.identity_names.size());
    for (const auto& id : set.identity_names) out.identity_names.push_back(tag + ":" + id);
    for (auto& f : set.faces) out.faces.push_back({tag + ":" + f.image, first_label + f.identity, f.points});
    for (const auto& p : set.problems) out.problems.push_back(tag + ": " + p);
    stores.emplace_back(tag, std::move(set.images));
  }
  out.images = image_store::tagged(std::move(stores));
  return out;
}

}  // namespace face
DEEPID_NAMESPACE_END
