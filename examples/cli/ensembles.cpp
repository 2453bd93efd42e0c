// The ensembles of the tool's schemes. DeepID1 and DeepID2 nets compile
// here; the deeper families in ensembles_deepid2plus.cpp and
// ensembles_deepid3*.cpp.
#include "ensembles.hpp"

#include <fstream>

#include "ensembles_impl.hpp"

namespace deepid_cli {

namespace {

using deepid::face::deepid1_scheme;
using deepid::face::deepid1_scheme_100;
using deepid::face::deepid2_candidates;

const char* const scheme_list = "deepid1, deepid1-100, deepid2, deepid2plus, deepid3-net1, deepid3-net2, deepid3-net1-reduced, deepid3-net2-reduced";

// The deeper schemes cut DeepID2's candidate patches (55x47 and 47x47).
bool on_candidates(const std::string& scheme) { return scheme == "deepid2" || deep_scheme(scheme); }

}  // namespace

bool deep_scheme(const std::string& scheme) {
  return scheme == "deepid2plus" || scheme == "deepid3-net1" || scheme == "deepid3-net2" ||
         scheme == "deepid3-net1-reduced" || scheme == "deepid3-net2-reduced";
}

std::vector<std::size_t> parse_patch_list(const std::string& scheme, const std::string& text) {
  if (scheme == "deepid1") return parse_for<deepid1_scheme>(text);
  if (scheme == "deepid1-100") return parse_for<deepid1_scheme_100>(text);
  if (on_candidates(scheme)) return parse_for<deepid2_candidates>(text);
  throw usage_error("unknown --scheme '" + scheme + "' (" + scheme_list + ")");
}

compute_device parse_device(const std::string& text) {
  if (text == "cpu") return compute_device::cpu;
  if (text == "cuda") return compute_device::cuda;
  throw usage_error("unknown --device '" + text + "' (cpu or cuda)");
}

std::unique_ptr<ensemble_handle> make_ensemble(const std::string& scheme, const std::vector<std::size_t>& types,
                                               std::uint64_t seed, compute_device device) {
  if (scheme == "deepid1") return make_typed_ensemble<deepid1_scheme, deepid::features::deepid1_nets>(scheme, types, seed, device);
  if (scheme == "deepid1-100")
    return make_typed_ensemble<deepid1_scheme_100, deepid::features::deepid1_nets>(scheme, types, seed, device);
  if (scheme == "deepid2")
    return make_typed_ensemble<deepid2_candidates, deepid::features::deepid1_nets>(scheme, types, seed, device);
  if (scheme == "deepid2plus") return make_deepid2plus_ensemble(scheme, types, seed, device);
  if (scheme == "deepid3-net1" || scheme == "deepid3-net1-reduced") return make_deepid3_net1_ensemble(scheme, types, seed, device);
  if (scheme == "deepid3-net2" || scheme == "deepid3-net2-reduced") return make_deepid3_net2_ensemble(scheme, types, seed, device);
  throw usage_error("unknown --scheme '" + scheme + "' (" + scheme_list + ")");
}

std::unique_ptr<ensemble_handle> load_ensemble(const std::filesystem::path& dir, compute_device device) {
  if (!std::filesystem::exists(dir / "scheme.txt"))
    throw deepid::error((dir / "scheme.txt").string() + ": cannot open (is " + dir.string() + " a model folder made by 'deepid train'?)");
  auto in = deepid::io::open_input(dir / "scheme.txt", "the model folder's scheme");
  std::string scheme;
  in >> scheme;
  if (scheme == "deepid1") return load_typed_ensemble<deepid1_scheme, deepid::features::deepid1_nets>(scheme, dir, device);
  if (scheme == "deepid1-100")
    return load_typed_ensemble<deepid1_scheme_100, deepid::features::deepid1_nets>(scheme, dir, device);
  if (scheme == "deepid2") return load_typed_ensemble<deepid2_candidates, deepid::features::deepid1_nets>(scheme, dir, device);
  if (scheme == "deepid2plus") return load_deepid2plus_ensemble(scheme, dir, device);
  if (scheme == "deepid3-net1" || scheme == "deepid3-net1-reduced") return load_deepid3_net1_ensemble(scheme, dir, device);
  if (scheme == "deepid3-net2" || scheme == "deepid3-net2-reduced") return load_deepid3_net2_ensemble(scheme, dir, device);
  throw deepid::error((dir / "scheme.txt").string() + ": unknown scheme '" + scheme + "'");
}

}  // namespace deepid_cli
