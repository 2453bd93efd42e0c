#pragma once
// The typed side of the tool's ensembles: one ensemble_handle per (patch
// scheme, net family), instantiated in one translation unit per family so
// that the nets compile in parallel.
#include <algorithm>
#include <charconv>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/features/ensemble.hpp>
#include <deepid/features/ensemble_training.hpp>

#include "commands.hpp"
#include "ensembles.hpp"

#if defined(DEEPID_CLI_CUDA)
#include <deepid/backend/cuda.hpp>
#endif

namespace deepid_cli {

template <deepid::face::patch_scheme S, deepid::features::net_family Family = deepid::features::deepid1_nets,
          class Placement = deepid::features::on_cpu>
class typed_ensemble final : public ensemble_handle {
 public:
  using ensemble_type = deepid::features::ensemble<S, Family, Placement>;
  typed_ensemble(std::string name, ensemble_type e) : name_(std::move(name)), e_(std::move(e)) {}
  std::string scheme() const override { return name_; }
  std::vector<std::string> patch_names() const override {
    std::vector<std::string> names;
    for (auto t : e_.types()) names.emplace_back(S::patches[t].label());
    return names;
  }
  std::size_t dim() const override { return e_.dim(); }
  std::vector<std::string> output_names() const override { return e_.output_names(); }
  bool train(const deepid::face::face_set& set, const deepid::train::options& o, bool by_nets) override {
    const auto names = patch_names();
    const std::size_t rank = o.ranks ? o.ranks->rank() : 0;
    const auto report = [&](std::size_t k, const deepid::train::result& r) {
      if (!by_nets && rank != 0) return;  // every rank trained net k: rank 0 tells
      std::cout << (by_nets ? "rank " + std::to_string(rank) + ": " : "") << "net " << k + 1 << "/" << names.size()
                << " (" << names[k] << "): best validation top-1 error " << 100 * r.best_validation_error
                << "% at epoch " << r.best_epoch + 1 << std::endl;
    };
    if (by_nets && o.ranks) return deepid::features::train_ensemble_by_nets(e_, set, o, *o.ranks, report);
    return deepid::features::train_ensemble(e_, set, o, report);
  }
  deepid::matrix<float> extract(const deepid::face::face_source& faces, deepid::face::on_bad_item policy,
                                std::vector<std::size_t>& kept, std::vector<std::string>& problems,
                                const std::string& output) override {
    deepid::matrix<float> out;
    const auto batch = e_.extract(faces, out, policy, output.empty() ? e_.main_output() : e_.output_index(output));
    kept = batch.faces;
    problems = batch.problems;
    return out;
  }
  std::vector<deepid::matrix<float>> extract_outputs(const deepid::face::face_source& faces,
                                                     deepid::face::on_bad_item policy, std::vector<std::size_t>& kept,
                                                     std::vector<std::string>& problems) override {
    std::vector<deepid::matrix<float>> out;
    const auto batch = e_.extract_outputs(faces, out, policy);
    kept = batch.faces;
    problems = batch.problems;
    return out;
  }
  void save(const std::filesystem::path& dir) const override {
    e_.save(dir);
    deepid::io::atomic_file f(dir / "scheme.txt");
    f.write(name_ + "\n");
    f.commit();
  }

 private:
  std::string name_;
  ensemble_type e_;
};

template <deepid::face::patch_scheme S>
std::vector<std::size_t> parse_for(const std::string& text) {
  std::vector<std::size_t> types;
  const std::size_t n = S::patches.size();
  if (text == "all") {
    for (std::size_t i = 0; i < n; ++i) types.push_back(i);
    return types;
  }
  if (text.find_first_not_of("0123456789") == std::string::npos && text.find(',') == std::string::npos) {
    // A count: spread over regions and scales, RGB before gray.
    const std::size_t count = parse_integer("--patches", text, 1, n);
    std::vector<std::size_t> order;
    for (int colour = 0; colour < 2; ++colour)
      for (std::size_t scale = 0; scale < 5; ++scale)
        for (std::size_t region = 0; region < 20; ++region)
          for (std::size_t i = 0; i < n; ++i)
            if (S::patches[i].region == region && S::patches[i].scale == (scale + 1) % 5 &&
                int(S::patches[i].channels) == colour)
              order.push_back(i);
    for (std::size_t i = 0; i < n && order.size() < n; ++i)
      if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
    order.resize(count);
    std::sort(order.begin(), order.end());
    return order;
  }
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    if (item.empty()) continue;
    bool found = false;
    for (std::size_t i = 0; i < n && !found; ++i)
      if (S::patches[i].label() == item) types.push_back(i), found = true;
    if (!found) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), index);
      if (ec != std::errc() || end != item.data() + item.size() || index >= n)
        throw usage_error("--patches: '" + item + "' is neither a patch index below " + std::to_string(n) +
                          " nor a patch name of the scheme");
      types.push_back(index);
    }
  }
  if (types.empty()) throw usage_error("--patches names no patch");
  return types;
}


// The ensemble of (S, Family) with its nets on `device`.
template <deepid::face::patch_scheme S, deepid::features::net_family Family, class Make>
std::unique_ptr<ensemble_handle> on_device(compute_device device, Make&& make) {
  if (device == compute_device::cpu) return make.template operator()<deepid::features::on_cpu>();
#if defined(DEEPID_CLI_CUDA)
  return make.template operator()<deepid::cuda::on_gpu>();
#else
  throw usage_error("--device cuda: this deepid tool was built without the CUDA backend (configure with "
                    "-DDEEPID_CLI_CUDA=ON where CUDA's nvcc is installed)");
#endif
}

template <deepid::face::patch_scheme S, deepid::features::net_family Family>
std::unique_ptr<ensemble_handle> make_typed_ensemble(const std::string& scheme, const std::vector<std::size_t>& types,
                                                     std::uint64_t seed, compute_device device) {
  return on_device<S, Family>(device, [&]<class Placement>() -> std::unique_ptr<ensemble_handle> {
    return std::make_unique<typed_ensemble<S, Family, Placement>>(
        scheme, deepid::features::ensemble<S, Family, Placement>(types, seed));
  });
}

template <deepid::face::patch_scheme S, deepid::features::net_family Family>
std::unique_ptr<ensemble_handle> load_typed_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                     compute_device device) {
  return on_device<S, Family>(device, [&]<class Placement>() -> std::unique_ptr<ensemble_handle> {
    return std::make_unique<typed_ensemble<S, Family, Placement>>(
        scheme, deepid::features::ensemble<S, Family, Placement>::load(dir));
  });
}

}  // namespace deepid_cli
