// The ensembles of the tool's schemes, compiled once.
#include "ensembles.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <deepid/features/ensemble.hpp>

#include "commands.hpp"

namespace deepid_cli {

namespace {

template <deepid::face::patch_scheme S>
class typed_ensemble final : public ensemble_handle {
 public:
  typed_ensemble(std::string name, deepid::features::ensemble<S> e) : name_(std::move(name)), e_(std::move(e)) {}
  std::string scheme() const override { return name_; }
  std::vector<std::string> patch_names() const override {
    std::vector<std::string> names;
    for (auto t : e_.types()) names.emplace_back(S::patches[t].label());
    return names;
  }
  std::size_t dim() const override { return e_.dim(); }
  bool train(const deepid::face::face_set& set, const deepid::train::options& o) override {
    const auto names = patch_names();
    return e_.train(set, o, [&](std::size_t k, const deepid::train::result& r) {
      std::cout << "net " << k + 1 << "/" << names.size() << " (" << names[k] << "): best validation top-1 error "
                << 100 * r.best_validation_error << "% at epoch " << r.best_epoch + 1 << std::endl;
    });
  }
  deepid::matrix<float> extract(const deepid::face::face_source& faces, deepid::face::on_bad_item policy,
                                std::vector<std::size_t>& kept, std::vector<std::string>& problems) override {
    deepid::matrix<float> out;
    const auto batch = e_.extract(faces, out, policy);
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
  deepid::features::ensemble<S> e_;
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
    const std::size_t count = std::stoul(text);
    if (count == 0 || count > n) throw usage_error("--patches " + text + ": the scheme has " + std::to_string(n) + " patches");
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
      if (item.find_first_not_of("0123456789") != std::string::npos || std::stoul(item) >= n)
        throw usage_error("--patches: '" + item + "' is neither a patch index below " + std::to_string(n) +
                          " nor a patch name of the scheme");
      types.push_back(std::stoul(item));
    }
  }
  if (types.empty()) throw usage_error("--patches names no patch");
  return types;
}

}  // namespace

std::vector<std::size_t> parse_patch_list(const std::string& scheme, const std::string& text) {
  if (scheme == "deepid1") return parse_for<deepid::face::deepid1_scheme>(text);
  if (scheme == "deepid2") return parse_for<deepid::face::deepid2_candidates>(text);
  throw usage_error("unknown --scheme '" + scheme + "' (deepid1 or deepid2)");
}

std::unique_ptr<ensemble_handle> make_ensemble(const std::string& scheme, const std::vector<std::size_t>& types,
                                               std::uint64_t seed) {
  if (scheme == "deepid1")
    return std::make_unique<typed_ensemble<deepid::face::deepid1_scheme>>(
        scheme, deepid::features::ensemble<deepid::face::deepid1_scheme>(types, seed));
  if (scheme == "deepid2")
    return std::make_unique<typed_ensemble<deepid::face::deepid2_candidates>>(
        scheme, deepid::features::ensemble<deepid::face::deepid2_candidates>(types, seed));
  throw usage_error("unknown --scheme '" + scheme + "' (deepid1 or deepid2)");
}

std::unique_ptr<ensemble_handle> load_ensemble(const std::filesystem::path& dir) {
  std::ifstream in(dir / "scheme.txt");
  if (!in) throw deepid::error((dir / "scheme.txt").string() + ": cannot open (is " + dir.string() + " a model folder made by 'deepid train'?)");
  std::string scheme;
  in >> scheme;
  if (scheme == "deepid1")
    return std::make_unique<typed_ensemble<deepid::face::deepid1_scheme>>(
        scheme, deepid::features::ensemble<deepid::face::deepid1_scheme>::load(dir));
  if (scheme == "deepid2")
    return std::make_unique<typed_ensemble<deepid::face::deepid2_candidates>>(
        scheme, deepid::features::ensemble<deepid::face::deepid2_candidates>::load(dir));
  throw deepid::error((dir / "scheme.txt").string() + ": unknown scheme '" + scheme + "'");
}

}  // namespace deepid_cli
