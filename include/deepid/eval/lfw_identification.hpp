#pragma once
// The LFW gallery/probe split for identification (eval/identification.hpp),
// made from the image names of a feature file ("Name/Name_0001.jpg", as
// `deepid features` writes them). People are taken in name order and each
// person's images in file-name order; docs/identification.md states the
// protocol and where it differs from the published one.
//
//   closed set   every person with two or more images: the first image in
//                the gallery, the others are probes.
//   open set     `gallery_people` people drawn (seeded) from those with two
//                or more images: the first image in the gallery, the others
//                are genuine probes; every image of everyone else (people
//                with one image included) is an impostor probe.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/eval/identification.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// "Name/Name_0003.jpg" -> person "Name", number 3; anything else -> nothing.
struct lfw_image_id {
  std::string person;
  int number = 0;
};

inline std::optional<lfw_image_id> parse_lfw_image_name(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  const std::string_view person = name.substr(0, slash), file = name.substr(slash + 1);
  const std::string_view file_person = file.substr(0, person.size());
  // The file is the person's name, '_', at least four digits, ".jpg".
  if (file_person != person || file.size() < person.size() + 9 || file[person.size()] != '_' ||
      file.substr(file.size() - 4) != ".jpg")
    return std::nullopt;
  const std::string_view digits = file.substr(person.size() + 1, file.size() - person.size() - 5);
  if (digits.size() < 4 || digits.size() > 9) return std::nullopt;
  int number = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + (c - '0');
  }
  if (number < 1) return std::nullopt;
  return lfw_image_id{std::string(person), number};
}

namespace detail {

// Feature rows by person (name order), each person's rows in file-name order.
inline std::map<std::string, std::vector<std::pair<std::string, std::size_t>>> rows_by_person(
    std::span<const std::string> names, const std::string& source) {
  std::map<std::string, std::vector<std::pair<std::string, std::size_t>>> people;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto id = parse_lfw_image_name(names[i]);
    if (!id)
      throw error(source + ": row " + std::to_string(i) + " is named '" + names[i] +
                  "', not an LFW image (expected Name/Name_0001.jpg)");
    people[id->person].emplace_back(names[i], i);
  }
  for (auto& [person, images] : people) {
    std::sort(images.begin(), images.end());
    for (std::size_t k = 1; k < images.size(); ++k)
      if (images[k].first == images[k - 1].first) throw error(source + ": image '" + images[k].first + "' appears twice");
  }
  return people;
}

}  // namespace detail

inline identification_split closed_set_split(std::span<const std::string> names, const std::string& source) {
  identification_split s;
  for (const auto& [person, images] : detail::rows_by_person(names, source)) {
    if (images.size() < 2) continue;
    const auto mate = std::ptrdiff_t(s.gallery.size());
    s.gallery.push_back(images[0].second);
    for (std::size_t k = 1; k < images.size(); ++k) s.probes.push_back(images[k].second), s.mate.push_back(mate);
  }
  if (s.gallery.empty())
    throw error(source + ": no person has two or more images, so the closed-set gallery is empty");
  return s;
}

inline identification_split open_set_split(std::span<const std::string> names, std::size_t gallery_people,
                                           std::uint64_t seed, const std::string& source) {
  const auto people = detail::rows_by_person(names, source);
  std::vector<const std::string*> eligible;
  for (const auto& [person, images] : people)
    if (images.size() >= 2) eligible.push_back(&person);
  if (gallery_people == 0) throw error(source + ": the open-set gallery is empty (0 people asked for)");
  if (gallery_people > eligible.size())
    throw error(source + ": the open-set gallery needs " + std::to_string(gallery_people) +
                " people with two or more images, the file has " + std::to_string(eligible.size()));
  // A seeded partial Fisher-Yates shuffle: the first gallery_people entries are the draw.
  rng draw(mix64(seed));
  for (std::size_t i = 0; i < gallery_people; ++i)
    std::swap(eligible[i], eligible[i + std::size_t(draw.next() % (eligible.size() - i))]);
  std::map<std::string, bool> in_gallery;
  for (std::size_t i = 0; i < gallery_people; ++i) in_gallery[*eligible[i]] = true;

  identification_split s;
  for (const auto& [person, images] : people) {
    if (!in_gallery.count(person)) {
      for (const auto& image : images) s.probes.push_back(image.second), s.mate.push_back(identification_split::impostor);
      continue;
    }
    const auto mate = std::ptrdiff_t(s.gallery.size());
    s.gallery.push_back(images[0].second);
    for (std::size_t k = 1; k < images.size(); ++k) s.probes.push_back(images[k].second), s.mate.push_back(mate);
  }
  if (s.impostor_probes() == 0)
    throw error(source + ": the open set has no impostor probes (every person is in the gallery)");
  return s;
}

}  // namespace eval
DEEPID_NAMESPACE_END
