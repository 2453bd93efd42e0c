#pragma once
// stack<input<C, H, W>, spec, spec, ...>: a network as a flat list of layer
// specs. Binding walks the list once (linear instantiation depth), giving each
// layer its input shape, its activation buffer, the taps before it and its
// offset in the parameter arena. A convolution or fully connected layer
// directly followed by relu absorbs it.
//
// Two entries are not single layers: an inception<branch<...>, ...> module
// and a head<"name", "tag", ...> side branch. Binding flattens both into the
// same layer list: a module's branches one after another, then their
// concatenation; a head's layers, marked as belonging to that head, with the
// main path resuming after them. The model runs the list in order forward and
// in reverse backward, so every layer's inputs are ready before it runs.
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "deepid/layers/concat.hpp"
#include "deepid/layers/layer.hpp"
#include "deepid/layers/detail/checks.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/tap.hpp"
#include "deepid/net/head.hpp"
#include "deepid/net/inception.hpp"

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
                        "max_pool, relu, fully_connected, multi_scale_fc, dropout, tap, inception, head)");
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

template <class List, class X>
struct append;
template <class... L, class X>
struct append<type_list<L...>, X> {
  using type = type_list<L..., X>;
};

// A bound layer with its place in the model: its output activation, its
// offset in the parameter arena, the head it belongs to (0: the main path,
// k: the k-th head) and its inception branch (0: none, k: the k-th).
template <class Layer, std::size_t OutAct, std::size_t ParamOffset, std::size_t Head = 0, std::size_t Branch = 0>
struct placed {
  using layer = Layer;
  static constexpr std::size_t out_act = OutAct;
  static constexpr std::size_t param_offset = ParamOffset;
  static constexpr std::size_t head = Head;
  static constexpr std::size_t branch = Branch;
};

// One head of a bound stack: its name and output activation.
template <fixed_string Name, std::size_t Act, shape3 Shape>
struct head_entry {
  static constexpr auto name = Name;
  static constexpr std::size_t act = Act;
  static constexpr shape3 shape = Shape;
};

// Everything a walk carries besides the current context: the next free
// activation, the parameter offset, whether the last layer absorbed a relu,
// the layers and heads placed so far, and which head / branch is being bound.
template <std::size_t NextAct, std::size_t Offset, bool PrevFused, class Done, class Heads, std::size_t Head,
          std::size_t Branch>
