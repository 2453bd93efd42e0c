#pragma once
// tap<"name">: names the current activation so a later layer can read it
// (multi_scale_fc<160, "pool3", "conv4">). It computes nothing.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/core/fixed_string.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN

namespace detail {

template <fixed_string Name, class Ctx, class T>
struct tap_layer : parameterless<T> {
  static constexpr shape3 in_shape = Ctx::shape, out_shape = Ctx::shape;
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = true;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static std::string name() { return "tap<\"" + std::string(Name.view()) + "\">"; }
  void forward(const pass_buffers<T, 1>&, const T*, mode) const {}
  void backward(const pass_buffers<T, 1>&, const T*, const std::array<T*, 1>&, const T*, T*) const {}
};

}  // namespace detail

template <fixed_string Name>
struct tap {
  using deepid_layer_spec = void;
  static constexpr auto tag = Name;
  static std::string name() { return "tap<\"" + std::string(Name.view()) + "\">"; }
  template <class Ctx, class T, bool>
  struct binder {
    using type = detail::tap_layer<Name, Ctx, T>;
  };
};

DEEPID_NAMESPACE_END
