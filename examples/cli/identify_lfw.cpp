// deepid identify-lfw: closed-set rank-1 and open-set DIR@FAR on LFW
// (protocol in docs/identification.md).
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <deepid/core/threads.hpp>
#include <deepid/eval/held_out_folds.hpp>
#include <deepid/eval/identification.hpp>
#include <deepid/eval/lfw_identification.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/io/atomic_file.hpp>
#include <deepid/io/feature_file.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include "studies.hpp"

namespace deepid_cli {

const char* const identify_lfw_usage =
    "usage: deepid identify-lfw --features F.npy [--far R] [--seed S] [--open-gallery N]\n"
    "                           [--verifier FILE] [--lfw DIR] [--out DIR] [--threads N]\n"
    "\n"
    "LFW identification (protocol: docs/identification.md), the split made from the image\n"
    "names in F.names.txt:\n"
    "  closed set  every person with 2+ images: the first image (by file name) in the\n"
    "              gallery, the others are probes; prints the rank-1 identification rate\n"
    "  open set    N people drawn (seeded) from those with 2+ images: first image in the\n"
    "              gallery, the others are genuine probes, every image of everyone else an\n"
    "              impostor probe; prints the detection and identification rate at FAR R\n"
    "  --features F.npy    N x D features named like 'deepid features' names LFW images\n"
    "  --far R             open-set false-alarm rate, between 0 and 1 (default 0.01)\n"
    "  --seed S            open-set draw of the gallery people (default 1)\n"
    "  --open-gallery N    open-set gallery people (default 596, the published size)\n"
    "  --verifier FILE     score with a fitted PCA + Joint Bayesian verifier (as 'deepid\n"
    "                      verify' reads) instead of the cosine of the features\n"
    "  --lfw DIR           check every name against DIR/lfw-names.txt\n"
    "  --out DIR           write DIR/results.txt and DIR/cmc.csv (closed-set CMC curve)\n";

namespace {

double parse_rate(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value > 0 && value < 1))
    throw usage_error("--far '" + text + "' is not a rate strictly between 0 and 1 (e.g. 0.01)");
  return value;
}

// Every name must be an image lfw-names.txt lists; says how much of LFW the file holds.
std::string check_against_lfw(const std::vector<std::string>& names, const std::filesystem::path& lfw,
                              const std::string& source) {
  std::map<std::string, int> count;
  std::size_t total = 0;
  for (const auto& p : deepid::face::read_lfw_names(lfw / "lfw-names.txt")) count[p.name] = p.images, total += std::size_t(p.images);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto id = deepid::eval::parse_lfw_image_name(names[i]);
    const auto it = id ? count.find(id->person) : count.end();
    if (!id || it == count.end() || id->number > it->second)
      throw deepid::error(source + ": row " + std::to_string(i) + " is named '" + names[i] + "', not an image listed in " +
                          (lfw / "lfw-names.txt").string());
  }
  return "the file holds " + std::to_string(names.size()) + " of the " + std::to_string(total) + " LFW images\n";
}

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", 100 * fraction);
  return text;
}

}  // namespace

int run_identify_lfw(arguments args) {
  namespace ev = deepid::eval;
  const auto o = parse_options("identify-lfw", args,
                               {"features", "far", "seed", "open-gallery", "verifier", "lfw", "out", "threads"});
  if (o.help) return std::cout << identify_lfw_usage, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const std::filesystem::path features_path = o.required("features");
  const double far = o.has("far") ? parse_rate(o.required("far")) : 0.01;
  const std::uint64_t seed = o.integer("seed", 1, 0, ~std::uint64_t(0));
  const std::size_t open_gallery = o.integer("open-gallery", 596, 1, 1000000);

  // The identification protocol galleries every LFW person, so nets that
  // learnt from some of them would be tested on their own training people.
  if (std::filesystem::exists(deepid::eval::held_out_folds_path_of_features(features_path)))
    throw deepid::error(features_path.string() + ": the nets learnt from LFW people (" +
                        deepid::eval::held_out_folds_path_of_features(features_path).string() +
                        "); LFW identification tests every LFW person, so it needs nets that saw none");
  const auto file = deepid::io::load_features(features_path);
  const std::string source = deepid::io::feature_names_path(features_path).string();
  std::string report;
  if (o.has("lfw")) report += check_against_lfw(file.names, o.required("lfw"), source);
  const auto closed = ev::closed_set_split(file.names, source);
  const auto open = ev::open_set_split(file.names, open_gallery, seed, source);

  std::string score_name = "cosine of the features";
  std::vector<ev::probe_ranking> closed_ranks, open_ranks;
  if (o.has("verifier")) {
    using jb = deepid::verify::with_pca<deepid::verify::joint_bayesian>;
    const auto v = jb::load(o.required("verifier"));
    score_name = "PCA + Joint Bayesian from " + o.required("verifier");
    closed_ranks = ev::rank_probes_with(v, file.features, closed);
    open_ranks = ev::rank_probes_with(v, file.features, open);
  } else {
    closed_ranks = ev::rank_probes_cosine(file.features, closed);
    open_ranks = ev::rank_probes_cosine(file.features, open);
  }
  const auto c = ev::closed_set_metrics(closed_ranks, closed.gallery.size());
  const auto r = ev::open_set_metrics(open_ranks, far);

  report = "LFW identification, " + std::to_string(file.features.shape()[0]) + " x " +
           std::to_string(file.features.shape()[1]) + (file.binary ? " binary" : "") + " features from " +
           features_path.string() + ", score: " + score_name + "\n" + report;
  char line[256];
  std::snprintf(line, sizeof line, "closed set: gallery %zu people (first image each), %zu probes\n", c.gallery, c.probes);
  report += line;
  report += "  rank-1 identification rate  " + percent(c.rank1);
  for (std::size_t k : {5, 10})
    if (k <= c.cmc.size()) report += "   rank-" + std::to_string(k) + " " + percent(c.cmc[k - 1]);
  report += "\n";
  std::snprintf(line, sizeof line, "open set (seed %llu): gallery %zu people, %zu genuine probes, %zu impostor probes\n",
                static_cast<unsigned long long>(seed), open.gallery.size(), r.genuine, r.impostors);
  report += line;
  std::snprintf(line, sizeof line, "  DIR at FAR %s  %s   (threshold %.6g; %zu of %zu impostors above it, FAR %s)\n",
                percent(far).c_str(), percent(r.dir).c_str(), r.threshold, r.impostors_above, r.impostors,
                percent(r.far).c_str());
  report += line;
  std::cout << report;
  if (o.has("out")) {
    const std::filesystem::path out = o.required("out");
    std::filesystem::create_directories(out);
    std::string csv = "rank,identification_rate\n";
    for (std::size_t k = 0; k < c.cmc.size(); ++k) {
      std::snprintf(line, sizeof line, "%zu,%.8g\n", k + 1, c.cmc[k]);
      csv += line;
    }
    for (const auto& [name, text] : {std::pair{"results.txt", report}, std::pair{"cmc.csv", csv}}) {
      deepid::io::atomic_file f(out / name);
      f.write(text);
      f.commit();
    }
    std::cout << "wrote " << (out / "results.txt").string() << " and " << (out / "cmc.csv").string() << "\n";
  }
  return 0;
}

}  // namespace deepid_cli
