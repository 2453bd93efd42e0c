#pragma once
// Labeled Faces in the Wild: images (the tar as shipped, or an extracted
// folder), lfw-names.txt, the View 2 pairs (pairs.txt, 10 folds of 300
// matched then 300 mismatched pairs) and View 1 lists (pairsDevTrain.txt,
// pairsDevTest.txt), and a landmark list.
//
// Layout of the folder (as ../shared/data/lfw): lfw-deepfunneled.tar or
// lfw-deepfunneled/<Name>/<Name>_NNNN.jpg (or lfw/<Name>/... from lfw.tgz),
// pairs.txt, lfw-names.txt, landmarks_deepfunneled_yunet.txt.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/face/image_store.hpp"
#include "deepid/face/landmark_list.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct face_pair {
  std::string first, second;  // image names, e.g. "AJ_Cook/AJ_Cook_0001.jpg"
  bool same = false;
  int fold = 0;
};

// "Name" and 1-based index -> "Name/Name_0001.jpg".
inline std::string lfw_image_name(const std::string& person, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%04d", index);
  return person + "/" + person + "_" + number + ".jpg";
}

namespace detail {
inline int parse_index(const std::string& token, const std::string& where) {
  int value = 0;
  std::size_t used = 0;
  try {
    value = std::stoi(token, &used);
  } catch (...) {
    used = 0;
  }
  if (used != token.size() || value < 1) throw error(where + ": '" + token + "' is not an image number (1, 2, ...)");
  return value;
}
}  // namespace detail

// Reads a pair list: pairs.txt (first line "folds pairs_per_half") or a View 1
// list (first line "pairs_per_half"). Each fold holds n matched then n
// mismatched pairs; View 1 lists are one fold.
inline std::vector<face_pair> read_lfw_pairs(const std::filesystem::path& path) {
  auto in = io::open_input(path, "the pair list");
  std::string header;
  std::getline(in, header);
  std::istringstream h(header);
  int folds = 0, per_half = 0;
  h >> folds;
  if (!(h >> per_half)) per_half = folds, folds = 1;
  if (folds < 1 || per_half < 1)
    throw error(path.string() + ":1: expected 'folds pairs' or 'pairs' as the first line, found '" + header + "'");
  std::vector<face_pair> pairs;
  std::string line;
  std::size_t line_no = 1;
  // In 64 bits: a damaged header may give counts whose product overflows an int.
  const std::int64_t pairs_per_fold = 2 * std::int64_t(per_half);
  for (int fold = 0; fold < folds; ++fold)
    for (std::int64_t k = 0; k < pairs_per_fold; ++k) {
      ++line_no;
      const std::string where = path.string() + ":" + std::to_string(line_no);
      if (!std::getline(in, line))
        throw error(where + ": the list ends early: expected " + std::to_string(folds * pairs_per_fold) + " pairs");
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::istringstream f(line);
      std::vector<std::string> t;
      for (std::string s; f >> s;) t.push_back(s);
      const bool same = k < per_half;
      face_pair p;
      p.same = same;
      p.fold = fold;
      if (same && t.size() == 3) {
        p.first = lfw_image_name(t[0], detail::parse_index(t[1], where));
        p.second = lfw_image_name(t[0], detail::parse_index(t[2], where));
      } else if (!same && t.size() == 4) {
        p.first = lfw_image_name(t[0], detail::parse_index(t[1], where));
        p.second = lfw_image_name(t[2], detail::parse_index(t[3], where));
      } else {
        throw error(where + ": expected " + (same ? "'name i j' (a matched pair)" : "'name1 i name2 j' (a mismatched pair)") +
                    ", found " + std::to_string(t.size()) + " fields");
      }
      pairs.push_back(std::move(p));
    }
  // Rows past the count the first line gives would be silently dropped.
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      throw error(path.string() + ":" + std::to_string(line_no) + ": more pairs than the first line's " +
                  std::to_string(pairs.size()) + " ('" + header + "')");
  }
  return pairs;
}

struct lfw_person {
  std::string name;
  int images = 0;
};

inline std::vector<lfw_person> read_lfw_names(const std::filesystem::path& path) {
  auto in = io::open_input(path, "the names list");
  std::vector<lfw_person> people;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::istringstream f(line);
    lfw_person p;
    std::string count;
    if (!(f >> p.name >> count))
      throw error(path.string() + ":" + std::to_string(line_no) + ": expected 'name count'");
    p.images = detail::parse_index(count, path.string() + ":" + std::to_string(line_no));
    people.push_back(p);
  }
  if (people.empty()) throw error(path.string() + ": lists no people (expected 'name count' lines)");
  return people;
}

class lfw_dataset {
 public:
  // Opens an LFW folder; `landmarks` overrides the landmark list's path.
  static lfw_dataset open(const std::filesystem::path& root, std::filesystem::path landmarks = {}) {
    if (!std::filesystem::is_directory(root)) throw error(root.string() + ": not an LFW folder");
    lfw_dataset d;
    d.root_ = root;
    if (std::filesystem::exists(root / "lfw-deepfunneled.tar"))
      d.images_ = image_store::from_tar(root / "lfw-deepfunneled.tar", "lfw-deepfunneled/");
    else if (std::filesystem::is_directory(root / "lfw-deepfunneled"))
      d.images_ = image_store::from_folder(root / "lfw-deepfunneled");
    else if (std::filesystem::is_directory(root / "lfw"))
      d.images_ = image_store::from_folder(root / "lfw");
    else
      throw error(root.string() + ": no LFW images (expected lfw-deepfunneled.tar, lfw-deepfunneled/ or lfw/)");
    if (landmarks.empty()) landmarks = root / "landmarks_deepfunneled_yunet.txt";
    d.landmarks_ = landmark_list::read(landmarks);
    return d;
  }

  const image_store& images() const { return images_; }
  const landmark_list& landmarks() const { return landmarks_; }
  cv::Mat load(const std::string& image) const { return images_.load(image); }

  std::vector<face_pair> view2_pairs() const { return read_lfw_pairs(root_ / "pairs.txt"); }
  std::vector<face_pair> view1_train_pairs() const { return read_lfw_pairs(root_ / "pairsDevTrain.txt"); }
  std::vector<face_pair> view1_test_pairs() const { return read_lfw_pairs(root_ / "pairsDevTest.txt"); }
  std::vector<lfw_person> people() const { return read_lfw_names(root_ / "lfw-names.txt"); }

  // Every image name, in lfw-names.txt order.
  std::vector<std::string> image_names() const {
    std::vector<std::string> names;
    for (const auto& p : people())
      for (int i = 1; i <= p.images; ++i) names.push_back(lfw_image_name(p.name, i));
    return names;
  }

 private:
  std::filesystem::path root_;
  image_store images_;
  landmark_list landmarks_;
};

}  // namespace face
DEEPID_NAMESPACE_END
