// deepid eval-lfw: the LFW View 2 ten-fold protocol on a feature file.
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/core/threads.hpp>
#include <deepid/eval/lfw.hpp>
#include <deepid/eval/report.hpp>
#include <deepid/io/feature_file.hpp>

#include "commands.hpp"
#include "verifiers.hpp"

namespace deepid_cli {

const char* const eval_lfw_usage =
    "usage: deepid eval-lfw --features F.npy --verifier NAME[,NAME...] [--verifier NAME ...]\n"
    "                       --out DIR [--lfw DIR] [--pca K] [--nn-groups G] [--nn-hidden2 H]\n"
    "                       [--restricted] [--threads N]\n"
    "\n"
    "The LFW View 2 protocol: for each of the 10 folds the verifier (PCA and threshold\n"
    "included) learns from the other nine folds only and is tested on the held-out one.\n"
    "Prints one row per verifier (mean accuracy, standard error, AUC, EER, TPR at FPR 1e-2\n"
    "and 1e-3) and writes DIR/results.txt, DIR/roc.csv and DIR/roc.png.\n"
    "  --features F.npy  N x D features with F.names.txt (see 'deepid help features')\n"
    "  --lfw DIR         the LFW folder holding pairs.txt (default: $DEEPID_DATA/lfw)\n"
    "  --pca K           PCA components (default 150)\n"
    "  --nn-groups G     nn: G equal groups of the raw features, one per patch net\n"
    "  --nn-hidden2 H    nn with groups: hidden-2 units (default 80 per group, at most 4,800)\n"
    "  --restricted      learn only from the training folds' pair images (default: every\n"
    "                    image of the training folds' people, LFW's unrestricted setting)\n"
    "verifiers:\n";

int run_eval_lfw(arguments args) {
  const auto o = parse_options("eval-lfw", args, {"features", "verifier", "out", "lfw", "pca", "nn-groups", "nn-hidden2", "threads",
                                                  "restricted"},
                               {"verifier"}, {"restricted"});
  if (o.help) return std::cout << eval_lfw_usage << verifier_names_help, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const std::filesystem::path features_path = o.required("features"), out = o.required("out");
  std::vector<std::string> names;
  {
    std::stringstream list(o.required("verifier"));
    for (std::string n; std::getline(list, n, ',');)
      if (!n.empty()) check_verifier_name(n), names.push_back(n);
  }
  if (names.empty()) throw usage_error("--verifier names no verifier");
  verifier_settings settings;
  settings.pca = o.integer("pca", 150, 1, 100000);
  settings.nn_groups = o.integer("nn-groups", 0, 0, 100000);
  settings.nn_hidden2 = o.integer("nn-hidden2", 0, 0, 100000);
  if (o.has("restricted")) settings.images = deepid::eval::training_images::pairs_only;
  std::filesystem::path lfw_dir;
  if (o.has("lfw")) lfw_dir = o.required("lfw");
  else if (const char* data = std::getenv("DEEPID_DATA")) lfw_dir = std::filesystem::path(data) / "lfw";
  else throw usage_error("'deepid eval-lfw' needs --lfw DIR (or DEEPID_DATA) to find pairs.txt");

  const auto file = deepid::io::load_features(features_path);
  const auto pairs = deepid::face::read_lfw_pairs(lfw_dir / "pairs.txt");
  const auto bound = deepid::eval::bind_pairs(file.names, pairs, features_path.string());
  std::filesystem::create_directories(out);
  std::vector<deepid::eval::protocol_result> results;
  std::cout << "LFW View 2, 10 folds, " << file.features.shape()[0] << " x " << file.features.shape()[1]
            << " features from " << features_path.string() << "\n"
            << deepid::eval::table_header() << "\n";
  std::string table = deepid::eval::table_header() + "\n";
  for (const auto& name : names) {
    results.push_back(evaluate_verifier(name, file.features, bound.pairs, bound.identities, settings));
    const std::string row = deepid::eval::table_row(results.back());
    std::cout << row << std::endl;
    table += row + "\n";
  }
  deepid::eval::write_roc_csv(out / "roc.csv", results);
  deepid::eval::plot_roc_png(out / "roc.png", results, "LFW View 2 ROC: " + features_path.filename().string());
  deepid::io::atomic_file f(out / "results.txt");
  f.write(table);
  f.commit();
  std::cout << "wrote " << (out / "results.txt").string() << ", " << (out / "roc.csv").string() << ", "
            << (out / "roc.png").string() << "\n";
  return 0;
}

}  // namespace deepid_cli
