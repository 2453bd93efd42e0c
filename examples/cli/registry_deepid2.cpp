// The DeepID2 models of the deepid tool (one of the two translation units
// that instantiate networks).
#include <deepid/models/deepid2.hpp>

#include "registry_impl.hpp"

namespace deepid_cli {

std::vector<model_entry> deepid2_models() {
  namespace dp = deepid;
  const std::string paper = "DeepID2: conv3 locally shared on 2x2 regions, conv4 locally connected";
  const std::string plain = "DeepID2 with ordinary convolutions";
  return {
      make_entry<dp::deepid2<dp::patch_shape<3, 55, 47>>>("deepid2-55x47x3", paper),
      make_entry<dp::deepid2_plain<dp::patch_shape<3, 55, 47>>>("deepid2-55x47x3-plain", plain),
      make_entry<dp::deepid2<dp::patch_shape<1, 55, 47>>>("deepid2-55x47x1", paper),
      make_entry<dp::deepid2_plain<dp::patch_shape<1, 55, 47>>>("deepid2-55x47x1-plain", plain),
      make_entry<dp::deepid2<dp::patch_shape<3, 47, 47>>>("deepid2-47x47x3", paper),
      make_entry<dp::deepid2_plain<dp::patch_shape<3, 47, 47>>>("deepid2-47x47x3-plain", plain),
      make_entry<dp::deepid2<dp::patch_shape<1, 47, 47>>>("deepid2-47x47x1", paper),
      make_entry<dp::deepid2_plain<dp::patch_shape<1, 47, 47>>>("deepid2-47x47x1-plain", plain),
  };
}

}  // namespace deepid_cli
