// deepid info: the build (version, SIMD, threads) and the models; with
// --model, one model's layer table.
#include <cstdio>
#include <iostream>
#include <string>

#include <deepid/core/threads.hpp>
#include <deepid/io/npy.hpp>
#include <deepid/kernels/detail/xsimd.hpp>

#include "commands.hpp"
#include "registry.hpp"

namespace deepid_cli {

const char* const info_usage =
    "usage: deepid info [--model NAME]\n"
    "\n"
    "Without options: the version, the SIMD architecture, the thread count and every\n"
    "model with its input shape (C x H x W), its parameters and forward MFLOP (all\n"
    "layers, and the feature path alone: without the supervised heads, which only\n"
    "training runs) and its outputs.\n"
    "With --model NAME: that model's layers with output shape, parameters and MFLOP,\n"
    "and its parameter tensors as stored in weights files (PyTorch layout).\n";

namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string pad(std::string text, std::size_t width, bool right = false) {
  if (text.size() >= width) return text + " ";
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

void print_build() {
  std::cout << "deepid " DEEPID_CLI_VERSION "\n"
            << "simd: " << xsimd::default_arch::name() << " (" << xsimd::batch<float>::size << " floats per vector)\n"
            << "threads: " << deepid::num_threads() << (DEEPID_OPENMP ? " (OpenMP)" : " (built without OpenMP)")
            << "\n";
}

std::string output_names(const model_entry& e) {
  std::string text;
  for (const auto& o : e.outputs) text += (text.empty() ? "" : ",") + o.name;
  return text;
}

void print_models() {
  std::cout << "\nmodels (" << all_models().size() << "; 'feature' counts the path to the main output, "
            << "'all' adds the supervised heads):\n"
            << "  " << pad("name", 30) << pad("input", 10) << pad("params all", 12, true)
            << pad("feature", 11, true) << pad("MFLOP all", 11, true) << pad("feature", 9, true) << "  "
            << pad("outputs", 16) << "description\n";
  for (const auto& e : all_models())
    std::cout << "  " << pad(e.name, 30) << pad(e.input.str(), 10) << pad(std::to_string(e.param_count), 12, true)
              << pad(std::to_string(e.feature_params), 11, true) << pad(fixed(double(e.flops) / 1e6, 2), 11, true)
              << pad(fixed(double(e.feature_flops) / 1e6, 2), 9, true) << "  " << pad(output_names(e), 16)
              << e.description << "\n";
}

// "fc1" for a head's layers, "b2" for an Inception branch's.
std::string place(const layer_row& r) {
  std::string text = r.head;
  if (r.branch) text += (text.empty() ? "" : " ") + std::string("b") + std::to_string(r.branch);
  return text;
}

void print_layers(const model_entry& e) {
  std::cout << e.name << ": " << e.description << "\n"
            << "input " << e.input.str() << " (C x H x W), features " << e.feature_dim << ", outputs";
  for (const auto& o : e.outputs) std::cout << " " << o.name << " (" << o.shape.size() << ")";
  std::cout << "\n\n"
            << pad("#", 4, true) << "  " << pad("layer", 48) << pad("head", 9) << pad("output", 12)
            << pad("parameters", 12, true) << pad("MFLOP", 9, true) << "\n";
  std::size_t params = 0;
  std::uint64_t flops = 0;
  for (const auto& r : e.layers()) {
    std::cout << pad(std::to_string(r.index), 4, true) << "  " << pad(r.name, 48) << pad(place(r), 9)
              << pad(r.out_shape.str(), 12) << pad(std::to_string(r.params), 12, true)
              << pad(fixed(double(r.flops) / 1e6, 3), 9, true) << "\n";
    params += r.params;
    flops += r.flops;
  }
  std::cout << pad("", 4) << "  " << pad("total", 48) << pad("", 9) << pad("", 12) << pad(std::to_string(params), 12, true)
            << pad(fixed(double(flops) / 1e6, 3), 9, true) << "\n";
  if (e.feature_params != params)
    std::cout << pad("", 4) << "  " << pad("feature path (without the heads)", 48) << pad("", 9) << pad("", 12)
              << pad(std::to_string(e.feature_params), 12, true) << pad(fixed(double(e.feature_flops) / 1e6, 3), 9, true)
              << "\n";
  std::cout << "\nparameter tensors (PyTorch layout; files <name>.npy, see docs/weights.md):\n";
  for (const auto& t : e.tensors()) {
    std::size_t count = 1;
    for (auto d : t.shape) count *= d;
    std::cout << "  " << pad(t.name, 12) << pad(deepid::io::shape_text(t.shape), 24) << pad(std::to_string(count), 10, true)
              << "\n";
  }
}

}  // namespace

int run_info(arguments args) {
  const auto opts = parse_options("info", args, {"model"});
  if (opts.help) {
    std::cout << info_usage;
    return 0;
  }
  if (opts.has("model")) {
    print_layers(find_model(opts.required("model")));
    return 0;
  }
  print_build();
  print_models();
  return 0;
}

}  // namespace deepid_cli
