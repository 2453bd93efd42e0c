// expect: padding (first number) must be smaller than the kernel or pooling window
#include <deepid/layers/max_pool.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
using net = dp::stack<dp::input<3, 12, 12>, dp::max_pool<2, 2, 2>>;
int main() { return int(dp::net_traits<net>::param_count); }
