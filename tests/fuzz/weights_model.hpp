#pragma once
// The small real model the weights harness imports into and the seed
// generator exports from: a convolution, a ReLU and a fully connected layer,
// the layer kinds of the DeepID nets. (Not a DeepID net itself: clang 14,
// which builds the fuzzers, lacks two C++20 features the nets use: a
// floating-point template argument, the dropout rate, and lambdas that
// capture structured bindings, in max_pool's kernel.)
#include "deepid/layers/conv.hpp"
#include "deepid/layers/fully_connected.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/net/model.hpp"
#include "deepid/net/stack.hpp"

namespace deepid_fuzz {
using weights_model = deepid::model<deepid::stack<deepid::input<1, 8, 8>, deepid::conv<4, 3>, deepid::relu,
                                                  deepid::fully_connected<6>>>;
// The tensor whose file the fuzz input replaces (the others stay valid).
inline constexpr const char* fuzzed_tensor = "1.weight";
}  // namespace deepid_fuzz
