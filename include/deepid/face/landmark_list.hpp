#pragma once
// Landmark lists: one face per line, the image name then ten coordinates
// (left eye x y, right eye x y, nose x y, left mouth corner x y, right mouth
// corner x y; "left" = image-left), separated by tabs or spaces. Lines that
// start with '#' and blank lines are skipped; further columns (scores, boxes)
// are ignored. This covers the LFW and CelebA lists in the shared data and is
// the documented generic TSV format (docs/faces.md).
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/face/landmarks.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct named_landmarks {
  std::string image;
  landmarks5 points;
  std::size_t line = 0;
};

class landmark_list {
 public:
  landmark_list() = default;

  static landmark_list read(const std::filesystem::path& path) {
    auto in = io::open_input(path, "the landmark list");
    landmark_list list;
    list.source_ = path.string();
    std::string text;
    std::size_t line_no = 0;
    while (std::getline(in, text)) {
      ++line_no;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      const auto first = text.find_first_not_of(" \t");
      if (first == std::string::npos || text[first] == '#') continue;
      list.add(parse_line(text, path.string() + ":" + std::to_string(line_no)), line_no);
    }
    if (list.rows_.empty()) throw error(path.string() + ": the landmark list holds no landmark rows");
    return list;
  }

  // "name x1 y1 ... x5 y5 [ignored...]"; `where` names file and line for errors.
  static named_landmarks parse_line(const std::string& text, const std::string& where) {
    std::istringstream fields(text);
    named_landmarks row;
    if (!(fields >> row.image)) throw error(where + ": empty landmark line");
    for (int i = 0; i < 10; ++i) {
      std::string token;
      if (!(fields >> token))
        throw error(where + ": expected 10 coordinates after '" + row.image + "', found " + std::to_string(i));
      double value = 0;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
      if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(value))
        throw error(where + ": coordinate " + std::to_string(i + 1) + " of '" + row.image + "' is not a number: '" +
                    token + "'");
      (i % 2 ? row.points.points[i / 2].y : row.points.points[i / 2].x) = value;
    }
    return row;
  }

  void add(named_landmarks row, std::size_t line) {
    row.line = line;
    if (by_name_.count(row.image))
      throw error(source_ + ":" + std::to_string(line) + ": landmarks for '" + row.image + "' appear twice");
    by_name_[row.image] = rows_.size();
    rows_.push_back(std::move(row));
  }

  const std::vector<named_landmarks>& rows() const { return rows_; }
  std::size_t size() const { return rows_.size(); }
  bool contains(const std::string& image) const { return by_name_.count(image) > 0; }

  const named_landmarks& at(const std::string& image) const {
    const auto it = by_name_.find(image);
    if (it == by_name_.end()) throw error(source_ + ": no landmarks for image '" + image + "'");
    return rows_[it->second];
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_ = "landmarks";
  std::vector<named_landmarks> rows_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

}  // namespace face
DEEPID_NAMESPACE_END
