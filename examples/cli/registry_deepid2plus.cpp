// The DeepID2+ models of the deepid tool (reading B of conv3's sharing).
#include <deepid/models/deepid2plus.hpp>

#include "registry_impl.hpp"

namespace deepid_cli {

std::vector<model_entry> deepid2plus_models() {
  namespace dp = deepid;
  const std::string text = "DeepID2+: 128 maps, FC-1..FC-3 heads after pool1-3, FC-4 from pool3 + conv4";
  return {
      make_entry<dp::deepid2plus<dp::patch_shape<3, 55, 47>>>("deepid2plus-55x47x3", text),
      make_entry<dp::deepid2plus<dp::patch_shape<1, 55, 47>>>("deepid2plus-55x47x1", text),
      make_entry<dp::deepid2plus<dp::patch_shape<3, 47, 47>>>("deepid2plus-47x47x3", text),
      make_entry<dp::deepid2plus<dp::patch_shape<1, 47, 47>>>("deepid2plus-47x47x1", text),
  };
}

}  // namespace deepid_cli
