// deepid export: a model's seeded initial weights as interop files.
#include <iostream>

#include "commands.hpp"
#include "registry.hpp"

namespace deepid_cli {

const char* const export_usage =
    "usage: deepid export --model NAME --out DIR [--seed S]\n"
    "\n"
    "Writes the model's weights, initialised from seed S (default 0; the same seed\n"
    "gives the same weights on every machine), as DIR/<tensor>.npy in PyTorch layout\n"
    "plus DIR/model.txt. DIR is created if needed; each file is replaced atomically.\n";

int run_export(arguments args) {
  const auto opts = parse_options("export", args, {"model", "out", "seed"});
  if (opts.help) {
    std::cout << export_usage;
    return 0;
  }
  const model_entry& entry = find_model(opts.required("model"));
  const std::string& dir = opts.required("out");
  const std::uint64_t seed = opts.integer("seed", 0, 0, UINT64_MAX);
  entry.export_seeded(seed, dir, entry.name);
  std::cout << "wrote " << entry.name << " weights (seed " << seed << ", " << entry.param_count << " parameters) to "
            << dir << "\n";
  return 0;
}

}  // namespace deepid_cli
