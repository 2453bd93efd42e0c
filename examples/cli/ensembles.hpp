#pragma once
// Patch-net ensembles of the tool's two schemes, behind one interface so the
// nets are compiled once (ensembles.cpp) for every subcommand that uses them.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <deepid/core/tensor.hpp>
#include <deepid/face/face_set.hpp>
#include <deepid/face/patch_batch.hpp>
#include <deepid/train/trainer.hpp>

namespace deepid_cli {

class ensemble_handle {
 public:
  virtual ~ensemble_handle() = default;
  virtual std::string scheme() const = 0;
  virtual std::vector<std::string> patch_names() const = 0;
  virtual std::size_t dim() const = 0;
  // Trains every net; prints one line per net; false when interrupted.
  virtual bool train(const deepid::face::face_set& set, const deepid::train::options& o) = 0;
  virtual deepid::matrix<float> extract(const deepid::face::face_source& faces, deepid::face::on_bad_item policy,
                                        std::vector<std::size_t>& kept, std::vector<std::string>& problems) = 0;
  virtual void save(const std::filesystem::path& dir) const = 0;
};

// scheme: "deepid1" (60 patches, 39x31 / 31x31) or "deepid2" (200 candidates, 55x47 / 47x47).
std::unique_ptr<ensemble_handle> make_ensemble(const std::string& scheme, const std::vector<std::size_t>& types,
                                               std::uint64_t seed);
std::unique_ptr<ensemble_handle> load_ensemble(const std::filesystem::path& dir);

// "all", a count N (N types spread over regions, RGB first), or a list of
// indices or names ("0,7,face.s1.rgb").
std::vector<std::size_t> parse_patch_list(const std::string& scheme, const std::string& text);

}  // namespace deepid_cli
