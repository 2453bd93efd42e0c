// Your own net as a flat list of layer specs. Shapes, parameter counts and
// FLOPs are compile-time constants, so a mistake in the design fails the
// build. The numbers in the comments are worked out by hand.
#include <deepid/layers/conv.hpp>
#include <deepid/layers/locally_connected.hpp>
#include <deepid/layers/locally_shared_conv.hpp>
#include <deepid/layers/max_pool.hpp>
#include <deepid/layers/multi_scale_fc.hpp>
#include <deepid/layers/relu.hpp>
#include <deepid/layers/tap.hpp>
#include <deepid/net/model.hpp>

#include <cmath>
#include <cstdio>

namespace dp = deepid;

using small_net = dp::stack<dp::input<1, 32, 32>,         // gray 32x32
    dp::conv<8, 5>, dp::relu, dp::max_pool<2>,            // 8x28x28 -> 8x14x14
    dp::locally_shared_conv<16, 3, dp::regions<2, 2>>,    // 16x12x12, four 6x6 regions with their own filters
    dp::relu, dp::max_pool<2>, dp::tap<"pool2">,          // 16x6x6
    dp::locally_connected<24, 2>, dp::relu, dp::tap<"conv3">,  // 24x5x5, filters of its own at each position
    dp::multi_scale_fc<64, "pool2", "conv3">, dp::relu>;  // 64, from both scales (576 + 600 inputs)
using traits = dp::net_traits<small_net>;

static_assert(traits::output_shape == dp::shape3{64, 1, 1});
// Parameters, weights + biases:
//   conv      8 x 5x5x1 + 8                    =     208
//   shared    4 regions x (16 x 3x3x8 + 16)    =   4,672
//   local     25 positions x (24 x 2x2x16 + 24) =  39,000
//   fc        64 x (576 + 600) + 64            =  75,328
static_assert(traits::param_count == 208 + 4'672 + 39'000 + 75'328);  // 119,208
// FLOPs, 2 per multiply-add; sharing changes the parameters, not the work:
//   conv      2 x 28x28x8 x 25  = 313,600
//   shared    2 x 12x12x16 x 72 = 331,776
//   local     2 x 5x5x24 x 64   =  76,800
//   fc        2 x 1176 x 64     = 150,528
static_assert(traits::flops == 313'600 + 331'776 + 76'800 + 150'528);  // 872,704

int main() {
  dp::model<small_net> m(dp::init::seed{1});
  for (const auto& layer : m.layers())
    std::printf("%-46s %-8s %7zu params %8llu flops\n", layer.name.c_str(), layer.out_shape.str().c_str(),
                layer.params, static_cast<unsigned long long>(layer.flops));

  // One forward pass over two gray images: a ramp and its negative.
  dp::batch4<float> x = xt::zeros<float>({2ul, 1ul, 32ul, 32ul});
  for (std::size_t i = 0; i < 32 * 32; ++i) x.data()[i] = float(i) / 1024.f, x.data()[1024 + i] = -float(i) / 1024.f;
  const dp::matrix<float> y = m.forward(x);

  bool ok = m.parameters().size() == traits::param_count && y.shape()[0] == 2 && y.shape()[1] == 64;
  for (float v : y) ok = ok && std::isfinite(v);
  std::printf("features %s, %zu parameters: %s\n", dp::shape_string(y.shape()).c_str(), m.parameters().size(),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
