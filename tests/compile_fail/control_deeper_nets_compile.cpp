// expect-compiles: heads, Inception modules, padded and floor pooling in a
// correct net compile, so the deeper nets' failures above are the misuses'.
#include <deepid/deepid.hpp>
namespace dp = deepid;
using net2 = dp::deepid3_net2<dp::patch_shape<3, 55, 47>, dp::deepid3_reduced_widths>;
using plus = dp::deepid2plus<dp::patch_shape<3, 47, 47>>;
static_assert(dp::net_traits<plus>::feature_param_count == 2'974'080);
int main() { return int(dp::net_traits<net2>::head_count == 3 ? 0 : 1); }
