// deepid stats: sparsity of a feature file (active neurons per image and
// images per neuron, with histograms).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <deepid/eval/sparsity.hpp>
#include <deepid/eval/sparsity_plot.hpp>
#include <deepid/io/feature_file.hpp>

#include "studies.hpp"

namespace deepid_cli {

const char* const stats_usage =
    "usage: deepid stats --features F.npy [--out DIR] [--bins B]\n"
    "\n"
    "Sparsity of the features in F.npy (float or binary, with F.names.txt): a neuron is\n"
    "active on an image when its value is positive. Prints the active neurons per image and\n"
    "the images that activate each neuron (mean +- standard deviation); with --out writes\n"
    "DIR/sparsity.png (both histograms) and DIR/sparsity.csv.\n"
    "  --features F.npy  N x D features (see 'deepid help features')\n"
    "  --out DIR         where to write the plot and the CSV (created if missing)\n"
    "  --bins B          at most B bars per histogram (default 50)\n"
    "Features of a trained ensemble come first from 'deepid features --models M --lfw DIR'.\n";

int run_stats(arguments args) {
  const auto o = parse_options("stats", args, {"features", "out", "bins", "models", "lfw"});
  if (o.help) return std::cout << stats_usage, 0;
  if (o.has("models") || o.has("lfw"))
    throw usage_error("'deepid stats' reads a feature file: run 'deepid features --models M --lfw DIR --out F.npy' "
                      "first, then 'deepid stats --features F.npy'");
  const std::filesystem::path features_path = o.required("features");
  const std::size_t bins = o.integer("bins", 50, 1, 100000);
  const auto file = deepid::io::load_features(features_path);
  const auto s = deepid::eval::sparsity(file.features, bins);
  char line[256];
  std::cout << "sparsity of " << s.images << " x " << s.neurons << (file.binary ? " binary" : "") << " features from "
            << features_path.string() << " (active = value > 0)\n";
  std::snprintf(line, sizeof line, "active neurons per image:       %.1f +- %.1f of %zu neurons (%.1f%%)\n",
                s.active.mean, s.active.sd, s.neurons, 100 * s.active.mean / double(s.neurons));
  std::cout << line;
  std::snprintf(line, sizeof line, "images that activate a neuron:  %.1f +- %.1f of %zu images (%.1f%%)\n",
                s.activating.mean, s.activating.sd, s.images, 100 * s.activating.mean / double(s.images));
  std::cout << line;
  if (file.binary)
    std::cout << "(a binary file stores D rounded up to a multiple of 8; the padding neurons are never active)\n";
  if (o.has("out")) {
    const std::filesystem::path out = o.required("out");
    std::filesystem::create_directories(out);
    deepid::eval::write_sparsity_csv(out / "sparsity.csv", s);
    deepid::eval::plot_sparsity_png(out / "sparsity.png", s, "Sparsity: " + features_path.filename().string());
    std::cout << "wrote " << (out / "sparsity.png").string() << " and " << (out / "sparsity.csv").string() << "\n";
  }
  return 0;
}

}  // namespace deepid_cli
