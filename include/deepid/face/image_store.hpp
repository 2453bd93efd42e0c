#pragma once
// Where a data set's images live: inside an uncompressed tar (read in place,
// never extracted) or under a folder. Images are addressed by their name
// relative to the set's root, e.g. "AJ_Cook/AJ_Cook_0001.jpg".
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

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

  bool contains(const std::string& name) const {
    if (render_) return true;
    return tar_ ? tar_->contains(prefix_ + name) : std::filesystem::is_regular_file(folder_ / name);
  }

  cv::Mat load(const std::string& name) const {
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
    if (render_) return "generated images";
    return tar_ ? tar_->path().string() + " (tar)" : folder_.string();
  }

 private:
  std::filesystem::path folder_;
  std::shared_ptr<tar_archive> tar_;
  std::string prefix_;
  std::function<cv::Mat(const std::string&)> render_;
};

}  // namespace face
DEEPID_NAMESPACE_END
