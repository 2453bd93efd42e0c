// expect: layer: the number of output maps or units must be positive
#include <deepid/layers/conv.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<0, 4>>;
int main() { return int(deepid::net_traits<net>::param_count); }
