// expect: inception: the branches' output maps differ in size
#include <deepid/layers/conv.hpp>
#include <deepid/layers/fully_connected.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/net/inception.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
// The 3x3 branch has no padding, so its map is 2 rows and columns smaller.
using module = dp::inception<dp::branch<dp::conv<16, 1>, dp::relu>, dp::branch<dp::conv<24, 3>, dp::relu>>;
using net = dp::stack<dp::input<3, 13, 11>, module, dp::fully_connected<10>>;
int main() { return int(dp::net_traits<net>::param_count); }
