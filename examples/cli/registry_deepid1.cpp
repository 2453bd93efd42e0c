// The DeepID1 models of the deepid tool (one of the two translation units
// that instantiate networks).
#include <deepid/models/deepid1.hpp>

#include "registry_impl.hpp"

namespace deepid_cli {

std::vector<model_entry> deepid1_models() {
  namespace dp = deepid;
  const std::string paper = "DeepID1: conv3 locally shared on 2x2 regions, conv4 locally connected";
  const std::string plain = "DeepID1 with ordinary convolutions";
  return {
      make_entry<dp::deepid1<dp::patch_shape<3, 39, 31>>>("deepid1-39x31x3", paper),
      make_entry<dp::deepid1_plain<dp::patch_shape<3, 39, 31>>>("deepid1-39x31x3-plain", plain),
      make_entry<dp::deepid1<dp::patch_shape<1, 39, 31>>>("deepid1-39x31x1", paper),
      make_entry<dp::deepid1_plain<dp::patch_shape<1, 39, 31>>>("deepid1-39x31x1-plain", plain),
      make_entry<dp::deepid1<dp::patch_shape<3, 31, 31>>>("deepid1-31x31x3", paper),
      make_entry<dp::deepid1_plain<dp::patch_shape<3, 31, 31>>>("deepid1-31x31x3-plain", plain),
      make_entry<dp::deepid1<dp::patch_shape<1, 31, 31>>>("deepid1-31x31x1", paper),
      make_entry<dp::deepid1_plain<dp::patch_shape<1, 31, 31>>>("deepid1-31x31x1-plain", plain),
  };
}

}  // namespace deepid_cli
