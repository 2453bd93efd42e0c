#pragma once
// Where a data set's images live: inside an uncompressed tar (read in place,
// never extracted) or under a folder. Images are addressed by their name
// relative to the set's root, e.g. "AJ_Cook/AJ_Cook_0001.jpg".
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/face/image.hpp"
#include "deepid/face/tar_archive.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

class image_store {
 public:
  // Images under `folder`: folder / name.
  static image_store from_folder(std::filesystem::path folder) {
    if (!std::filesystem::is_directory(folder)) throw error(folder.string() + ": not a folder of images");
    image_store s;
    s.folder_ = std::move(folder);
    return s;
  }
  // Images inside `tar`, as members `prefix + name`.
  static image_store from_tar(const std::filesystem::path& tar, std::string prefix) {
    image_store s;
    s.tar_ = std::make_shared<tar_archive>(tar);
    s.prefix_ = std::move(prefix);
    return s;
  }

  // Images made on demand by `render(name)` (the synthetic identities).
  static image_store from_function(std::function<cv::Mat(const std::string&)> render) {
    image_store s;
    s.render_ = std::move(render);
    return s;
  }

  // Several stores under one name space: "<tag>:<name>" is image <name> of
  // the store tagged <tag> (training on CelebA and LFW people together).
  static image_store tagged(std::vector<std::pair<std::string, image_store>> parts) {
    if (parts.empty()) throw error("image_store::tagged: no stores given");
    for (const auto& [tag, store] : parts)
      if (tag.empty() || tag.find(':') != std::string::npos)
        throw error("image_store::tagged: tag '" + tag + "' is empty or holds ':'");
    image_store s;
    s.parts_ = std::make_shared<std::vector<std::pair<std::string, image_store>>>(std::move(parts));
    return s;
  }

  bool contains(const std::string& name) const {
    if (parts_) {
      const auto [part, rest] = route(name);
      return part && part->contains(rest);
    }
    if (render_) return true;
    return tar_ ? tar_->contains(prefix_ + name) : std::filesystem::is_regular_file(folder_ / name);
  }

  cv::Mat load(const std::string& name) const {
    if (parts_) {
      const auto [part, rest] = route(name);
      if (!part) throw error(describe() + ": image '" + name + "' names no tagged store ('<tag>:<image>')");
      return part->load(rest);
    }
    if (render_) return render_(name);
    if (tar_) {
      if (!tar_->contains(prefix_ + name))
        throw error(tar_->path().string() + ": image '" + prefix_ + name + "' is missing from the archive");
      return decode_image(tar_->read(prefix_ + name), tar_->path().string() + ":" + prefix_ + name);
    }
    const auto path = folder_ / name;
    if (!std::filesystem::exists(path)) throw error(path.string() + ": image file is missing");
    return load_image(path);
  }

  std::string describe() const {
    if (parts_) {
      std::string all;
      for (const auto& [tag, store] : *parts_) all += (all.empty() ? "" : ", ") + tag + ": " + store.describe();
      return all;
    }
    if (render_) return "generated images";
    return tar_ ? tar_->path().string() + " (tar)" : folder_.string();
  }

 private:
  std::pair<const image_store*, std::string> route(const std::string& name) const {
    const auto colon = name.find(':');
    if (colon != std::string::npos)
      for (const auto& [tag, store] : *parts_)
        if (name.compare(0, colon, tag) == 0 && colon == tag.size()) return {&store, name.substr(colon + 1)};
    return {nullptr, {}};
  }

  std::filesystem::path folder_;
  std::shared_ptr<tar_archive> tar_;
  std::string prefix_;
  std::function<cv::Mat(const std::string&)> render_;
  std::shared_ptr<const std::vector<std::pair<std::string, image_store>>> parts_;
};

}  // namespace face
DEEPID_NAMESPACE_END
