#pragma once
// make_entry<Net>: the one template the registry translation units
// instantiate per network (model<Net, float> only).
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <deepid/core/error.hpp>
#include <deepid/io/npy.hpp>
#include <deepid/io/weights.hpp>
#include <deepid/net/model.hpp>

#include "registry.hpp"

namespace deepid_cli {

template <class Net>
struct entry_functions {
  using model_type = deepid::model<Net, float>;

  static std::vector<layer_row> layers() {
    const model_type m;
    std::vector<layer_row> rows;
    for (const auto& r : m.layers()) rows.push_back({r.index, r.name, r.out_shape, r.params, r.flops});
    return rows;
  }

  static std::vector<tensor_row> tensors() {
    const model_type m;
    std::vector<tensor_row> rows;
    for (const auto& t : m.parameter_tensors()) rows.push_back({t.name, t.shape});
    return rows;
  }

  // Features for a batch N x C x H x W, in chunks so memory stays bounded.
  static void forward(const forward_job& job) {
    model_type m;
    deepid::io::import_weights(m, job.weights, job.model_name);
    constexpr deepid::shape3 in = model_type::input_shape;
    deepid::io::npy_expect expect;
    expect.shape = std::vector<std::size_t>{deepid::io::any_extent, in.c, in.h, in.w};
    expect.finite = true;
    const auto x = deepid::io::read_npy<float>(job.input, expect);
    const std::size_t n = x.shape[0];
    if (n == 0) throw deepid::error(job.input.string() + ": the batch is empty (shape " + deepid::io::shape_text(x.shape) + ")");
    constexpr std::size_t dim = model_type::output_shape.size();
    static_assert(model_type::output_shape.h * model_type::output_shape.w == 1, "features are a vector per sample");
    std::vector<float> features(n * dim);
    constexpr std::size_t chunk = 256;
    for (std::size_t first = 0; first < n; first += chunk) {
      const std::size_t count = std::min(chunk, n - first);
      const float* out = m.forward(x.values.data() + first * in.size(), count, deepid::mode::inference);
      std::copy_n(out, count * dim, features.data() + first * dim);
    }
    const std::vector<std::size_t> shape{n, dim};
    deepid::io::write_npy<float>(job.output, features, shape);
  }

  static void export_seeded(std::uint64_t seed, const std::filesystem::path& dir, const std::string& name) {
    const model_type m(deepid::init::seed{seed});
    deepid::io::export_weights(m, dir, name);
  }
};

template <class Net>
model_entry make_entry(std::string name, std::string description) {
  using f = entry_functions<Net>;
  using m = typename f::model_type;
  return {std::move(name), std::move(description), m::input_shape, m::output_shape.size(), m::param_count,
          m::flops,          &f::layers,             &f::tensors,    &f::forward,              &f::export_seeded};
}

}  // namespace deepid_cli
