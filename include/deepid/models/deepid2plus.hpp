#pragma once
// DeepID2+ (Sun et al., CVPR 2015): DeepID2's layers widened to 128 maps in
// all four convolutions, a 512-d feature (FC-4), and supervision at every
// stage: FC-1, FC-2 and FC-3 are 512-d heads after pool1, pool2 and pool3,
// each with ReLU and 50% dropout, trained with their own signals and dropped
// at test time. FC-4 reads conv4 and, by default, pool3 as well (DeepID2's
// multi-scale input; the paper's figure draws conv4 only: Fc4Skip = false).
//
// conv3's weight sharing: reading B (the default) shares over a 2x2 grid of
// regions; reading A gives each 2x2 block of outputs its own weights
// (deepid2plus_a: a 5x4 grid on 55x47 patches, 4x4 on 47x47).
#include <cstddef>
#include <type_traits>

#include "deepid/core/shape.hpp"
#include "deepid/layers/conv.hpp"
#include "deepid/layers/dropout.hpp"
#include "deepid/layers/fully_connected.hpp"
#include "deepid/layers/locally_connected.hpp"
#include "deepid/layers/locally_shared_conv.hpp"
#include "deepid/layers/max_pool.hpp"
#include "deepid/layers/multi_scale_fc.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/tap.hpp"
#include "deepid/net/head.hpp"
#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

inline constexpr std::size_t deepid2plus_maps = 128;
inline constexpr std::size_t deepid2plus_feature_dim = 512;

// A supervised 512-d layer as DeepID2+ attaches it: fully connected, ReLU,
// dropout 0.5.
template <fixed_string Name, fixed_string From>
using deepid2plus_head = head<Name, From, fully_connected<deepid2plus_feature_dim>, relu, dropout<0.5>>;

// The 512-d feature layer on Tag, also fed by SkipTag when Skip (DeepID2's
// multi-scale input). DeepID3 uses it too.
template <bool Skip, fixed_string SkipTag, fixed_string Tag>
using deepid2plus_feature_layer =
    std::conditional_t<Skip, multi_scale_fc<deepid2plus_feature_dim, SkipTag, Tag>,
                       multi_scale_fc<deepid2plus_feature_dim, Tag>>;

template <class Patch, class Grid = regions<2, 2>, bool Fc4Skip = true>
using deepid2plus =
    stack<input<Patch::value.c, Patch::value.h, Patch::value.w>,
          conv<deepid2plus_maps, 4>, relu, max_pool<2>, tap<"pool1">, deepid2plus_head<"fc1", "pool1">,
          conv<deepid2plus_maps, 3>, relu, max_pool<2>, tap<"pool2">, deepid2plus_head<"fc2", "pool2">,
          locally_shared_conv<deepid2plus_maps, 3, Grid>, relu, max_pool<2>, tap<"pool3">,
          deepid2plus_head<"fc3", "pool3">,
          locally_connected<deepid2plus_maps, 2>, relu, tap<"conv4">,
          deepid2plus_feature_layer<Fc4Skip, "pool3", "conv4">, relu, dropout<0.5>, tap<"fc4">>;

// Reading A of conv3's sharing: one bank per 2x2 block of its output map.
template <class Patch>
struct deepid2plus_reading_a_grid {
  static constexpr std::size_t conv3_rows = ((Patch::value.h - 3) / 2 - 2) / 2 - 2;
  static constexpr std::size_t conv3_cols = ((Patch::value.w - 3) / 2 - 2) / 2 - 2;
  using type = regions<conv3_rows / 2, conv3_cols / 2>;
};

template <class Patch, bool Fc4Skip = true>
using deepid2plus_a = deepid2plus<Patch, typename deepid2plus_reading_a_grid<Patch>::type, Fc4Skip>;

DEEPID_NAMESPACE_END
