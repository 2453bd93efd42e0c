#pragma once
// The layer that joins an Inception module's branches: their outputs, maps of
// one size, side by side along channels (branch 1's channels first). NHWC
// makes this a copy of contiguous runs per pixel.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepid/kernels/parallel.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN
namespace detail {

template <std::size_t N>
constexpr std::size_t total_channels(const std::array<shape3, N>& shapes) {
  std::size_t c = 0;
  for (const auto& s : shapes) c += s.c;
  return c;
}

template <class T, std::size_t N, std::array<std::size_t, N> Acts, std::array<shape3, N> Shapes>
struct concat_layer : parameterless<T> {
  static constexpr shape3 out_shape{total_channels(Shapes), Shapes[0].h, Shapes[0].w};
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = N;
  static constexpr std::array<std::size_t, N> inputs = Acts;
  static std::string name() { return "concat (" + std::to_string(N) + " branches)"; }

  void forward(const pass_buffers<T, N>& b, const T*, mode) const {
    constexpr std::size_t pixels = out_shape.h * out_shape.w;
    kernels::parallel_for(b.batch, [&](std::size_t s) {
      for (std::size_t p = s * pixels; p < (s + 1) * pixels; ++p) {
        T* out = b.output + p * out_shape.c;
        for (std::size_t k = 0; k < N; ++k) out = std::copy_n(b.inputs[k] + p * Shapes[k].c, Shapes[k].c, out);
      }
    });
  }

  void backward(const pass_buffers<T, N>& b, const T* dout, const std::array<T*, N>& din, const T*, T*) const {
    constexpr std::size_t pixels = out_shape.h * out_shape.w;
    kernels::parallel_for(b.batch, [&](std::size_t s) {
      for (std::size_t p = s * pixels; p < (s + 1) * pixels; ++p) {
        const T* g = dout + p * out_shape.c;
        for (std::size_t k = 0; k < N; ++k) {
          if (din[k])
            for (std::size_t c = 0; c < Shapes[k].c; ++c) din[k][p * Shapes[k].c + c] += g[c];
          g += Shapes[k].c;
        }
      }
    });
  }
};

}  // namespace detail
DEEPID_NAMESPACE_END
