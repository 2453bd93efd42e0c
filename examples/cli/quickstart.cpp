// deepid quickstart: the whole pipeline on the built-in synthetic identities,
// in a few minutes on two cores: train a small DeepID2 ensemble, extract
// features of unseen identities, fit PCA + Joint Bayesian, run the ten-fold
// verification protocol, print the table and write the ROC picture.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <tuple>

#include <deepid/core/threads.hpp>
#include <deepid/eval/pairs.hpp>
#include <deepid/eval/report.hpp>
#include <deepid/face/image.hpp>
#include <deepid/face/synthetic_set.hpp>
#include <deepid/io/atomic_file.hpp>
#include <deepid/train/interrupt.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include "commands.hpp"
#include "ensembles.hpp"
#include "verifiers.hpp"

namespace deepid_cli {

const char* const quickstart_usage =
    "usage: deepid quickstart [--out DIR] [--identities 60] [--images 16] [--epochs 8] [--threads N]\n"
    "\n"
    "The main job on built-in synthetic identities (no outside data): trains a 4-net DeepID2\n"
    "ensemble (55x47 / 47x47 patches, joint identification-verification signal), computes\n"
    "the features of 100 unseen identities, and runs a ten-fold verification protocol with\n"
    "PCA + Joint Bayesian, cosine and L2 next to a raw-pixel baseline. Writes DIR (default\n"
    "quickstart/): models/, verifier.jb (for 'deepid verify'), results.txt, roc.csv, roc.png.\n";

int run_quickstart(arguments args) {
  const auto o = parse_options("quickstart", args, {"out", "identities", "images", "epochs", "threads", "seed"});
  if (o.help) return std::cout << quickstart_usage, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const auto start = std::chrono::steady_clock::now();
  const std::filesystem::path out = o.has("out") ? o.required("out") : "quickstart";
  const int identities = int(o.integer("identities", 60, 4, 100000)), images = int(o.integer("images", 16, 3, 10000));
  std::filesystem::create_directories(out);

  std::cout << "[1/4] synthetic data: " << identities << " training identities x " << images
            << " images; 100 unseen test identities x 6 images\n";
  const auto train_set = deepid::face::synthetic_face_set(identities, images);
  const auto test_set = deepid::face::synthetic_face_set(100, 6, {}, 100000);

  const std::vector<std::string> patches{"face.s1.rgb", "left_eye.s1.rgb", "nose.s2.gray", "right_mouth.s1.rgb"};
  std::string list;
  for (const auto& p : patches) list += (list.empty() ? "" : ",") + p;
  const auto types = parse_patch_list("deepid2", list);
  deepid::train::options t;
  t.epochs = int(o.integer("epochs", 8, 1, 1000));
  t.batch_pairs = 32;
  t.lambda = 0.05;
  t.margin_window = 2000;
  t.optimiser = {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
  t.schedule = deepid::lr_schedule::constant(0.01);
  t.seed = o.integer("seed", 1, 0, ~std::uint64_t(0));
  t.csv_log = out / "logs";
  std::cout << "[2/4] training " << types.size() << " DeepID2 nets (" << list << "), " << t.epochs
            << " epochs each, lambda " << t.lambda << "\n";
  deepid::train::install_interrupt_handler();
  auto ensemble = make_ensemble("deepid2", types, t.seed);
  if (!ensemble->train(train_set, t)) return std::cout << "interrupted\n", 130;
  ensemble->save(out / "models");

  std::cout << "[3/4] features of the test identities (" << ensemble->dim() << " values per face)\n";
  std::vector<std::size_t> kept;
  std::vector<std::string> problems;
  const auto features = ensemble->extract(deepid::face::faces_of(test_set), deepid::face::on_bad_item::fail, kept, problems);
  std::vector<int> ids;
  for (const auto& f : test_set.faces) ids.push_back(f.identity);
  const auto pairs = deepid::eval::make_fold_pairs(ids, 10, 100, 17);

  // Raw-pixel baseline: the aligned gray face patch.
  const auto raw = deepid::face::extract_patches<deepid::face::deepid1_scheme>(deepid::face::faces_of(test_set), {3}, false);
  deepid::matrix<float> pixels({raw.faces.size(), raw.original[0].size() / raw.faces.size()});
  std::copy_n(raw.original[0].data(), pixels.size(), pixels.data());

  std::cout << "[4/4] ten-fold verification, 10 x (100 same + 100 different) pairs, identity-disjoint folds\n";
  verifier_settings s;
  s.pca = 64;
  s.images = deepid::eval::training_images::people;
  std::vector<deepid::eval::protocol_result> results;
  for (const char* name : {"jb", "cosine", "l2"}) {
    results.push_back(evaluate_verifier(name, features, pairs, ids, s));
    results.back().name = std::string("DeepID2 ") + name;
  }
  results.push_back(evaluate_verifier("pca-cosine", pixels, pairs, ids, s));
  results.back().name = "raw pixels pca-cosine";
  std::string table = deepid::eval::table_header() + "\n";
  for (const auto& r : results) table += deepid::eval::table_row(r) + "\n";
  std::cout << "\n" << table;
  deepid::eval::write_roc_csv(out / "roc.csv", results);
  deepid::eval::plot_roc_png(out / "roc.png", results, "quickstart: synthetic identities, ten-fold ROC");
  {
    deepid::io::atomic_file f(out / "results.txt");
    f.write(table);
    f.commit();
  }
  // A verifier for 'deepid verify': PCA + Joint Bayesian and its threshold,
  // fitted on a third set of identities (seen neither by the nets nor by the
  // evaluation), as the papers train JB on held-out people.
  {
    const auto fit_set = deepid::face::synthetic_face_set(100, 6, {}, 200000);
    std::vector<std::size_t> fit_kept;
    const auto fit_features =
        ensemble->extract(deepid::face::faces_of(fit_set), deepid::face::on_bad_item::fail, fit_kept, problems);
    std::vector<int> fit_ids;
    for (const auto& f : fit_set.faces) fit_ids.push_back(f.identity);
    const auto fit_pairs = deepid::eval::make_fold_pairs(fit_ids, 1, 500, 5);
    std::vector<deepid::verify::labelled_pair> lp;
    for (const auto& p : fit_pairs) lp.push_back({p.first, p.second, p.same});
    deepid::verify::pca_options po;
    po.components = 64;
    deepid::verify::with_pca<deepid::verify::joint_bayesian> jb(po);
    jb.fit({fit_features, fit_ids, lp});
    jb.save(out / "verifier.jb");
  }
  // Three unoccluded test faces on disk (two of one identity) to try 'deepid verify' on.
  std::filesystem::create_directories(out / "examples");
  std::string marks;
  const deepid::face::synthetic_faces generator;
  auto clear_sample = [&](int id, int skip) {
    for (int sample = 0;; ++sample)
      if (!generator.render(id, sample).occluded && skip-- == 0) return sample;
  };
  for (const auto& [id, sample, file] : {std::tuple{100000, clear_sample(100000, 0), "a1.png"},
                                         std::tuple{100000, clear_sample(100000, 1), "a2.png"},
                                         std::tuple{100001, clear_sample(100001, 0), "b1.png"}}) {
    const auto f = generator.render(id, sample);
    deepid::face::save_image(out / "examples" / file, f.image);
    marks += file;
    for (const auto& p : f.points.points) marks += " " + std::to_string(p.x) + " " + std::to_string(p.y);
    marks += "\n";
  }
  {
    deepid::io::atomic_file f(out / "examples" / "landmarks.txt");
    f.write(marks);
    f.commit();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nwrote " << (out / "results.txt").string() << ", " << (out / "roc.png").string() << ", "
            << (out / "models").string() << "/ and " << (out / "verifier.jb").string() << " in "
            << int(seconds) << " s\n"
            << "try: deepid verify --models " << (out / "models").string() << " --verifier " << (out / "verifier.jb").string()
            << " --landmarks " << (out / "examples/landmarks.txt").string() << " " << (out / "examples/a1.png").string()
            << " " << (out / "examples/a2.png").string() << "\n";
  return 0;
}

}  // namespace deepid_cli
