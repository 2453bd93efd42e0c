#pragma once
// What every layer shares: the pass mode, the binding context a stack walks
// with (current shape, current activation, taps seen so far), and the concept
// a bound layer satisfies.
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/core/config.hpp"
#include "deepid/core/fixed_string.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/shape.hpp"

DEEPID_NAMESPACE_BEGIN

enum class mode { inference, training };

// A named activation recorded by tap<"name">.
template <fixed_string Name, std::size_t Act, shape3 Shape>
struct tap_entry {
  static constexpr auto name = Name;
  static constexpr std::size_t act = Act;
  static constexpr shape3 shape = Shape;
};

template <class... Entries>
struct tap_list {
  template <class Entry>
  using add = tap_list<Entries..., Entry>;
  static constexpr std::size_t size = sizeof...(Entries);
};

// Where a stack stands when it binds the next layer spec: the shape and the
// activation buffer of the current output, and the taps recorded so far.
template <shape3 Shape, std::size_t Act, class Taps, std::size_t Index>
struct bind_context {
  static constexpr shape3 shape = Shape;
  static constexpr std::size_t act = Act;
  static constexpr std::size_t index = Index;  // position of the layer in its stack
  using taps = Taps;
};

// Per-call arguments of a layer pass. `inputs` are the activation buffers the
// layer reads (NHWC per sample), `output` its own buffer.
template <class T, std::size_t NumInputs>
struct pass_buffers {
  std::array<const T*, NumInputs> inputs{};
  T* output = nullptr;
  std::size_t batch = 0;
};

// A layer bound to its input shape and scalar type.
template <class L>
concept bound_layer = requires {
  { L::out_shape } -> std::convertible_to<shape3>;
  { L::param_count } -> std::convertible_to<std::size_t>;
  { L::flops } -> std::convertible_to<std::uint64_t>;
  { L::aliases_input } -> std::convertible_to<bool>;
  { L::num_inputs } -> std::convertible_to<std::size_t>;
  { L::name() } -> std::convertible_to<std::string>;
};

// A layer spec: something a stack can bind to a context.
template <class S>
concept layer_spec = requires { typename S::deepid_layer_spec; };

DEEPID_NAMESPACE_END
