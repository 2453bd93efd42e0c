// expect: head: this name is already used
#include <deepid/deepid.hpp>
namespace dp = deepid;
using net = dp::stack<dp::input<3, 31, 31>, dp::conv<20, 4>, dp::relu, dp::max_pool<2>, dp::tap<"pool1">,
                      dp::head<"fc", "pool1", dp::fully_connected<64>>, dp::head<"fc", "pool1", dp::fully_connected<32>>,
                      dp::conv<40, 3>>;
int main() { return int(dp::net_traits<net>::param_count); }
