// expect: inception: every entry must be branch<layer specs...>
#include <deepid/layers/conv.hpp>
#include <deepid/net/inception.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
using module = dp::inception<dp::branch<dp::conv<16, 1>>, dp::conv<16, 3, 1, 1>>;
using net = dp::stack<dp::input<3, 13, 11>, module>;
int main() { return int(dp::net_traits<net>::param_count); }
