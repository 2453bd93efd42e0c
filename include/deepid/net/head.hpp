#pragma once
// head<"name", "tag", specs...>: a supervised side branch (DeepID2+'s FC-1 to
// FC-3, DeepID3's intermediate heads). It starts at the activation named by
// tap<"tag"> earlier in the stack, runs its own layer specs, and its output is
// one of the model's outputs, named "name"; the main path goes on from where
// it was. For example a 512-d head after pool1:
//
//   ..., max_pool<2>, tap<"pool1">, head<"fc1", "pool1", fully_connected<512>, relu, dropout<0.5>>, ...
//
// Heads cost nothing at inference unless asked for (model::forward with
// head_pass::run); training supervises them with their own losses.
#include <cstddef>

#include "deepid/core/config.hpp"
#include "deepid/core/fixed_string.hpp"

DEEPID_NAMESPACE_BEGIN

template <fixed_string Name, fixed_string From, class... Specs>
struct head {
  using deepid_head_spec = void;
  static constexpr auto name = Name;
  static constexpr auto from = From;
};

template <class S>
concept head_spec = requires { typename S::deepid_head_spec; };

// Whether a forward pass also computes the heads.
enum class head_pass { skip, run };

namespace check {
template <fixed_string Tag, bool Found>
struct head_source_is_defined {
  static_assert(Found, "head: unknown tag; no tap<\"tag\"> with this name comes before the head (a head starts "
                       "from an earlier activation)");
  static constexpr bool ok = Found;
};
template <std::size_t Layers>
struct head_has_layers {
  static_assert(Layers > 0, "head: a head needs at least one layer spec after its name and tag");
  static constexpr bool ok = Layers > 0;
};
template <fixed_string Name, bool Unique>
struct head_name_unique {
  static_assert(Unique, "head: this name is already used by an earlier head or tap in the stack");
  static constexpr bool ok = Unique;
};
template <bool Nested>
struct head_not_nested {
  static_assert(!Nested, "head: heads cannot be placed inside a head or an inception branch");
  static constexpr bool ok = !Nested;
};
}  // namespace check

DEEPID_NAMESPACE_END
