// The DeepID3 models of the deepid tool: net1 (VGG) and net2 (Inception), at
// paper widths and reduced widths (docs/design.md).
#include <deepid/models/deepid3.hpp>

#include "registry_impl.hpp"

namespace deepid_cli {

std::vector<model_entry> deepid3_models() {
  namespace dp = deepid;
  using rect = dp::patch_shape<3, 55, 47>;
  using gray = dp::patch_shape<1, 47, 47>;
  using reduced = dp::deepid3_reduced_widths;
  const std::string net1 = "DeepID3 net1 (VGG): 3x3 conv pairs 64/96/192, locally connected 256, heads after pool1-3";
  const std::string net2 = "DeepID3 net2 (Inception): conv pairs 64/96, 3 + 2 Inception modules 192/256, heads";
  const std::string net1_small = "DeepID3 net1 at reduced widths 16/24/48/64";
  const std::string net2_small = "DeepID3 net2 at reduced widths 16/24/48/64";
  return {
      make_entry<dp::deepid3_net1<rect>>("deepid3-net1-55x47x3", net1),
      make_entry<dp::deepid3_net2<rect>>("deepid3-net2-55x47x3", net2),
      make_entry<dp::deepid3_net1<rect, reduced>>("deepid3-net1-55x47x3-reduced", net1_small),
      make_entry<dp::deepid3_net2<rect, reduced>>("deepid3-net2-55x47x3-reduced", net2_small),
      make_entry<dp::deepid3_net1<gray, reduced>>("deepid3-net1-47x47x1-reduced", net1_small),
      make_entry<dp::deepid3_net2<gray, reduced>>("deepid3-net2-47x47x1-reduced", net2_small),
  };
}

}  // namespace deepid_cli
