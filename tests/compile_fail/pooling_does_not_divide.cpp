// expect: max_pool: the pooling window (size, stride) does not tile the input map
#include <deepid/layers/conv.hpp>
#include <deepid/layers/max_pool.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/net/stack.hpp>
// conv1 of a 40x31 patch gives 37x28 maps: 2x2 pooling cannot tile 37 rows.
using net = deepid::stack<deepid::input<3, 40, 31>, deepid::conv<20, 4>, deepid::relu, deepid::max_pool<2>>;
int main() { return int(deepid::net_traits<net>::param_count); }
