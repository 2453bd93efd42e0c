// deepid eval-lfw: the LFW View 2 ten-fold protocol on a feature file.
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/core/threads.hpp>
#include <deepid/eval/held_out_folds.hpp>
#include <deepid/eval/lfw.hpp>
#include <deepid/eval/report.hpp>
#include <deepid/io/feature_file.hpp>

#include "commands.hpp"
#include "held_out_identities.hpp"
#include "verifiers.hpp"

namespace deepid_cli {

const char* const eval_lfw_usage =
    "usage: deepid eval-lfw --features F.npy[,F2.npy...] --verifier NAME[,NAME...] [--verifier NAME ...]\n"
    "                       --out DIR [--lfw DIR] [--pca K] [--nn-groups G] [--nn-hidden2 H]\n"
    "                       [--groups G] [--select K] [--restricted] [--unseen-people]\n"
    "                       [--verifier-data V.npy[,V2.npy...]] [--threads N]\n"
    "\n"
    "The LFW View 2 protocol: for each of the 10 folds the verifier (PCA and threshold\n"
    "included) learns from the other nine folds only and is tested on the held-out one.\n"
    "Prints one row per verifier (mean accuracy, standard error, AUC, EER, TPR at FPR 1e-2\n"
    "and 1e-3) and writes DIR/results.txt, DIR/roc.csv and DIR/roc.png.\n"
    "  --features F.npy  N x D features with F.names.txt (see 'deepid help features'). Features\n"
    "                    of nets that learnt from LFW people ('deepid train --lfw') carry\n"
    "                    F.held_out_folds.txt and test only those folds: give one file per\n"
    "                    model set, F1.npy,F2.npy, so that every fold is tested by nets that\n"
    "                    never saw its people; each fold's verifier learns from the same file\n"
    "  --lfw DIR         the LFW folder holding pairs.txt (default: $DEEPID_DATA/lfw)\n"
    "  --pca K           PCA components (default 150)\n"
    "  --nn-groups G     nn: G equal groups of the raw features, one per patch net\n"
    "  --nn-hidden2 H    nn with groups: hidden-2 units (default 80 per group, at most 4,800)\n"
    "  --groups G        jb-groups, sel-jb: G equal feature groups, one per patch net\n"
    "  --select K        sel-jb: keep at most K groups (default: as many as help)\n"
    "  --restricted      learn only from the training folds' pair images (default: every\n"
    "                    image of the training folds' people, LFW's unrestricted setting)\n"
    "  --unseen-people   with held-out folds: each fold's verifier (PCA, threshold included)\n"
    "                    learns only from the other folds its nets held out, people the nets\n"
    "                    never saw (the verifier's own held-out identities); default: all nine\n"
    "  --verifier-data V.npy  one file per --features file: the features, from the same nets,\n"
    "                    of the training set's held-out identities ('deepid train\n"
    "                    --hold-out-identities', 'deepid features --celeba'): the verifier\n"
    "                    (PCA included) learns from those people once, and each fold learns\n"
    "                    only its threshold from its training folds\n"
    "verifiers:\n";

namespace {
struct feature_part {
  std::size_t index = 0;  // its place in the --features list
  std::filesystem::path path;
  std::set<int> folds;  // the folds it tests; empty: all (one file, nets that saw no LFW person)
};

// Which feature file tests which fold: a file with F.held_out_folds.txt only
// the folds listed there, a file without (nets that saw no LFW person) any
// fold no other file claims. Every fold must be tested by exactly one file.
std::vector<feature_part> assign_folds(const std::string& list, const std::vector<deepid::face::face_pair>& pairs) {
  std::vector<feature_part> parts;
  std::stringstream in(list);
  for (std::string path; std::getline(in, path, ',');)
    if (!path.empty()) parts.push_back({parts.size(), path, {}});
  if (parts.empty()) throw usage_error("--features names no file");
  std::set<int> folds;
  for (const auto& p : pairs) folds.insert(p.fold);
  std::vector<std::optional<std::set<int>>> held(parts.size());
  for (std::size_t k = 0; k < parts.size(); ++k)
    held[k] = deepid::eval::read_held_out_folds(deepid::eval::held_out_folds_path_of_features(parts[k].path),
                                                int(folds.empty() ? 10 : *folds.rbegin() + 1));
  if (parts.size() == 1 && !held[0]) return parts;
  std::size_t open_files = 0, open_file = 0;
  for (std::size_t k = 0; k < parts.size(); ++k)
    if (!held[k]) ++open_files, open_file = k;
  if (open_files > 1) throw usage_error("--features: two files without held-out folds; which tests which fold is unclear");
  for (int f : folds) {
    std::size_t claims = 0;
    for (std::size_t k = 0; k < parts.size(); ++k)
      if (held[k] && held[k]->count(f)) ++claims, parts[k].folds.insert(f);
    if (claims > 1) throw usage_error("--features: fold " + std::to_string(f) + " is held out by two feature files");
    if (claims == 1) continue;
    if (!open_files)
      throw usage_error("--features: no file may test fold " + std::to_string(f) +
                        ": every file's nets learnt from its people (see their .held_out_folds.txt)");
    parts[open_file].folds.insert(f);
  }
  std::erase_if(parts, [](const feature_part& p) { return p.folds.empty(); });
  return parts;
}

// The comma-separated paths of a list option.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> paths;
  std::stringstream in(list);
  for (std::string path; std::getline(in, path, ',');)
    if (!path.empty()) paths.push_back(path);
  return paths;
}

// Features of held-out training identities for the verifiers of `part`
// ('deepid features --celeba'): with their list F.held_out_identities.txt,
// images named "<identity>/<image>" of those identities only, none of them
// a person of LFW View 2 (`lfw_people`), from nets that held out the same
// LFW folds.
struct outside_people {
  deepid::matrix<float> features;
  std::vector<int> identities;
  std::size_t people = 0;
};

outside_people load_outside_people(const std::string& path, const feature_part& part,
                                   const std::set<std::string>& lfw_people) {
  const auto list_path = held_out_identities_path_of_features(path);
  const auto listed = read_held_out_identities(list_path);
  if (!listed)
    throw deepid::error(path + ": no " + list_path.string() +
                        ": not the features of held-out training people (written by 'deepid features --celeba')");
  const std::set<std::string> allowed(listed->begin(), listed->end());
  auto file = deepid::io::load_features(path);
  const auto folds_of = [](const std::filesystem::path& p) {
    const auto held = deepid::eval::read_held_out_folds(deepid::eval::held_out_folds_path_of_features(p));
    return held ? deepid::eval::format_folds(*held) : std::string("none");
  };
  if (folds_of(path) != folds_of(part.path))
    throw deepid::error(path + ": its nets held out LFW folds " + folds_of(path) + ", those of " + part.path.string() +
                        " held out " + folds_of(part.path) + ": not the same nets");
  outside_people out{std::move(file.features), {}, 0};
  std::map<std::string, int> label;
  for (const auto& name : file.names) {
    const auto slash = name.find('/');
    if (slash == std::string::npos || slash == 0)
      throw deepid::error(path + ": image '" + name + "' is not named '<identity>/<image>' (write it with 'deepid features --celeba')");
    const auto person = name.substr(0, slash);
    if (!allowed.count(person))
      throw deepid::error(path + ": image '" + name + "' is of a person " + list_path.string() + " does not list");
    if (lfw_people.count(person))
      throw deepid::error(path + ": '" + person + "' is an LFW person; a verifier may learn only from people outside LFW");
    out.identities.push_back(label.emplace(person, int(label.size())).first->second);
  }
  out.people = label.size();
  return out;
}
}  // namespace

