// The DeepID3 net1 ensembles of the tool (deepid train --scheme deepid3-net1[-reduced]).
#include <deepid/features/net_families.hpp>

#include "ensembles_impl.hpp"

namespace deepid_cli {

namespace {
using deepid::face::deepid2_candidates;
using paper = deepid::features::deepid3_net1_nets;
using reduced = deepid::features::deepid3_net1_reduced_nets;
bool is_reduced(const std::string& scheme) { return scheme.ends_with("-reduced"); }
}  // namespace

std::unique_ptr<ensemble_handle> make_deepid3_net1_ensemble(const std::string& scheme,
                                                            const std::vector<std::size_t>& types, std::uint64_t seed,
                                                            compute_device device) {
  if (is_reduced(scheme)) return make_typed_ensemble<deepid2_candidates, reduced>(scheme, types, seed, device);
  return make_typed_ensemble<deepid2_candidates, paper>(scheme, types, seed, device);
}

std::unique_ptr<ensemble_handle> load_deepid3_net1_ensemble(const std::string& scheme, const std::filesystem::path& dir,
                                                            compute_device device) {
  if (is_reduced(scheme)) return load_typed_ensemble<deepid2_candidates, reduced>(scheme, dir, device);
  return load_typed_ensemble<deepid2_candidates, paper>(scheme, dir, device);
}

}  // namespace deepid_cli
