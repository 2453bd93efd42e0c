// expect: padding (first number) must be smaller than the kernel or pooling window
#include <deepid/layers/conv.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
using net = dp::stack<dp::input<3, 13, 11>, dp::conv<16, 3, 1, 3>>;
int main() { return int(dp::net_traits<net>::param_count); }
