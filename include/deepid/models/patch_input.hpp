#pragma once
// A net and a patch scheme checked against each other at compile time: the
// net must take the input shape of the scheme's patch. Here rather than in
// face/ so that patch schemes need no nets.
#include <cstddef>

#include "deepid/core/config.hpp"
#include "deepid/face/patch_scheme.hpp"
#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

// Fails to compile, readably, when Net cannot read patch I of scheme S.
template <class Net, face::patch_scheme S, std::size_t I>
constexpr bool require_patch_input() {
  return require_input<Net, face::scheme_patch_shape<S, I>>();
}

DEEPID_NAMESPACE_END
