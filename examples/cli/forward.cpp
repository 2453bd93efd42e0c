// deepid forward: DeepID features of a batch of patches.
#include <iostream>

#include <deepid/core/threads.hpp>

#include "commands.hpp"
#include "registry.hpp"

namespace deepid_cli {

const char* const forward_usage =
    "usage: deepid forward --model NAME --weights DIR --input X.npy --output Y.npy\n"
    "                      [--head NAME|all] [--threads N]\n"
    "\n"
    "Reads the weights DIR/<tensor>.npy (and DIR/model.txt when present, which must\n"
    "name the same model), a batch X.npy of shape N x C x H x W (float32 or float64,\n"
    "C order, finite values; C x H x W as listed by 'deepid info') and writes the\n"
    "features Y.npy, N x D float32 (D = 160 for DeepID1/2, 512 for DeepID2+/3).\n"
    "Y.npy is replaced only when it is complete.\n"
    "--head NAME writes that output instead of the main one (the names 'deepid info'\n"
    "lists, e.g. fc1, fc2, fc3, fc4 for DeepID2+); --head all writes every output,\n"
    "each to Y.<name>.npy beside Y.npy.\n"
    "--threads N sets the number of threads (default: OpenMP's).\n";

int run_forward(arguments args) {
  const auto opts = parse_options("forward", args, {"model", "weights", "input", "output", "head", "threads"});
  if (opts.help) {
    std::cout << forward_usage;
    return 0;
  }
  const model_entry& entry = find_model(opts.required("model"));
  forward_job job{entry.name, opts.required("weights"), opts.required("input"), opts.required("output"),
                  opts.has("head") ? opts.required("head") : std::string()};
  if (opts.has("threads")) deepid::set_num_threads(int(opts.integer("threads", 0, 1, 1024)));
  entry.forward(job);
  return 0;
}

}  // namespace deepid_cli
