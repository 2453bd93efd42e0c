// expect: head: this name is already used
#include <deepid/layers/conv.hpp>
#include <deepid/layers/fully_connected.hpp>
#include <deepid/layers/max_pool.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/layers/tap.hpp>
#include <deepid/net/head.hpp>
#include <deepid/net/stack.hpp>
namespace dp = deepid;
using net = dp::stack<dp::input<3, 31, 31>, dp::conv<20, 4>, dp::relu, dp::max_pool<2>, dp::tap<"pool1">,
                      dp::head<"fc", "pool1", dp::fully_connected<64>>, dp::head<"fc", "pool1", dp::fully_connected<32>>,
                      dp::conv<40, 3>>;
int main() { return int(dp::net_traits<net>::param_count); }
