#pragma once
// net_layout<Net, T>: what binding a stack fixes at compile time, in the form
// the code that runs a net reads it: the placed layers (layer type, output
// activation, parameter offset, head, branch), the activation count, and the
// outputs (the heads in order, then the main path). model<Net, T> runs it on
// the CPU; the optional backends run the same layout elsewhere.
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "deepid/net/stack.hpp"

DEEPID_NAMESPACE_BEGIN

template <class Net, class T>
struct net_layout {
  using bound = detail::bind_stack<T, Net>;
  using walked = typename bound::walked;

 private:
  template <class List>
  struct unpack;
  template <class... P>
  struct unpack<detail::type_list<P...>> {
    using placed = std::tuple<P...>;
    using layers = std::tuple<typename P::layer...>;
  };
  template <class List>
  struct head_facts;
  template <class... H>
  struct head_facts<detail::type_list<H...>> {
    static constexpr std::size_t count = sizeof...(H);
    static constexpr std::array<std::size_t, count + 1> acts{H::act..., walked::out_act};
    static constexpr std::array<shape3, count + 1> shapes{H::shape..., walked::out_shape};
    static constexpr std::array<std::string_view, count + 1> names{H::name.view()..., bound::output_name};
  };

 public:
  using placed_tuple = typename unpack<typename walked::layers>::placed;
  using layer_tuple = typename unpack<typename walked::layers>::layers;
  static constexpr std::size_t layer_count = std::tuple_size_v<layer_tuple>;
  static constexpr std::size_t activation_count = walked::activations;
  // Layer I as placed: ::layer, ::out_act, ::param_offset, ::head, ::branch.
  template <std::size_t I>
  using placed_at = std::tuple_element_t<I, placed_tuple>;
  // The outputs: heads first, the main output last.
  using heads = head_facts<typename walked::heads>;
};

DEEPID_NAMESPACE_END
