// deepid features: a feature file for every image of LFW from a classic
// extractor (LBP, HOG) or a trained ensemble (any output of its nets), as
// floats or as packed bits; or, for an ensemble trained with held-out
// identities, the features of those people for a verifier to learn from.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <deepid/core/progress.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/eval/held_out_folds.hpp>
#include <deepid/features/extractor.hpp>
#include <deepid/features/hog.hpp>
#include <deepid/features/lbp.hpp>
#include <deepid/face/face_set.hpp>
#include <deepid/face/identity_subset.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/io/feature_file.hpp>

#include "commands.hpp"
#include "ensembles.hpp"
#include "held_out_identities.hpp"

namespace deepid_cli {

const char* const features_usage =
    "usage: deepid features (--extractor lbp|lbp-multiscale|hog | --models DIR [--head NAME]) --lfw DIR\n"
    "                       --out F.npy [--binary] [--threads N] [--device cpu|cuda]\n"
    "       deepid features --models DIR (--celeba DIR | --folders ROOT --landmarks TSV) --out F.npy\n"
    "\n"
    "Computes features for all images of an LFW folder (docs/faces.md), aligned with the\n"
    "folder's landmark list, and writes F.npy (N x D float32, one row per image in\n"
    "lfw-names.txt order) and F.names.txt (the image names, one per line, after a first line\n"
    "'#deepid-features rows=N fnv1a=H' with F.npy's checksum, so a pair from different runs\n"
    "is refused on reading).\n"
    "  lbp             uniform LBP histograms on a 6x7 grid of the aligned face (2,478-d)\n"
    "  lbp-multiscale  uniform LBP at 4 scales around the five landmarks (18,880-d)\n"
    "  hog             HOG, 8 px cells, 2x2 blocks, 9 orientations (5,148-d)\n"
    "  --models DIR    a trained ensemble ('deepid train'): the feature layer of every patch\n"
    "                  net for the patch and its flipped counterpart, concatenated (2 x 160\n"
    "                  values per DeepID1/DeepID2 net, 2 x 512 per DeepID2+/DeepID3 net)\n"
    "  --head NAME     with --models: that output of the nets instead (fc1, fc2, fc3 of\n"
    "                  DeepID2+ and DeepID3; fc4 is their feature layer)\n"
    "  --device D      with --models: cpu (default) or cuda, the nets on the GPU (a tool configured\n"
    "                  with -DDEEPID_CLI_CUDA=ON)\n"
    "  --binary        write bits (value > 0) packed 8 per byte: F.npy is uint8 N x ceil(D/8),\n"
    "                  read back as 0/1 values by eval-lfw and the verifiers\n"
    "  --celeba DIR, --folders ROOT --landmarks TSV   instead of --lfw, for nets trained with\n"
    "                  --hold-out-identities: the images of the identities DIR/held_out_identities.txt\n"
    "                  lists, people the nets never saw, named '<identity>/<image>' in\n"
    "                  F.names.txt ('deepid eval-lfw --verifier-data' learns its verifiers from them)\n";

namespace {
void save(const std::string& out, const deepid::matrix<float>& features, const std::vector<std::string>& names,
          bool binary) {
  if (binary) deepid::io::save_binary_features(out, features, names);
  else deepid::io::save_features(out, features, names);
  std::cout << "wrote " << out << " (" << features.shape()[0] << " x " << features.shape()[1]
            << (binary ? " bits" : "") << ") and " << deepid::io::feature_names_path(out).string() << "\n";
}

template <class E>
void compute(const E& extractor, const deepid::face::lfw_dataset& lfw, const std::string& out, const std::string& name,
             bool binary) {
  const auto names = lfw.image_names();
  deepid::face::face_source source{[&](std::size_t i) { return std::pair{lfw.load(names[i]), lfw.landmarks().at(names[i]).points}; },
                                   [&](std::size_t i) { return names[i]; }, names.size()};
  deepid::progress_options po;
  po.unit = "faces";
  deepid::progress_bar bar(name + " features", names.size(), po);
  const auto batch = deepid::features::extract_all(extractor, source, bar.callback());
  bar.finish();
  save(out, batch.features, names, binary);
}
}  // namespace

// The features of the people a model folder's nets never saw, from the
// training set they were held out of.
int held_out_people_features(const options& o, const std::string& out, bool binary, const std::string& head) {
  const std::string models = o.required("models");
  auto ensemble = load_ensemble(models, device_option(o));
  const auto listed = read_held_out_identities(held_out_identities_path(models));
  if (!listed)
    throw usage_error(models + " holds nets that learnt from every identity of their training set; train them with "
                      "--hold-out-identities K to keep people for a verifier");
  const std::string source = o.has("celeba") ? o.required("celeba") : o.required("folders");
  auto set = o.has("celeba") ? deepid::face::read_celeba(source)
                             : deepid::face::read_identity_folders(source, o.required("landmarks"));
  set = deepid::face::only_identities(std::move(set), *listed, source + " (the identities of " +
                                                                   held_out_identities_path(models).string() + ")");
  std::vector<std::string> names;
  for (const auto& f : set.faces)
    names.push_back(set.identity_names[std::size_t(f.identity)] + "/" + std::filesystem::path(f.image).filename().string());
  const auto faces = deepid::face::faces_of(set);
  std::cout << "features of " << names.size() << " images of " << set.identities() << " held-out people from "
            << ensemble->patch_names().size() << " nets\n";
  std::vector<std::size_t> kept;
  std::vector<std::string> problems;
  const auto features = ensemble->extract(faces, deepid::face::on_bad_item::fail, kept, problems, head);
  // The LFW folds the nets held out travel along, so eval-lfw can check
  // that these features and the LFW ones come from the same nets.
  const auto held_out_path = deepid::eval::held_out_folds_path_of_features(out);
  if (const auto held_out = deepid::eval::read_held_out_folds(deepid::eval::held_out_folds_path_of_models(models)))
    deepid::eval::write_held_out_folds(held_out_path, *held_out, "features of " + models);
  else
    std::filesystem::remove(held_out_path);
  write_held_out_identities(held_out_identities_path_of_features(out), *listed, "features of " + models + " ('deepid features')");
  save(out, features, names, binary);
  return 0;
}

int run_features(arguments args) {
  const auto o = parse_options("features", args,
                               {"extractor", "models", "head", "lfw", "celeba", "folders", "landmarks", "out", "binary", "threads",
                                "device"},
                               {}, {"binary"});
  if (o.help) return std::cout << features_usage, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  if (o.has("extractor") == o.has("models")) throw usage_error("'deepid features' needs one of --extractor or --models");
  if (o.has("head") && !o.has("models")) throw usage_error("--head needs --models (an ensemble's nets have heads)");
  if (o.has("device") && !o.has("models")) throw usage_error("--device needs --models (the classic extractors run on the CPU)");
  const std::string out = o.required("out");
  if (!o.has("models")) std::filesystem::remove(deepid::eval::held_out_folds_path_of_features(out));
  if (o.has("lfw")) std::filesystem::remove(held_out_identities_path_of_features(out));
  const bool binary = o.has("binary");
  const int sources = int(o.has("lfw")) + int(o.has("celeba")) + int(o.has("folders"));
  if (sources != 1) throw usage_error("'deepid features' needs one of --lfw, --celeba or --folders");
  if ((o.has("celeba") || o.has("folders")) && !o.has("models"))
    throw usage_error("--celeba and --folders need --models (the nets whose held-out people they hold)");
  if (o.has("landmarks") != o.has("folders")) throw usage_error("--folders needs --landmarks TSV and --landmarks needs --folders");
  if (o.has("models")) {
    auto ensemble = load_ensemble(o.required("models"), device_option(o));
    const std::string head = o.has("head") ? o.required("head") : "";
    if (!head.empty()) {
      const auto outputs = ensemble->output_names();
      if (std::find(outputs.begin(), outputs.end(), head) == outputs.end()) {
        std::string known;
        for (const auto& n : outputs) known += (known.empty() ? "" : ", ") + n;
        throw usage_error("--head '" + head + "': the nets of " + o.required("models") + " have the outputs " + known);
      }
    }
    if (!o.has("lfw")) return held_out_people_features(o, out, binary, head);
    const auto lfw = deepid::face::lfw_dataset::open(o.required("lfw"));
    const auto names = lfw.image_names();
    deepid::face::face_source source{
        [&](std::size_t i) { return std::pair{lfw.load(names[i]), lfw.landmarks().at(names[i]).points}; },
        [&](std::size_t i) { return names[i]; }, names.size()};
    std::vector<std::size_t> kept;
    std::vector<std::string> problems;
    std::cout << "features of " << names.size() << " LFW images from " << ensemble->patch_names().size() << " nets\n";
    const auto features = ensemble->extract(source, deepid::face::on_bad_item::fail, kept, problems, head);
    // Nets that learnt from LFW people may test only the folds they held out;
    // the feature file carries that to eval-lfw. Written before the features,
    // so no feature file of such nets is ever without it.
    const auto held_out_path = deepid::eval::held_out_folds_path_of_features(out);
    if (const auto held_out = deepid::eval::read_held_out_folds(deepid::eval::held_out_folds_path_of_models(o.required("models")))) {
      deepid::eval::write_held_out_folds(held_out_path, *held_out, "features of " + o.required("models"));
      std::cout << "the nets may test LFW folds " << deepid::eval::format_folds(*held_out) << " only ("
                << held_out_path.string() << ")\n";
    } else {
      std::filesystem::remove(held_out_path);
    }
    save(out, features, names, binary);
    return 0;
  }
  const auto lfw = deepid::face::lfw_dataset::open(o.required("lfw"));
  const std::string extractor = o.required("extractor");
  if (extractor == "lbp") compute(deepid::features::lbp_grid{}, lfw, out, extractor, binary);
  else if (extractor == "lbp-multiscale") compute(deepid::features::lbp_multiscale{}, lfw, out, extractor, binary);
  else if (extractor == "hog") compute(deepid::features::hog{}, lfw, out, extractor, binary);
  else throw usage_error("unknown --extractor '" + extractor + "' (lbp, lbp-multiscale or hog)");
  return 0;
}

}  // namespace deepid_cli
