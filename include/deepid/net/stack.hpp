#pragma once
// stack<input<C, H, W>, spec, spec, ...>: a network as a flat list of layer
// specs. Binding walks the list once (linear instantiation depth), giving each
// layer its input shape, its activation buffer, the taps before it and its
// offset in the parameter arena. A convolution or fully connected layer
// directly followed by relu absorbs it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "deepid/layers/layer.hpp"
#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/tap.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t C, std::size_t H, std::size_t W>
struct input {
  using deepid_input_spec = void;
  static_assert(C > 0 && H > 0 && W > 0, "input<C, H, W>: channels, rows and columns must be positive");
  static constexpr shape3 shape{C, H, W};
};

template <class... Specs>
struct stack;

template <class S>
concept input_spec = requires { typename S::deepid_input_spec; };

namespace check {
template <class First>
struct stack_starts_with_input {
  static_assert(input_spec<First>, "stack: the first entry must be input<C, H, W>");
  static constexpr bool ok = input_spec<First>;
};
template <class Spec, bool IsSpec>
struct entry_is_layer_spec {
  static_assert(IsSpec, "stack: this entry is not a layer spec (conv, locally_shared_conv, locally_connected, "
                        "max_pool, relu, fully_connected, multi_scale_fc, dropout, tap)");
  static constexpr bool ok = IsSpec;
};
template <fixed_string Name, bool Unique>
struct tap_name_unique {
  static_assert(Unique, "tap: this name is already used by an earlier tap in the stack");
  static constexpr bool ok = Unique;
};
}  // namespace check

namespace detail {

template <class... L>
struct type_list {
  static constexpr std::size_t size = sizeof...(L);
};

// A bound layer with its place in the model.
template <class Layer, std::size_t OutAct, std::size_t ParamOffset>
struct placed {
  using layer = Layer;
  static constexpr std::size_t out_act = OutAct;
  static constexpr std::size_t param_offset = ParamOffset;
};

template <class S>
constexpr bool fuses_relu() {
  if constexpr (requires { S::fuses_relu; }) return S::fuses_relu;
  else return false;
}
template <class S>
constexpr bool is_relu() {
  if constexpr (requires { S::is_relu; }) return S::is_relu;
  else return false;
}
template <class... Rest>
constexpr bool next_is_relu() {
  if constexpr (sizeof...(Rest) == 0) return false;
  else return is_relu<std::tuple_element_t<0, std::tuple<Rest...>>>();
}

template <class S, class Taps, std::size_t Act, shape3 Shape>
struct add_tap {
  using type = Taps;
};
template <fixed_string Name, class... E, std::size_t Act, shape3 Shape>
struct add_tap<tap<Name>, tap_list<E...>, Act, Shape> {
  static_assert(check::tap_name_unique<Name, ((E::name != Name) && ...)>::ok);
  using type = tap_list<E..., tap_entry<Name, Act, Shape>>;
};

template <class T, class Ctx, std::size_t NextAct, std::size_t Offset, bool PrevFused, class Done, class... Rest>
struct walk;

template <class T, class Ctx, std::size_t NextAct, std::size_t Offset, bool PrevFused, class... Done>
struct walk<T, Ctx, NextAct, Offset, PrevFused, type_list<Done...>> {
  using layers = type_list<Done...>;
  static constexpr std::size_t activations = NextAct;
  static constexpr std::size_t param_count = Offset;
  static constexpr shape3 out_shape = Ctx::shape;
  static constexpr std::size_t out_act = Ctx::act;
};

template <class T, class Ctx, std::size_t NextAct, std::size_t Offset, bool PrevFused, class... Done, class S,
          class... Rest>
struct walk<T, Ctx, NextAct, Offset, PrevFused, type_list<Done...>, S, Rest...> {
  static_assert(check::entry_is_layer_spec<S, layer_spec<S>>::ok);
  using spec = std::conditional_t<layer_spec<S>, S, relu>;
  static constexpr bool fuse = fuses_relu<spec>() && next_is_relu<Rest...>();
  using layer = std::conditional_t<PrevFused && is_relu<spec>(), fused_relu_layer<Ctx, T>,
                                   typename spec::template binder<Ctx, T, fuse>::type>;
  static_assert(bound_layer<layer>);
  static constexpr std::size_t layer_act = layer::aliases_input ? Ctx::act : NextAct;
  using taps = typename add_tap<spec, typename Ctx::taps, layer_act, layer::out_shape>::type;
  using next = walk<T, bind_context<layer::out_shape, layer_act, taps, Ctx::index + 1>,
                    layer::aliases_input ? NextAct : NextAct + 1, Offset + layer::param_count, fuse,
                    type_list<Done..., placed<layer, layer_act, Offset>>, Rest...>;
  using layers = typename next::layers;
  static constexpr std::size_t activations = next::activations;
  static constexpr std::size_t param_count = next::param_count;
  static constexpr shape3 out_shape = next::out_shape;
  static constexpr std::size_t out_act = next::out_act;
};

template <class T, class Net>
struct bind_stack;

template <class T, class First, class... Specs>
struct bind_stack<T, stack<First, Specs...>> {
  static_assert(check::stack_starts_with_input<First>::ok);
  using in = std::conditional_t<input_spec<First>, First, input<1, 1, 1>>;
  using walked = walk<T, bind_context<in::shape, 0, tap_list<>, 1>, 1, 0, false, type_list<>,
                      std::conditional_t<input_spec<First>, Specs, Specs>...>;
  static constexpr shape3 in_shape = in::shape;
};

template <class List>
struct layer_sums;
template <class... P>
struct layer_sums<type_list<P...>> {
  static constexpr std::uint64_t flops = (std::uint64_t(0) + ... + P::layer::flops);
};

}  // namespace detail

// Compile-time facts of a network: shapes, parameter count, forward FLOPs per
// sample (2 x multiply-adds of convolutions and fully connected layers).
template <class Net>
struct net_traits {
  using bound = detail::bind_stack<float, Net>;
  static constexpr shape3 input_shape = bound::in_shape;
  static constexpr shape3 output_shape = bound::walked::out_shape;
  static constexpr std::size_t param_count = bound::walked::param_count;
  static constexpr std::uint64_t flops = detail::layer_sums<typename bound::walked::layers>::flops;
  static constexpr std::size_t layer_count = bound::walked::layers::size;
};

// Fails to compile, readably, when Net does not take Patch as its input.
template <class Net, class Patch>
constexpr bool require_input() {
  constexpr shape3 net = net_traits<Net>::input_shape, patch = Patch::value;
  return check::input_matches_patch<net.c, net.h, net.w, patch.c, patch.h, patch.w>::ok;
}

DEEPID_NAMESPACE_END
