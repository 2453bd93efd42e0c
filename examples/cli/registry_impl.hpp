#pragma once
// make_entry<Net>: the one template the registry translation units
// instantiate per network (model<Net, float> only).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <deepid/core/error.hpp>
#include <deepid/io/npy.hpp>
#include <deepid/net/model.hpp>
#include <deepid/net/weights.hpp>

#include "registry.hpp"

namespace deepid_cli {

template <class Net>
struct entry_functions {
  using model_type = deepid::model<Net, float>;

  static std::vector<layer_row> layers() {
    const model_type m;
    std::vector<layer_row> rows;
    for (const auto& r : m.layers())
      rows.push_back({r.index, r.name, r.out_shape, r.params, r.flops, r.head, r.branch});
    return rows;
  }

  static std::vector<tensor_row> tensors() {
    const model_type m;
    std::vector<tensor_row> rows;
    for (const auto& t : m.parameter_tensors()) rows.push_back({t.name, t.shape});
    return rows;
  }

  static std::vector<output_row> outputs() {
    std::vector<output_row> rows;
    for (std::size_t k = 0; k < model_type::output_count; ++k)
      rows.push_back({std::string(model_type::output_name(k)), model_type::output_shape_of(k)});
    return rows;
  }

  // The outputs a job asks for: the main one by default, one by name, or all.
  static std::vector<std::size_t> selected_outputs(const forward_job& job) {
    if (job.head.empty()) return {model_type::output_count - 1};
    if (job.head != "all") return {model_type::output_index(job.head)};
    std::vector<std::size_t> all(model_type::output_count);
    for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
    return all;
  }

  // Where output k goes: job.output, or with --head all "<stem>.<name>.npy".
  static std::filesystem::path output_path(const forward_job& job, std::size_t k) {
    if (job.head != "all") return job.output;
    std::filesystem::path path = job.output;
    return path.replace_filename(path.stem().string() + "." + std::string(model_type::output_name(k)) + ".npy");
  }

  // Outputs for a batch N x C x H x W, in chunks so memory stays bounded.
  static void forward(const forward_job& job) {
    const std::vector<std::size_t> wanted = selected_outputs(job);  // an unknown name fails before any work
    model_type m;
    deepid::import_weights(m, job.weights, job.model_name);
    constexpr deepid::shape3 in = model_type::input_shape;
    deepid::io::npy_expect expect;
    expect.shape = std::vector<std::size_t>{deepid::io::any_extent, in.c, in.h, in.w};
    expect.finite = true;
    const auto x = deepid::io::read_npy<float>(job.input, expect);
    const std::size_t n = x.shape[0];
    if (n == 0) throw deepid::error(job.input.string() + ": the batch is empty (shape " + deepid::io::shape_text(x.shape) + ")");
    const bool heads = std::any_of(wanted.begin(), wanted.end(), [](std::size_t k) { return k < model_type::head_count; });
    std::vector<std::vector<float>> results(wanted.size());
    for (std::size_t j = 0; j < wanted.size(); ++j) results[j].resize(n * model_type::output_shape_of(wanted[j]).size());
    constexpr std::size_t chunk = 256;
    for (std::size_t first = 0; first < n; first += chunk) {
      const std::size_t count = std::min(chunk, n - first);
      m.forward(x.values.data() + first * in.size(), count, deepid::mode::inference,
                heads ? deepid::head_pass::run : deepid::head_pass::skip);
      for (std::size_t j = 0; j < wanted.size(); ++j) {
        // NCHW per sample (the outputs here are vectors, where NHWC is the same).
        const auto out = m.output_matrix(wanted[j]);
        const std::size_t dim = model_type::output_shape_of(wanted[j]).size();
        std::copy_n(out.data(), count * dim, results[j].data() + first * dim);
      }
    }
    // Every output is checked before any is written: a NaN from weights that
    // overflow float32 must not reach a file as if it were a feature.
    for (std::size_t j = 0; j < wanted.size(); ++j) {
      const std::size_t dim = model_type::output_shape_of(wanted[j]).size();
      const std::size_t i = deepid::io::first_non_finite<float>(results[j]);
      if (i < results[j].size())
        throw deepid::error(output_path(job, wanted[j]).string() + ": not written: output value " +
                            std::to_string(i % dim) + " of sample " + std::to_string(i / dim) + " is " +
                            (std::isnan(results[j][i]) ? "NaN" : "infinite") + " (the weights in " +
                            job.weights.string() + " or the input overflow float32)");
    }
    for (std::size_t j = 0; j < wanted.size(); ++j) {
      const std::vector<std::size_t> shape{n, model_type::output_shape_of(wanted[j]).size()};
      deepid::io::write_npy<float>(output_path(job, wanted[j]), results[j], shape);
    }
  }

  static void export_seeded(std::uint64_t seed, const std::filesystem::path& dir, const std::string& name) {
    const model_type m(deepid::init::seed{seed});
    deepid::export_weights(m, dir, name);
  }
};

template <class Net>
model_entry make_entry(std::string name, std::string description) {
  using f = entry_functions<Net>;
  using m = typename f::model_type;
  using traits = deepid::net_traits<Net>;
  return {std::move(name),
          std::move(description),
          m::input_shape,
          m::output_shape.size(),
          m::param_count,
          m::flops,
          traits::feature_param_count,
          traits::feature_flops,
          f::outputs(),
          &f::layers,
          &f::tensors,
          &f::forward,
          &f::export_seeded};
}

}  // namespace deepid_cli
