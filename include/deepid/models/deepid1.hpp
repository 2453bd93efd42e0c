#pragma once
// DeepID1 (Sun et al., CVPR 2014): conv 4x4/20, 3x3/40, 3x3/60, 2x2/80 with
// 2x2 max pooling after the first three, and the 160-unit DeepID layer fed by
// pool3 and conv4. The paper's weight sharing: conv3 locally shared on a 2x2
// grid of regions (reading B of "2x2 regions"), conv4 locally connected.
// deepid1_plain is the same net with ordinary convolutions (what public
// re-implementations and the peers' benchmarks use).
#include <cstddef>

#include "deepid/core/shape.hpp"
#include "deepid/layers/conv.hpp"
#include "deepid/layers/fully_connected.hpp"
#include "deepid/layers/locally_connected.hpp"
#include "deepid/layers/locally_shared_conv.hpp"
#include "deepid/layers/max_pool.hpp"
#include "deepid/layers/multi_scale_fc.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/tap.hpp"
#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

inline constexpr std::size_t deepid_feature_dim = 160;

// The DeepID1/DeepID2 family on any patch, with conv3 and conv4 given.
template <class Patch, class Conv3, class Conv4>
using deepid_net = stack<input<Patch::value.c, Patch::value.h, Patch::value.w>,
                         conv<20, 4>, relu, max_pool<2>,
                         conv<40, 3>, relu, max_pool<2>,
                         Conv3, relu, max_pool<2>, tap<"pool3">,
                         Conv4, relu, tap<"conv4">,
                         multi_scale_fc<deepid_feature_dim, "pool3", "conv4">, relu>;

// Paper's sharing: conv3 on a 2x2 grid of regions, conv4 locally connected.
template <class Patch, class Grid = regions<2, 2>>
using deepid1 = deepid_net<Patch, locally_shared_conv<60, 3, Grid>, locally_connected<80, 2>>;

// Ordinary convolutions throughout.
template <class Patch>
using deepid1_plain = deepid_net<Patch, conv<60, 3>, conv<80, 2>>;

DEEPID_NAMESPACE_END
