// expect: stack: the first entry must be input<C, H, W>
#include <deepid/layers/conv.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::conv<20, 4>, deepid::relu>;
int main() { return int(deepid::net_traits<net>::param_count); }
