#pragma once
// Patch-net ensembles of the tool's schemes, behind one interface so the nets
// are compiled once (ensembles*.cpp) for every subcommand that uses them.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <deepid/core/tensor.hpp>
#include <deepid/face/face_set.hpp>
#include <deepid/face/patch_batch.hpp>
#include <deepid/train/trainer.hpp>

#include "commands.hpp"

namespace deepid_cli {

class ensemble_handle {
 public:
  virtual ~ensemble_handle() = default;
  virtual std::string scheme() const = 0;
  virtual std::vector<std::string> patch_names() const = 0;
  virtual std::size_t dim() const = 0;
  // The nets' outputs: supervised heads (DeepID2+, DeepID3), then the main one.
  virtual std::vector<std::string> output_names() const = 0;
  // Trains every net; prints one line per net; false when interrupted. With
  // o.ranks: every net across the ranks, or with `by_nets` whole nets per rank.
  virtual bool train(const deepid::face::face_set& set, const deepid::train::options& o, bool by_nets = false) = 0;
  // Features of every face from output `output` of each net ("": the main one).
  virtual deepid::matrix<float> extract(const deepid::face::face_source& faces, deepid::face::on_bad_item policy,
                                        std::vector<std::size_t>& kept, std::vector<std::string>& problems,
                                        const std::string& output = "") = 0;
  // Every output at once (output_names() order), one forward pass per net.
  virtual std::vector<deepid::matrix<float>> extract_outputs(const deepid::face::face_source& faces,
                                                             deepid::face::on_bad_item policy,
                                                             std::vector<std::size_t>& kept,
                                                             std::vector<std::string>& problems) = 0;
  virtual void save(const std::filesystem::path& dir) const = 0;
};

// Where an ensemble's nets run: --device cpu (the default) or cuda (a tool
// configured with -DDEEPID_CLI_CUDA=ON where nvcc is found).
enum class compute_device { cpu, cuda };
compute_device parse_device(const std::string& text);
inline compute_device device_option(const options& o) {
  return o.has("device") ? parse_device(o.required("device")) : compute_device::cpu;
}

// scheme: "deepid1" (60 patches, 39x31 / 31x31), "deepid1-100" (the same ten
// regions at five scales), "deepid2" (200 candidates,
// 55x47 / 47x47), or a deeper family on DeepID2's candidates: "deepid2plus",
// "deepid3-net1", "deepid3-net2" and their "-reduced" widths.
std::unique_ptr<ensemble_handle> make_ensemble(const std::string& scheme, const std::vector<std::size_t>& types,
                                               std::uint64_t seed, compute_device device = compute_device::cpu);
std::unique_ptr<ensemble_handle> load_ensemble(const std::filesystem::path& dir,
                                               compute_device device = compute_device::cpu);
bool deep_scheme(const std::string& scheme);

// The deeper families, one translation unit each.
std::unique_ptr<ensemble_handle> make_deepid2plus_ensemble(const std::string& scheme,
                                                           const std::vector<std::size_t>& types, std::uint64_t seed,
                                                           compute_device device);
std::unique_ptr<ensemble_handle> load_deepid2plus_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                           compute_device device);
std::unique_ptr<ensemble_handle> make_deepid3_net1_ensemble(const std::string& scheme,
                                                            const std::vector<std::size_t>& types, std::uint64_t seed,
                                                            compute_device device);
std::unique_ptr<ensemble_handle> load_deepid3_net1_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                            compute_device device);
std::unique_ptr<ensemble_handle> make_deepid3_net2_ensemble(const std::string& scheme,
                                                            const std::vector<std::size_t>& types, std::uint64_t seed,
                                                            compute_device device);
std::unique_ptr<ensemble_handle> load_deepid3_net2_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                            compute_device device);

// "all", a count N (N types spread over regions, RGB first), or a list of
// indices or names ("0,7,face.s1.rgb").
std::vector<std::size_t> parse_patch_list(const std::string& scheme, const std::string& text);

}  // namespace deepid_cli
