// deepid occlusion: LFW View 2 under test-time occlusion, the DeepID2+
// robustness study. Verifiers (PCA and threshold included) are fitted per
// fold on clean features, as the nets were trained on clean faces; the
// held-out pairs are then scored with their faces occluded: a black bar over
// the bottom of the aligned face, or one black n x n block at a random
// position drawn for each image.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/core/error.hpp>
#include <deepid/core/rng.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/eval/held_out_folds.hpp>
#include <deepid/eval/lfw.hpp>
#include <deepid/eval/plot.hpp>
#include <deepid/face/alignment.hpp>
#include <deepid/face/image.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/face/occlusion.hpp>
#include <deepid/features/extractor.hpp>
#include <deepid/features/hog.hpp>
#include <deepid/features/lbp.hpp>
#include <deepid/io/atomic_file.hpp>

#include "ensembles.hpp"
#include "studies.hpp"
#include "verifiers.hpp"

namespace deepid_cli {

const char* const occlusion_usage =
    "usage: deepid occlusion --models DIR [--models DIR ...] --lfw DIR --out DIR [--head NAME ...]\n"
    "                        [--bar F,F,...] [--block N,N,...] [--seed S] [--verifier NAME] [--pca K]\n"
    "                        [--baseline lbp|lbp-multiscale|hog|none] [--sheet N] [--restricted]\n"
    "                        [--threads N]\n"
    "\n"
    "LFW View 2 with the faces of the held-out pairs occluded at test time. For each fold\n"
    "the verifier learns from the other nine folds' clean features (as 'deepid eval-lfw'\n"
    "does) and is scored on the held-out pairs once per occlusion:\n"
    "  bar F     a black bar over the bottom fraction F of the aligned face (whole width)\n"
    "  block N   one black N x N pixel block at a random position inside the aligned face\n"
    "            (96 x 112 pixels), drawn for each image from --seed\n"
    "Every output of the nets is one feature line (fc1..fc4 for DeepID2+ and DeepID3,\n"
    "each net's output concatenated over the ensemble), and the baseline is scored under\n"
    "the same occlusion. Prints the tables and writes DIR/occlusion.csv, DIR/bar.png,\n"
    "DIR/block.png (accuracy against occlusion, one line per feature) and\n"
    "DIR/occluded_faces.png (what was hidden, for the first faces of the pairs).\n"
    "  --models DIR    a trained ensemble; repeat to compare several (lines named DIR/output)\n"
    "  --head NAME     only these outputs of the nets (repeatable; default: all)\n"
    "  --bar F,...     bar fractions in (0, 1] (default 0.1,0.2,...,0.7; 'none' skips)\n"
    "  --block N,...   block sizes in pixels, 1 to 96 (default 10,20,...,70; 'none' skips)\n"
    "  --seed S        the blocks' positions (default 1)\n"
    "  --verifier NAME one of eval-lfw's verifiers (default jb-exact), --pca K as there\n"
    "  --baseline B    a classic feature under the same occlusion (default lbp: uniform LBP on a\n"
    "                  6x7 grid of the aligned face, as 'deepid features --extractor lbp')\n"
    "  --sheet N       faces in the contact sheet (default 6, 0: none)\n"
    "  --restricted    verifiers learn from the training folds' pair images only\n";

namespace {

namespace fs = std::filesystem;
namespace ev = deepid::eval;
namespace fc = deepid::face;

struct occlusion_kind {
  std::string name;            // "bar" or "block"
  std::vector<double> levels;  // fractions or pixels
};

// A comma-separated list of levels, each accepted by `valid` (else `what`).
template <class Valid>
std::vector<double> parse_levels(const options& o, const std::string& name, const std::string& fallback,
                                 const Valid& valid, const std::string& what) {
  const std::string text = o.has(name) ? o.required(name) : fallback;
  std::vector<double> levels;
  if (text == "none") return levels;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    double v = 0;
    std::size_t used = 0;
    try {
      v = std::stod(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !valid(v)) throw usage_error("--" + name + " '" + item + "' is not " + what);
    levels.push_back(v);
  }
  if (levels.empty()) throw usage_error("--" + name + " names no level ('none' skips it)");
  return levels;
}

std::string level_label(const std::string& kind, double level) {
  char text[32];
  if (kind == "bar") std::snprintf(text, sizeof text, "%g%%", 100 * level);
  else std::snprintf(text, sizeof text, "%gpx", level);
  return text;
}

// The region hidden on image `row` (its row in the LFW name list).
fc::canvas_region region_of(const std::string& kind, double level, std::uint64_t seed, std::size_t row) {
  if (kind == "bar") return fc::bottom_bar(level);
  deepid::rng gen(deepid::mix64(seed) ^ deepid::mix64((std::uint64_t(level) << 32) | std::uint64_t(row)));
  return fc::random_block(int(level), gen);
}

// A face source over `rows` of the LFW list with `kind` at `level` applied
// (kind "": the clean faces).
fc::face_source occluded_faces(const fc::lfw_dataset& lfw, const std::vector<std::string>& names,
                               const std::vector<std::size_t>& rows, const std::string& kind, double level,
                               std::uint64_t seed) {
  return {[&lfw, &names, &rows, kind, level, seed](std::size_t i) {
            const auto& name = names[rows[i]];
            cv::Mat image = lfw.load(name);
            const auto marks = lfw.landmarks().at(name).points;
            if (!kind.empty()) fc::occlude(image, marks, region_of(kind, level, seed, rows[i]));
            return std::pair{image, marks};
          },
          [&names, &rows](std::size_t i) { return names[rows[i]]; }, rows.size()};
}

// The features of one source: every chosen output of every ensemble, then the baseline.
struct feature_lines {
  std::vector<std::string> names;
  std::vector<deepid::matrix<float>> values;
};

using handles = std::vector<std::pair<std::string, std::unique_ptr<ensemble_handle>>>;

feature_lines compute(handles& models, const std::vector<std::vector<std::size_t>>& outputs, const std::string& baseline,
                      const fc::face_source& source) {
  feature_lines lines;
  for (std::size_t m = 0; m < models.size(); ++m) {
    std::vector<std::size_t> kept;
    std::vector<std::string> problems;
    auto all = models[m].second->extract_outputs(source, fc::on_bad_item::fail, kept, problems);
    const auto names = models[m].second->output_names();
    for (auto k : outputs[m]) {
      lines.names.push_back(models.size() == 1 ? names[k] : models[m].first + "/" + names[k]);
      lines.values.push_back(std::move(all[k]));
    }
  }
  if (baseline == "lbp-multiscale")
    lines.values.push_back(deepid::features::extract_all(deepid::features::lbp_multiscale{}, source).features);
  else if (baseline == "lbp")
    lines.values.push_back(deepid::features::extract_all(deepid::features::lbp_grid{}, source).features);
  else if (baseline == "hog")
    lines.values.push_back(deepid::features::extract_all(deepid::features::hog{}, source).features);
  if (baseline != "none") lines.names.push_back(baseline);
  return lines;
}

// Rows: the aligned faces of the first `count` pair images; columns: clean,
// then every level of every kind.
void write_contact_sheet(const fs::path& path, const fc::lfw_dataset& lfw, const std::vector<std::string>& names,
                         const std::vector<std::size_t>& rows, const std::vector<occlusion_kind>& kinds,
                         std::uint64_t seed, std::size_t count) {
  const fc::alignment_template t;
  const int cell_w = t.width, cell_h = t.height, caption = 18, gap = 4;
  std::size_t columns = 1;
  for (const auto& k : kinds) columns = std::max(columns, k.levels.size() + 1);
  const std::size_t faces = std::min(count, rows.size()), lines = faces * kinds.size();
  if (lines == 0) return;
  cv::Mat sheet(int(lines) * (cell_h + caption + gap), int(columns) * (cell_w + gap), CV_8UC3, cv::Scalar::all(255));
  std::size_t line = 0;
  for (std::size_t f = 0; f < faces; ++f) {
    const auto& name = names[rows[f]];
    const cv::Mat image = lfw.load(name);
    const auto marks = lfw.landmarks().at(name).points;
    for (const auto& kind : kinds) {
      for (std::size_t c = 0; c <= kind.levels.size(); ++c) {
        cv::Mat occluded = image.clone();
        if (c > 0) fc::occlude(occluded, marks, region_of(kind.name, kind.levels[c - 1], seed, rows[f]));
        const cv::Mat face = fc::aligned_face(occluded, marks, t);
        const int x = int(c) * (cell_w + gap), y = int(line) * (cell_h + caption + gap);
        face.copyTo(sheet(cv::Rect(x, y + caption, cell_w, cell_h)));
        const std::string text = c == 0 ? "clean" : kind.name + " " + level_label(kind.name, kind.levels[c - 1]);
        cv::putText(sheet, text, cv::Point(x + 2, y + 13), cv::FONT_HERSHEY_SIMPLEX, 0.38, cv::Scalar::all(30), 1,
                    cv::LINE_AA);
      }
      ++line;
    }
  }
  fc::save_image(path, sheet);
}

}  // namespace

int run_occlusion(arguments args) {
  const auto o = parse_options("occlusion", args,
                               {"models", "lfw", "out", "head", "bar", "block", "seed", "verifier", "pca", "baseline",
                                "sheet", "restricted", "threads"},
                               {"models", "head"}, {"restricted"});
  if (o.help) return std::cout << occlusion_usage, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const fs::path out = o.required("out");
  const std::string verifier = o.has("verifier") ? o.required("verifier") : "jb-exact";
  check_verifier_name(verifier);
  const std::string baseline = o.has("baseline") ? o.required("baseline") : "lbp";
  if (baseline != "lbp-multiscale" && baseline != "lbp" && baseline != "hog" && baseline != "none")
    throw usage_error("--baseline '" + baseline + "' is not lbp, lbp-multiscale, hog or none");
  std::vector<occlusion_kind> kinds;
  const fc::alignment_template canvas;
  const int largest_block = std::min(canvas.width, canvas.height);
  if (auto bar = parse_levels(o, "bar", "0.1,0.2,0.3,0.4,0.5,0.6,0.7", [](double f) { return f > 0 && f <= 1; },
                              "a fraction of the face above 0 and at most 1");
      !bar.empty())
    kinds.push_back({"bar", bar});
  if (auto block = parse_levels(o, "block", "10,20,30,40,50,60,70",
                                [&](double n) { return n >= 1 && n <= largest_block && n == std::floor(n); },
                                "a whole number of pixels from 1 to " + std::to_string(largest_block));
      !block.empty())
    kinds.push_back({"block", block});
  if (kinds.empty()) throw usage_error("--bar none and --block none leave nothing to measure");
  const std::uint64_t seed = o.integer("seed", 1, 0, ~std::uint64_t(0));
  const std::size_t sheet_faces = o.integer("sheet", 6, 0, 1000);
  verifier_settings settings;
  settings.pca = o.integer("pca", 150, 1, 100000);
  if (o.has("restricted")) settings.images = ev::training_images::pairs_only;

  // The models, and which of their outputs to score.
  handles models;
  std::vector<std::vector<std::size_t>> outputs;
  std::vector<std::string> heads;
  if (o.has("head")) {
    std::stringstream list(o.required("head"));
    for (std::string h; std::getline(list, h, ',');) heads.push_back(h);
  }
  {
    std::stringstream list(o.required("models"));
    for (std::string dir; std::getline(list, dir, ',');) {
      // The study scores all ten folds with one model set.
      if (std::filesystem::exists(deepid::eval::held_out_folds_path_of_models(dir)))
        throw deepid::error(dir + ": the nets learnt from LFW people of some folds (" +
                            deepid::eval::held_out_folds_path_of_models(dir).string() +
                            "); the occlusion study tests all ten folds, so it needs nets that saw no LFW person");
      auto handle = load_ensemble(dir);
      const auto names = handle->output_names();
      std::vector<std::size_t> chosen;
      for (std::size_t k = 0; k < names.size(); ++k)
        if (heads.empty() || std::find(heads.begin(), heads.end(), names[k]) != heads.end()) chosen.push_back(k);
      for (const auto& h : heads)
        if (std::find(names.begin(), names.end(), h) == names.end()) {
          std::string known;
          for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
          throw usage_error("--head '" + h + "': the nets of " + dir + " have the outputs " + known);
        }
      models.emplace_back(fs::path(dir).filename().string(), std::move(handle));
      outputs.push_back(std::move(chosen));
    }
  }

  const auto lfw = fc::lfw_dataset::open(o.required("lfw"));
  const auto names = lfw.image_names();
  const auto view2 = lfw.view2_pairs();
  const auto bound = ev::bind_pairs(names, view2, (fs::path(o.required("lfw")) / "pairs.txt").string());
  // The occluded faces: every image of a pair, once; the pairs re-indexed to them.
  std::vector<std::size_t> pair_rows;
  std::map<std::size_t, std::size_t> position;
  for (const auto& p : bound.pairs)
    for (auto r : {p.first, p.second})
      if (position.emplace(r, pair_rows.size()).second) pair_rows.push_back(r);
  std::vector<ev::fold_pair> test_pairs = bound.pairs;
  for (auto& p : test_pairs) p.first = position[p.first], p.second = position[p.second];

  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); };
  std::vector<std::size_t> all_rows(names.size());
  for (std::size_t i = 0; i < all_rows.size(); ++i) all_rows[i] = i;
  std::cout << "occlusion study: " << bound.pairs.size() << " pairs of " << pair_rows.size() << " images, verifier "
            << verifier << " fitted on clean features of " << names.size() << " images" << std::endl;
  auto start = clock::now();
  const auto clean = compute(models, outputs, baseline, occluded_faces(lfw, names, all_rows, "", 0, seed));
  std::cout << "clean features: " << clean.names.size() << " lines in " << int(seconds_since(start)) << " s" << std::endl;
  start = clock::now();
  std::vector<fitted_protocol> fitted;
  for (std::size_t f = 0; f < clean.names.size(); ++f) {
    try {
      fitted.push_back(fit_verifier(verifier, clean.values[f], bound.pairs, bound.identities, settings));
    } catch (const deepid::error& e) {
      // A dead head (every unit off) cannot be fitted: name it and say how to leave it out.
      throw deepid::error("feature " + clean.names[f] + ": " + e.what() + " (--head chooses the outputs to study)");
    }
  }
  std::cout << "verifiers fitted in " << int(seconds_since(start)) << " s" << std::endl;

  // results[kind][level index + 1][feature]: index 0 is the clean faces.
  std::vector<ev::protocol_result> clean_results;
  for (std::size_t f = 0; f < clean.names.size(); ++f) clean_results.push_back(fitted[f](clean.values[f], bound.pairs));
  std::vector<std::vector<std::vector<ev::protocol_result>>> results(kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    results[k].push_back(clean_results);
    for (double level : kinds[k].levels) {
      start = clock::now();
      const auto lines = compute(models, outputs, baseline, occluded_faces(lfw, names, pair_rows, kinds[k].name, level, seed));
      std::vector<ev::protocol_result> row;
      std::string summary;
      for (std::size_t f = 0; f < lines.names.size(); ++f) {
        row.push_back(fitted[f](lines.values[f], test_pairs));
        char text[64];
        std::snprintf(text, sizeof text, " %s %.2f%%", lines.names[f].c_str(), 100 * row.back().mean_accuracy);
        summary += text;
      }
      std::cout << kinds[k].name << " " << level_label(kinds[k].name, level) << ":" << summary << " ("
                << int(seconds_since(start)) << " s)" << std::endl;
      results[k].push_back(std::move(row));
    }
  }

  // Tables, CSV and plots.
  fs::create_directories(out);
  std::string csv = "occlusion,level,feature,accuracy,standard_error,auc\n", tables;
  std::vector<std::vector<ev::line_series>> plots(kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const auto& kind = kinds[k];
    std::string header = kind.name == "bar" ? "bar (of face)" : "block (px)";
    header.resize(14, ' ');
    for (const auto& n : clean.names) {
      std::string cell = n;
      cell.resize(std::max<std::size_t>(n.size() + 2, 16), ' ');
      header += cell;
    }
    tables += header + "\n";
    for (std::size_t f = 0; f < clean.names.size(); ++f) plots[k].push_back({clean.names[f], {}, {}});
    for (std::size_t l = 0; l <= kind.levels.size(); ++l) {
      const double level = l == 0 ? 0.0 : kind.levels[l - 1];
      std::string row = l == 0 ? "0 (clean)" : level_label(kind.name, level);
      row.resize(14, ' ');
      for (std::size_t f = 0; f < clean.names.size(); ++f) {
        const auto& r = results[k][l][f];
        char cell[64], line[256];
        std::snprintf(cell, sizeof cell, "%.2f +- %.2f", 100 * r.mean_accuracy, 100 * r.standard_error);
        std::string c = cell;
        c.resize(std::max<std::size_t>(clean.names[f].size() + 2, 16), ' ');
        row += c;
        std::snprintf(line, sizeof line, "%s,%g,%s,%.6f,%.6f,%.6f\n", kind.name.c_str(), level, clean.names[f].c_str(),
                      r.mean_accuracy, r.standard_error, r.auc);
        csv += line;
        plots[k][f].x.push_back(kind.name == "bar" ? 100 * level : level);
        plots[k][f].y.push_back(100 * r.mean_accuracy);
      }
      tables += row + "\n";
    }
    tables += "\n";
  }
  std::cout << "\nLFW View 2 accuracy (%) under occlusion, " << verifier << " fitted on clean faces:\n\n" << tables;
  {
    deepid::io::atomic_file f(out / "occlusion.csv");
    f.write(csv);
    f.commit();
    deepid::io::atomic_file t(out / "results.txt");
    t.write(tables);
    t.commit();
  }
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    ev::line_plot_options po;
    po.title = kinds[k].name == "bar" ? "LFW under a black bar over the bottom of the face (" + verifier + ")"
                                      : "LFW under one random black block (" + verifier + ")";
    po.x_label = kinds[k].name == "bar" ? "occluded part of the aligned face (%)" : "block side (pixels of the 96x112 face)";
    po.y_label = "LFW accuracy (%)";
    ev::plot_lines_png(out / (kinds[k].name + ".png"), plots[k], po);
  }
  if (sheet_faces > 0) write_contact_sheet(out / "occluded_faces.png", lfw, names, pair_rows, kinds, seed, sheet_faces);
  std::cout << "wrote " << (out / "occlusion.csv").string() << ", " << (out / "results.txt").string();
  for (const auto& k : kinds) std::cout << ", " << (out / (k.name + ".png")).string();
  if (sheet_faces > 0) std::cout << ", " << (out / "occluded_faces.png").string();
  std::cout << "\n";
  return 0;
}

}  // namespace deepid_cli