struct walk_state {
  static constexpr std::size_t next_act = NextAct, offset = Offset, head = Head, branch = Branch;
  static constexpr bool prev_fused = PrevFused;
  using done = Done;
  using heads = Heads;
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

template <fixed_string Name, class Taps, class Heads>
struct name_taken;
template <fixed_string Name, class... E, class... H>
struct name_taken<Name, tap_list<E...>, type_list<H...>> {
  static constexpr bool value = ((E::name == Name) || ...) || ((H::name == Name) || ...);
};

// The name of the stack's main output: the last tap on its activation.
template <std::size_t Act, class Taps>
struct output_name;
template <std::size_t Act, class... E>
struct output_name<Act, tap_list<E...>> {
  static constexpr std::string_view value() {
    std::string_view name = "output";
    ((E::act == Act ? (name = E::name.view(), 0) : 0), ...);
    return name;
  }
};

enum class entry_kind { layer, head, inception };
template <class S>
constexpr entry_kind kind_of() {
  if constexpr (head_spec<S>) return entry_kind::head;
  else if constexpr (inception_spec<S>) return entry_kind::inception;
  else return entry_kind::layer;
}

template <class T, class Ctx, class State, class... Rest>
struct walk;
template <entry_kind Kind, class T, class Ctx, class State, class S, class... Rest>
struct walk_step;

// The end of a list: what the walk produced.
template <class T, class Ctx, class State>
struct walk<T, Ctx, State> {
  using layers = typename State::done;
  using heads = typename State::heads;
  using taps = typename Ctx::taps;
  static constexpr std::size_t activations = State::next_act;
  static constexpr std::size_t param_count = State::offset;
  static constexpr shape3 out_shape = Ctx::shape;
  static constexpr std::size_t out_act = Ctx::act;
};

template <class T, class Ctx, class State, class S, class... Rest>
struct walk<T, Ctx, State, S, Rest...> : walk_step<kind_of<S>(), T, Ctx, State, S, Rest...> {};

// An ordinary layer spec.
template <class T, class Ctx, class State, class S, class... Rest>
struct layer_binding {
  static_assert(check::entry_is_layer_spec<S, layer_spec<S>>::ok);
  using spec = std::conditional_t<layer_spec<S>, S, relu>;
  static constexpr bool fuse = fuses_relu<spec>() && next_is_relu<Rest...>();
  using layer = std::conditional_t<State::prev_fused && is_relu<spec>(), fused_relu_layer<Ctx, T>,
                                   typename spec::template binder<Ctx, T, fuse>::type>;
  static_assert(bound_layer<layer>);
  static constexpr std::size_t layer_act = layer::aliases_input ? Ctx::act : State::next_act;
  using taps = typename add_tap<spec, typename Ctx::taps, layer_act, layer::out_shape>::type;
  using ctx = bind_context<layer::out_shape, layer_act, taps, Ctx::index + 1>;
  using done = typename append<typename State::done,
                               placed<layer, layer_act, State::offset, State::head, State::branch>>::type;
  using state = walk_state<layer::aliases_input ? State::next_act : State::next_act + 1,
                           State::offset + layer::param_count, fuse, done, typename State::heads, State::head,
                           State::branch>;
};

template <class T, class Ctx, class State, class S, class... Rest>
struct walk_step<entry_kind::layer, T, Ctx, State, S, Rest...>
    : walk<T, typename layer_binding<T, Ctx, State, S, Rest...>::ctx,
           typename layer_binding<T, Ctx, State, S, Rest...>::state, Rest...> {};

// A head: its layers bound from the tapped activation, then the main path
// resumes with the context it had.
template <class T, class Ctx, class State, class H>
struct head_binding;
template <class T, class Ctx, class State, fixed_string Name, fixed_string From, class... Specs>
struct head_binding<T, Ctx, State, head<Name, From, Specs...>> {
  static_assert(check::head_not_nested<(State::head != 0 || State::branch != 0)>::ok);
  static_assert(check::head_has_layers<sizeof...(Specs)>::ok);
  using source = find_tap<From, typename Ctx::taps>;
  static_assert(check::head_source_is_defined<From, source::found>::ok);
  static_assert(check::head_name_unique<Name, !name_taken<Name, typename Ctx::taps, typename State::heads>::value>::ok);
  static constexpr std::size_t id = State::heads::size + 1;
  using sub = walk<T, bind_context<source::shape(), source::act(), typename Ctx::taps, Ctx::index + 1>,
                   walk_state<State::next_act, State::offset, false, typename State::done, typename State::heads, id,
                              0>,
                   Specs...>;
  using heads = typename append<typename State::heads, head_entry<Name, sub::out_act, sub::out_shape>>::type;
  using state = walk_state<sub::activations, sub::param_count, false, typename sub::layers, heads, State::head,
                           State::branch>;
};

template <class T, class Ctx, class State, class S, class... Rest>
struct walk_step<entry_kind::head, T, Ctx, State, S, Rest...>
    : walk<T, Ctx, typename head_binding<T, Ctx, State, S>::state, Rest...> {};

// An inception module: each branch bound from the module's input, in order,
// then the concatenation of their outputs.
template <std::size_t Act, shape3 Shape>
struct branch_output {
  static constexpr std::size_t act = Act;
  static constexpr shape3 shape = Shape;
};

template <class B>
using as_branch = std::conditional_t<branch_spec<B>, B, branch<>>;

template <class T, class Ctx, class State, class Outputs, class... Branches>
struct branches_binding {
  using state = State;
  using outputs = Outputs;
};
template <class T, class Ctx, class State, class... Outputs, class... Specs, class... More>
struct branches_binding<T, Ctx, State, type_list<Outputs...>, branch<Specs...>, More...> {
  using sub = walk<T, Ctx,
                   walk_state<State::next_act, State::offset, false, typename State::done, typename State::heads,
                              State::head, sizeof...(Outputs) + 1>,
                   Specs...>;
  using next = branches_binding<T, Ctx,
                                walk_state<sub::activations, sub::param_count, false, typename sub::layers,
                                           typename sub::heads, State::head, State::branch>,
                                type_list<Outputs..., branch_output<sub::out_act, sub::out_shape>>, More...>;
  using state = typename next::state;
  using outputs = typename next::outputs;
};

template <class List>
struct branch_maps;
template <class... O>
struct branch_maps<type_list<O...>> {
  static constexpr std::size_t count = sizeof...(O);
  static constexpr bool ok = check::inception_branch_maps_match<O::shape...>::ok;
  static constexpr std::array<std::size_t, count> acts{O::act...};
  static constexpr std::array<shape3, count> shapes{O::shape...};
};

template <class T, class Ctx, class State, class I>
struct inception_binding;
template <class T, class Ctx, class State, class... Branches>
struct inception_binding<T, Ctx, State, inception<Branches...>> {
  static_assert(check::inception_has_branches<sizeof...(Branches)>::ok);
  static_assert(check::inception_entries_are_branches<(branch_spec<Branches> && ...)>::ok);
  using bound = std::conditional_t<(sizeof...(Branches) == 0),
                                   branches_binding<T, Ctx, State, type_list<>, branch<>>,
                                   branches_binding<T, Ctx, State, type_list<>, as_branch<Branches>...>>;
  using facts = branch_maps<typename bound::outputs>;
  static_assert(facts::ok);
  using layer = concat_layer<T, facts::count, facts::acts, facts::shapes>;
  using bs = typename bound::state;
  using ctx = bind_context<layer::out_shape, bs::next_act, typename Ctx::taps, Ctx::index + 1>;
  using done = typename append<typename bs::done, placed<layer, bs::next_act, bs::offset, State::head, State::branch>>::type;
  using state =
      walk_state<bs::next_act + 1, bs::offset, false, done, typename bs::heads, State::head, State::branch>;
};

template <class T, class Ctx, class State, class S, class... Rest>
struct walk_step<entry_kind::inception, T, Ctx, State, S, Rest...>
    : walk<T, typename inception_binding<T, Ctx, State, S>::ctx, typename inception_binding<T, Ctx, State, S>::state,
           Rest...> {};

template <class T, class Net>
struct bind_stack;

template <class T, class First, class... Specs>
struct bind_stack<T, stack<First, Specs...>> {
  static_assert(check::stack_starts_with_input<First>::ok);
  using in = std::conditional_t<input_spec<First>, First, input<1, 1, 1>>;
  using walked = walk<T, bind_context<in::shape, 0, tap_list<>, 1>,
                      walk_state<1, 0, false, type_list<>, type_list<>, 0, 0>, Specs...>;
  static constexpr shape3 in_shape = in::shape;
  static constexpr std::string_view output_name = detail::output_name<walked::out_act, typename walked::taps>::value();
};

// Sums over the layers, all of them or those of the main path (Head == 0).
template <class List>
struct layer_sums;
template <class... P>
struct layer_sums<type_list<P...>> {
  static constexpr std::uint64_t flops = (std::uint64_t(0) + ... + P::layer::flops);
  static constexpr std::uint64_t main_flops = (std::uint64_t(0) + ... + (P::head == 0 ? P::layer::flops : 0));
  static constexpr std::size_t main_params = (std::size_t(0) + ... + (P::head == 0 ? P::layer::param_count : 0));
};

}  // namespace detail

