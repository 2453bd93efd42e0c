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

// The entry of tap<Tag> in a tap_list: its activation and shape (1x1x1
// placeholders when absent, so that one readable error is printed).
template <fixed_string Tag, class Taps>
struct find_tap;

template <fixed_string Tag, class... Entries>
struct find_tap<Tag, tap_list<Entries...>> {
  static constexpr std::size_t position() {
    std::size_t i = 0, found = sizeof...(Entries);
    ((Entries::name == Tag && found == sizeof...(Entries) ? (found = i, ++i) : ++i), ...);
    return found;
  }
  static constexpr std::size_t index = position();
  static constexpr bool found = index < sizeof...(Entries);

  template <std::size_t I, class First, class... Rest>
  static constexpr auto pick() {
    if constexpr (I == 0) return First{};
    else return pick<I - 1, Rest...>();
  }
  static constexpr std::size_t act() {
    if constexpr (found) return decltype(pick<index, Entries...>())::act;
    else return 0;
  }
  static constexpr shape3 shape() {
    if constexpr (found) return decltype(pick<index, Entries...>())::shape;
    else return shape3{1, 1, 1};
  }
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
