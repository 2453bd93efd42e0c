#pragma once
// fully_connected<Units>: every unit sees the whole previous activation.
#include <array>
#include <cstddef>
#include <string>

#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/detail/dense_layer.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t Units>
struct fully_connected {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;
  static std::string name() { return "fully_connected<" + std::to_string(Units) + ">"; }
  template <class Ctx, class T, bool Relu>
  struct binder {
    static_assert(check::positive_maps<Units>::ok);
    using type = detail::dense_layer_impl<fully_connected, T, Relu, (Units > 0 ? Units : 1), 1,
                                          std::array<std::size_t, 1>{Ctx::act}, std::array<shape3, 1>{Ctx::shape}>;
  };
};

DEEPID_NAMESPACE_END
