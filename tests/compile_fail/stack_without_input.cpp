// expect: stack: the first entry must be input<C, H, W>
#include <deepid/deepid.hpp>
using net = deepid::stack<deepid::conv<20, 4>, deepid::relu>;
int main() { return int(deepid::net_traits<net>::param_count); }
