// expect: multi_scale_fc: the DeepID layer needs at least one tag
#include <deepid/layers/conv.hpp>
#include <deepid/layers/multi_scale_fc.hpp>
#include <deepid/net/stack.hpp>
using net = deepid::stack<deepid::input<3, 31, 31>, deepid::conv<20, 4>, deepid::multi_scale_fc<160>>;
int main() { return int(deepid::net_traits<net>::param_count); }