int run_eval_lfw(arguments args) {
  const auto o = parse_options("eval-lfw", args, {"features", "verifier", "out", "lfw", "pca", "nn-groups", "nn-hidden2", "groups", "select", "threads",
                                                  "restricted", "unseen-people", "verifier-data"},
                               {"verifier"}, {"restricted", "unseen-people"});
  if (o.help) return std::cout << eval_lfw_usage << verifier_names_help, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const std::filesystem::path out = o.required("out");
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
  settings.groups = o.integer("groups", 0, 0, 100000);
  settings.select = o.integer("select", 0, 0, 100000);
  if (o.has("restricted")) settings.images = deepid::eval::training_images::pairs_only;
  std::filesystem::path lfw_dir;
  if (o.has("lfw")) lfw_dir = o.required("lfw");
  else if (const char* data = std::getenv("DEEPID_DATA")) lfw_dir = std::filesystem::path(data) / "lfw";
  else throw usage_error("'deepid eval-lfw' needs --lfw DIR (or DEEPID_DATA) to find pairs.txt");

  for (const auto& path : std::vector<std::string>{o.required("features")}) {
    std::stringstream list(path);
    for (std::string f; std::getline(list, f, ',');)
      if (!f.empty() && !std::filesystem::exists(f)) throw deepid::error(f + ": file not found");
  }
  const auto pairs = deepid::face::read_lfw_pairs(lfw_dir / "pairs.txt");
  const auto parts = assign_folds(o.required("features"), pairs);
  std::vector<std::string> verifier_data;
  if (o.has("verifier-data")) {
    verifier_data = split_list(o.required("verifier-data"));
    const auto features = split_list(o.required("features"));
    if (verifier_data.size() != features.size())
      throw usage_error("--verifier-data: " + std::to_string(verifier_data.size()) + " file(s) for " +
                        std::to_string(features.size()) + " --features file(s); give one per features file, in order");
    for (const auto& f : verifier_data)
      if (!std::filesystem::exists(f)) throw deepid::error(f + ": file not found");
  }
  std::vector<outside_people> outside(parts.size());  // small: loaded and checked before any work
  std::set<std::string> lfw_people;
  for (const auto& p : pairs)  // the people of View 2: the ones a verifier must never learn from
    for (const auto& image : {p.first, p.second}) lfw_people.insert(image.substr(0, image.find('/')));
  for (std::size_t k = 0; k < parts.size() && !verifier_data.empty(); ++k)
    outside[k] = load_outside_people(verifier_data[parts[k].index], parts[k], lfw_people);
  std::filesystem::create_directories(out);
  std::vector<deepid::eval::protocol_result> results;
  std::vector<std::vector<deepid::eval::protocol_result>> by_part(names.size());
  std::string described;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const auto& part = parts[k];
    const auto file = deepid::io::load_features(part.path);
    settings.outside = nullptr;
    if (!verifier_data.empty()) {
      if (outside[k].features.shape()[1] != file.features.shape()[1])
        throw deepid::error(verifier_data[part.index] + ": " + std::to_string(outside[k].features.shape()[1]) +
                            " features per image, but " + part.path.string() + " has " +
                            std::to_string(file.features.shape()[1]) + ": not the same nets");
      settings.outside = &outside[k].features;
      settings.outside_identities = outside[k].identities;
    }
    const auto bound = deepid::eval::bind_pairs(file.names, pairs, part.path.string());
    std::cout << "LFW View 2, " << (part.folds.empty() ? "10 folds" : "folds " + deepid::eval::format_folds(part.folds))
              << ", " << file.features.shape()[0] << " x " << file.features.shape()[1] << " features from "
              << part.path.string() << "\n";
    described += (described.empty() ? "" : ", ") + part.path.filename().string();
    settings.folds = part.folds;
    if (o.has("unseen-people") && !part.folds.empty()) {
      settings.learn_from = part.folds;
      std::cout << "each fold's " << (settings.outside ? "threshold" : "verifier") << " learns from the other folds of "
                << deepid::eval::format_folds(part.folds) << " only (people its nets never saw)\n";
    }
    if (settings.outside)
      std::cout << "the verifiers learn from " << outside[k].features.shape()[0] << " images of " << outside[k].people
                << " held-out training people (" << verifier_data[part.index]
                << "); each fold learns only its threshold from LFW\n";
    for (std::size_t v = 0; v < names.size(); ++v)
      by_part[v].push_back(evaluate_verifier(names[v], file.features, bound.pairs, bound.identities, settings));
  }
  std::cout << deepid::eval::table_header() << "\n";
  std::string table = deepid::eval::table_header() + "\n";
  std::vector<deepid::eval::fold_pair> fold_pairs;
  for (const auto& p : pairs) fold_pairs.push_back({0, 0, p.same, p.fold});
  for (std::size_t v = 0; v < names.size(); ++v) {
    results.push_back(parts.size() == 1 && parts[0].folds.empty()
                          ? by_part[v][0]
                          : deepid::eval::merge_fold_results(names[v], by_part[v], fold_pairs));
    const std::string row = deepid::eval::table_row(results.back());
    std::cout << row << std::endl;
    table += row + "\n";
  }
  deepid::eval::write_roc_csv(out / "roc.csv", results);
  deepid::eval::plot_roc_png(out / "roc.png", results, "LFW View 2 ROC: " + described);
  deepid::io::atomic_file f(out / "results.txt");
  f.write(table);
  f.commit();
  std::cout << "wrote " << (out / "results.txt").string() << ", " << (out / "roc.csv").string() << ", "
            << (out / "roc.png").string() << "\n";
  return 0;
}

}  // namespace deepid_cli
