// expect: the output map would be empty
#include <deepid/layers/max_pool.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
// Floor pooling halves 55x47 to 27x23, 13x11, 6x5, 3x2, 1x1: a sixth 2x2
// window with stride 2 has no room.
using pool = dp::max_pool<2, 2, 0, dp::rounding::floor>;
using net = dp::stack<dp::input<3, 55, 47>, pool, pool, pool, pool, pool, pool>;
int main() { return int(dp::net_traits<net>::param_count); }
