#pragma once
// multi_scale_fc<Units, "tag", ...>: the DeepID layer. One fully connected
// layer fed by several earlier layers named by tap<"tag">, so the feature sees
// both a coarse and a fine scale (DeepID1 Eq. 3: pool3 and conv4).
#include <array>
#include <cstddef>
#include <string>

#include "deepid/core/fixed_string.hpp"
#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/detail/dense_layer.hpp"
#include "deepid/layers/tap.hpp"

DEEPID_NAMESPACE_BEGIN

namespace check {
template <fixed_string Tag, bool Found>
struct tap_is_defined {
  static_assert(Found, "multi_scale_fc: unknown tag; no tap<\"tag\"> with this name comes before the layer");
  static constexpr bool ok = Found;
};
}  // namespace check

template <std::size_t Units, fixed_string... Tags>
struct multi_scale_fc {
  using deepid_layer_spec = void;
  static constexpr bool fuses_relu = true;
  static std::string name() {
    std::string text = "multi_scale_fc<" + std::to_string(Units);
    ((text += ",\"" + std::string(Tags.view()) + "\""), ...);
    return text + ">";
  }
  template <class Ctx, class T, bool Relu>
  struct binder {
    static_assert(check::positive_maps<Units>::ok && check::multi_scale_has_inputs<sizeof...(Tags)>::ok);
    static_assert((check::tap_is_defined<Tags, detail::find_tap<Tags, typename Ctx::taps>::found>::ok && ...));
    static constexpr std::size_t n = sizeof...(Tags) > 0 ? sizeof...(Tags) : 1;
    static constexpr std::array<std::size_t, n> acts() {
      if constexpr (sizeof...(Tags) == 0) return {Ctx::act};
      else return {detail::find_tap<Tags, typename Ctx::taps>::act()...};
    }
    static constexpr std::array<shape3, n> shapes() {
      if constexpr (sizeof...(Tags) == 0) return {Ctx::shape};
      else return {detail::find_tap<Tags, typename Ctx::taps>::shape()...};
    }
    using type = detail::dense_layer_impl<multi_scale_fc, T, Relu, (Units > 0 ? Units : 1), n, acts(), shapes()>;
  };
};

DEEPID_NAMESPACE_END
