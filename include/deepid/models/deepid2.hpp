#pragma once
// DeepID2 (Sun et al., NIPS 2014): the DeepID1 layer structure on larger
// patches (55x47 rectangles, 47x47 squares), "local weight sharing in the
// third and fourth convolutional layers" taken as DeepID1's scheme.
#include "deepid/models/deepid1.hpp"

DEEPID_NAMESPACE_BEGIN

template <class Patch, class Grid = regions<2, 2>>
using deepid2 = deepid1<Patch, Grid>;

template <class Patch>
using deepid2_plain = deepid1_plain<Patch>;

DEEPID_NAMESPACE_END
