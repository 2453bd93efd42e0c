#pragma once
// inception<branch<...>, branch<...>, ...>: an Inception module as one entry
// of a stack. Each branch is a short chain of layer specs that starts from the
// module's input; their outputs, which must have the same rows x cols, are
// concatenated along channels. For example GoogLeNet's module:
//
//   inception<branch<conv<64, 1>, relu>,
//             branch<conv<96, 1>, relu, conv<128, 3, 1, 1>, relu>,
//             branch<conv<16, 1>, relu, conv<32, 5, 1, 2>, relu>,
//             branch<max_pool<3, 1, 1>, conv<32, 1>, relu>>
//
// The stack places the branches' layers one after another in its flat layer
// list, followed by the concatenation.
#include <cstddef>

#include "deepid/core/config.hpp"
#include "deepid/core/shape.hpp"

DEEPID_NAMESPACE_BEGIN

template <class... Specs>
struct branch {
  using deepid_branch_spec = void;
  static constexpr std::size_t size = sizeof...(Specs);
};

template <class... Branches>
struct inception {
  using deepid_inception_spec = void;
  static constexpr std::size_t branches = sizeof...(Branches);
};

template <class S>
concept branch_spec = requires { typename S::deepid_branch_spec; };
template <class S>
concept inception_spec = requires { typename S::deepid_inception_spec; };

namespace check {
template <std::size_t Branches>
struct inception_has_branches {
  static_assert(Branches >= 2, "inception: a module needs at least two branches");
  static constexpr bool ok = Branches >= 2;
};
template <bool AllBranches>
struct inception_entries_are_branches {
  static_assert(AllBranches, "inception: every entry must be branch<layer specs...>");
  static constexpr bool ok = AllBranches;
};
// The output shape {channels, rows, cols} of each branch, in branch order.
template <shape3... OutputOfEachBranch>
struct inception_branch_maps_match {
  static constexpr bool same() {
    constexpr shape3 all[] = {OutputOfEachBranch...};
    return ((OutputOfEachBranch.h == all[0].h && OutputOfEachBranch.w == all[0].w) && ...);
  }
  static_assert(same(),
                "inception: the branches' output maps differ in size (each branch's {channels, rows, cols} "
                "above); pad the convolutions and pools so that every branch keeps its input's rows x cols");
  static constexpr bool ok = same();
};
}  // namespace check

DEEPID_NAMESPACE_END
