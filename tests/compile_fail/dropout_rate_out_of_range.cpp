// expect: dropout: the rate must lie in [0, 1)
#include <deepid/layers/conv.hpp>
#include <deepid/layers/dropout.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<20, 4>, deepid::dropout<1.5>>;
int main() { return int(deepid::net_traits<net>::param_count); }
