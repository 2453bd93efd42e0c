#pragma once
// DeepID3 (Sun et al., 2015): two very deep nets. The report does not publish
// their widths, so they are template parameters (deepid3_widths); the
// defaults and the reduced variants are justified in docs/design.md.
//
// net1 (VGG style): two 3x3 convolutions (padding 1) before each of four 2x2
// poolings, the top two layers locally connected (also 3x3, padding 1).
// net2 (Inception): net1's first two stages, then three Inception modules
// before pool3 and two before pool4.
//
// Both: floor pooling (55x47 -> 27x23 -> 13x11 -> 6x5 -> 3x2; 47x47 -> 23 ->
// 11 -> 5 -> 2), a supervised 512-d head (fully connected, ReLU, dropout 0.5)
// after pool1, pool2 and pool3, and the 512-d feature FC-4 after pool4, fed
// by pool3 and pool4 (DeepID2's multi-scale input; Fc4Skip = false: pool4
// only), with ReLU and dropout 0.5.
#include <cstddef>

#include "deepid/core/shape.hpp"
#include "deepid/layers/conv.hpp"
#include "deepid/layers/dropout.hpp"
#include "deepid/layers/fully_connected.hpp"
#include "deepid/layers/locally_connected.hpp"
#include "deepid/layers/max_pool.hpp"
#include "deepid/layers/multi_scale_fc.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/tap.hpp"
#include "deepid/models/deepid2plus.hpp"
#include "deepid/net/head.hpp"
#include "deepid/net/inception.hpp"
#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

// Output maps of the four stages.
template <std::size_t Stage1, std::size_t Stage2, std::size_t Stage3, std::size_t Stage4>
struct deepid3_widths {
  static constexpr std::size_t stage1 = Stage1, stage2 = Stage2, stage3 = Stage3, stage4 = Stage4;
};

// Paper scale: VGG's doubling pattern, capped by the 2x2 to 6x5 maps of the
// last stages (see docs/design.md).
using deepid3_paper_widths = deepid3_widths<64, 96, 192, 256>;
// A quarter of the widths: trainable on a CPU in about an hour per net.
using deepid3_reduced_widths = deepid3_widths<16, 24, 48, 64>;

// Floor pooling: 2x2 windows, the row or column left over is dropped.
using deepid3_pool = max_pool<2, 2, 0, rounding::floor>;

// An Inception module with Out output maps: 1x1 (Out/4); 1x1 (Out/4) -> 3x3
// (3 Out/8); 1x1 (Out/16) -> 5x5 (Out/8); 3x3 max pool -> 1x1 (Out/4).
// GoogLeNet's proportions; every branch keeps the map size.
template <std::size_t Out>
using deepid3_inception =
    inception<branch<conv<Out / 4, 1>, relu>,
              branch<conv<Out / 4, 1>, relu, conv<3 * Out / 8, 3, 1, 1>, relu>,
              branch<conv<Out / 16, 1>, relu, conv<Out / 8, 5, 1, 2>, relu>,
              branch<max_pool<3, 1, 1>, conv<Out / 4, 1>, relu>>;

template <class Patch, class Widths = deepid3_paper_widths, bool Fc4Skip = true>
using deepid3_net1 =
    stack<input<Patch::value.c, Patch::value.h, Patch::value.w>,
          conv<Widths::stage1, 3, 1, 1>, relu, conv<Widths::stage1, 3, 1, 1>, relu, deepid3_pool, tap<"pool1">,
          deepid2plus_head<"fc1", "pool1">,
          conv<Widths::stage2, 3, 1, 1>, relu, conv<Widths::stage2, 3, 1, 1>, relu, deepid3_pool, tap<"pool2">,
          deepid2plus_head<"fc2", "pool2">,
          conv<Widths::stage3, 3, 1, 1>, relu, conv<Widths::stage3, 3, 1, 1>, relu, deepid3_pool, tap<"pool3">,
          deepid2plus_head<"fc3", "pool3">,
          locally_connected<Widths::stage4, 3, 1, 1>, relu, locally_connected<Widths::stage4, 3, 1, 1>, relu,
          deepid3_pool, tap<"pool4">,
          deepid2plus_feature_layer<Fc4Skip, "pool3", "pool4">, relu, dropout<0.5>, tap<"fc4">>;

template <class Patch, class Widths = deepid3_paper_widths, bool Fc4Skip = true>
using deepid3_net2 =
    stack<input<Patch::value.c, Patch::value.h, Patch::value.w>,
          conv<Widths::stage1, 3, 1, 1>, relu, conv<Widths::stage1, 3, 1, 1>, relu, deepid3_pool, tap<"pool1">,
          deepid2plus_head<"fc1", "pool1">,
          conv<Widths::stage2, 3, 1, 1>, relu, conv<Widths::stage2, 3, 1, 1>, relu, deepid3_pool, tap<"pool2">,
          deepid2plus_head<"fc2", "pool2">,
          deepid3_inception<Widths::stage3>, deepid3_inception<Widths::stage3>, deepid3_inception<Widths::stage3>,
          deepid3_pool, tap<"pool3">, deepid2plus_head<"fc3", "pool3">,
          deepid3_inception<Widths::stage4>, deepid3_inception<Widths::stage4>, deepid3_pool, tap<"pool4">,
          deepid2plus_feature_layer<Fc4Skip, "pool3", "pool4">, relu, dropout<0.5>, tap<"fc4">>;

DEEPID_NAMESPACE_END
