// expect: the kernel (first number) is larger than the input map
#include <deepid/layers/conv.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<1, 3, 3>, deepid::conv<8, 4>>;
int main() { return int(deepid::net_traits<net>::param_count); }
