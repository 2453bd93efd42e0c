// expect: stack: this entry is not a layer spec
#include <deepid/layers/conv.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<20, 4>, int>;
int main() { return int(deepid::net_traits<net>::param_count); }
