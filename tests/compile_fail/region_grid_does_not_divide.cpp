// expect: locally_shared_conv: the output map (rows x cols) is not divisible into the region grid
#include <deepid/layers/locally_shared_conv.hpp>
#include <deepid/net/stack.hpp>
// 8x7 input, 3x3 kernel: 6x5 output cannot be split into a 2x2 grid.
using net = deepid::stack<deepid::input<40, 8, 7>, deepid::locally_shared_conv<60, 3, deepid::regions<2, 2>>>;
int main() { return int(deepid::net_traits<net>::param_count); }
