// expect-compiles: the harness itself must accept a correct net, so a broken
// include path cannot make every compile-fail test pass.
#include <deepid/deepid.hpp>
using net = deepid::deepid1<deepid::patch_shape<3, 39, 31>>;
static_assert(deepid::require_input<net, deepid::patch_shape<3, 39, 31>>());
int main() { return int(deepid::net_traits<net>::param_count == 216780 ? 0 : 1); }
