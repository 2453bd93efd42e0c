// expect: multi_scale_fc: unknown tag
#include <deepid/layers/conv.hpp>
#include <deepid/layers/max_pool.hpp>
#include <deepid/layers/multi_scale_fc.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/layers/tap.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<20, 4>, deepid::relu, deepid::max_pool<2>,
                          deepid::tap<"pool1">, deepid::conv<40, 3>, deepid::tap<"conv2">,
                          deepid::multi_scale_fc<160, "pool1", "pool3">>;
int main() { return int(deepid::net_traits<net>::param_count); }