// Compile-time facts of a network: shapes, parameter count, forward FLOPs per
// sample (2 x multiply-adds of convolutions and fully connected layers).
// The totals count every layer, heads included (what training runs); the
// feature_ ones count the main path only (what feature extraction runs).
template <class Net>
struct net_traits {
  using bound = detail::bind_stack<float, Net>;
  using sums = detail::layer_sums<typename bound::walked::layers>;
  static constexpr shape3 input_shape = bound::in_shape;
  static constexpr shape3 output_shape = bound::walked::out_shape;
  static constexpr std::size_t param_count = bound::walked::param_count;
  static constexpr std::uint64_t flops = sums::flops;
  static constexpr std::size_t feature_param_count = sums::main_params;
  static constexpr std::uint64_t feature_flops = sums::main_flops;
  static constexpr std::size_t layer_count = bound::walked::layers::size;
  static constexpr std::size_t head_count = bound::walked::heads::size;
};

// Fails to compile, readably, when Net does not take Patch as its input.
template <class Net, class Patch>
constexpr bool require_input() {
  constexpr shape3 net = net_traits<Net>::input_shape, patch = Patch::value;
  return check::input_matches_patch<net.c, net.h, net.w, patch.c, patch.h, patch.w>::ok;
}

DEEPID_NAMESPACE_END
