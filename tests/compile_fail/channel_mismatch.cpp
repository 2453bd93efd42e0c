// expect: network input: the channel count differs from the patch's
#include <deepid/core/shape.hpp>
#include <deepid/models/deepid1.hpp>
#include <deepid/net/stack.hpp>
// An RGB net asked to take gray patches.
using net = deepid::deepid1<deepid::patch_shape<3, 39, 31>>;
static_assert(deepid::require_input<net, deepid::patch_shape<1, 39, 31>>());
int main() {}
