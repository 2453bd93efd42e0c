// The DeepID2+ ensembles of the tool (deepid train --scheme deepid2plus).
#include <deepid/features/net_families.hpp>

#include "ensembles_impl.hpp"

namespace deepid_cli {

std::unique_ptr<ensemble_handle> make_deepid2plus_ensemble(const std::string& scheme,
                                                           const std::vector<std::size_t>& types, std::uint64_t seed,
                                                           compute_device device) {
  return make_typed_ensemble<deepid::face::deepid2_candidates, deepid::features::deepid2plus_nets>(scheme, types, seed, device);
}

std::unique_ptr<ensemble_handle> load_deepid2plus_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                           compute_device device) {
  return load_typed_ensemble<deepid::face::deepid2_candidates, deepid::features::deepid2plus_nets>(scheme, dir, device);
}

}  // namespace deepid_cli
