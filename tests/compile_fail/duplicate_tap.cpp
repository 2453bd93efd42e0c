// expect: tap: this name is already used by an earlier tap
#include <deepid/layers/conv.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/layers/tap.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<20, 4>, deepid::tap<"a">, deepid::relu,
                          deepid::tap<"a">>;
int main() { return int(deepid::net_traits<net>::param_count); }
