// deepid train: one ConvNet per chosen patch type of a scheme, trained with
// the identification signal and (lambda > 0) the verification signal, on
// every output of the nets that have supervised heads.
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/core/threads.hpp>
#include <deepid/eval/held_out_folds.hpp>
#include <deepid/face/alignment.hpp>
#include <deepid/face/jitter.hpp>
#include <deepid/face/face_set.hpp>
#include <deepid/face/identity_subset.hpp>
#include <deepid/face/synthetic_set.hpp>
#include <deepid/io/atomic_file.hpp>
#include <deepid/train/interrupt.hpp>

#include "commands.hpp"
#include "ensembles.hpp"
#include "held_out_identities.hpp"
#include "ranks.hpp"

namespace deepid_cli {

const char* const train_usage =
    "usage: deepid train --scheme SCHEME --patches SPEC --out DIR\n"
    "                    (--celeba DIR | --folders ROOT --landmarks TSV | --synthetic IDS:IMAGES)\n"
    "                    [--lfw DIR --hold-out FOLDS [--lfw-max-images 50]] [--identities N]\n"
    "                    [--hold-out-identities K]\n"
    "                    [--jitter K [--jitter-shift 2] [--jitter-scale 0.05] [--jitter-rotate 5] [--jitter-colour 0.1]]\n"
    "                    [--epochs 10] [--batch 64] [--lr 0.01] [--weight-decay 0.0005]\n"
    "                    [--lambda L] [--warmup 0]\n"
    "                    [--verification l2|l2+|l2-|l1|cosine] [--margin-every 200000]\n"
    "                    [--schedule constant|step:E|plateau:P] [--seed 1] [--threads N] [--skip-bad]\n"
    "                    [--device cpu|cuda]\n"
    "                    [--output-weights W1,W2,...] [--head-decay F] [--checkpoint-every B]\n"
    "       mpirun -np N deepid train ... [--distribute batches|nets] [--sum-piece F]\n"
    "\n"
    "Trains one net per patch type and writes DIR (the ensemble 'deepid features --models'\n"
    "reads), DIR/checkpoints/patch_<i>.ckpt (resumed when present) and DIR/logs/patch_<i>.csv.\n"
    "A checkpoint is written after every epoch (and every B batches with --checkpoint-every);\n"
    "the one before it is kept as patch_<i>.ckpt.prev and resumed, with a warning, when the\n"
    "newest is damaged. Ctrl-C finishes the current batch, writes a checkpoint and stops; run\n"
    "the same command again to continue exactly where it stopped (so does a killed run, from\n"
    "its last checkpoint). A loss or weight that is not finite stops the run with an error\n"
    "naming the step and the layer; no checkpoint of such weights is written.\n"
    "DIR/training_settings.txt keeps the settings that shape the nets; a run that continues\n"
    "DIR must repeat them (--epochs, --patches, --threads, --checkpoint-every and the ranks may\n"
    "change).\n"
    "  --scheme SCHEME  deepid1 (60 patches, DeepID1 nets), deepid1-100 (the same ten regions\n"
    "                   at five scales, 100 patches), deepid2 (DeepID2's 200 candidate\n"
    "                   patches, DeepID2 nets), or on those candidates: deepid2plus, deepid3-net1,\n"
    "                   deepid3-net2, deepid3-net1-reduced, deepid3-net2-reduced (nets with\n"
    "                   supervised heads FC-1..FC-3 besides the feature layer FC-4)\n"
    "  --patches SPEC   'all', a count N (spread over regions), or indices/names: 0,face.s1.rgb\n"
    "  --celeba DIR     a CelebA-style folder (identity.txt, landmarks, images; docs/faces.md)\n"
    "  --folders ROOT   ROOT/<identity>/<image> with --landmarks TSV\n"
    "  --synthetic I:N  I built-in synthetic identities with N images each\n"
    "  --lfw DIR        also learn from LFW's people (alone or with one set above), except the\n"
    "                   people of the View 2 folds FOLDS (e.g. 0-4): the nets may then test only\n"
    "                   those folds (DIR/lfw_held_out_folds.txt records them; 'deepid features'\n"
    "                   and 'eval-lfw' carry and enforce it). Every person with two or more\n"
    "                   images, the first --lfw-max-images of each\n"
    "  --identities N   learn from N identities of the training set(s), drawn at random with\n"
    "                   --seed (nested: a larger N keeps every identity of a smaller one)\n"
    "  --hold-out-identities K  keep K identities of --celeba/--folders/--synthetic (drawn with\n"
    "                   --seed) out of training, for a verifier to learn from: DIR/\n"
    "                   held_out_identities.txt lists them, and 'deepid features --celeba'\n"
    "                   computes their features (applied before --lfw people join and --identities)\n"
    "  --lambda L       weight of the verification signal (0: identification only); default\n"
    "                   0.05 for deepid1 and deepid2, 0.005 for the deeper schemes, whose 512-d\n"
    "                   outputs give verification gradients about ten times larger\n"
    "  --warmup E       first E epochs with lambda = 0\n"
    "  --jitter K       also train on K jittered copies of every face (default 0): random shift, scale\n"
    "                   and rotation of the alignment and a colour change, cut once ((1 + K) times the\n"
    "                   patches' memory); validation reads the originals only\n"
    "  --jitter-shift PX   max shift in pixels of the 96x112 alignment template (default 2)\n"
    "  --jitter-scale F    scale in [1 - F, 1 + F] (default 0.05)\n"
    "  --jitter-rotate DEG rotation in [-DEG, DEG] degrees (default 5)\n"
    "  --jitter-colour F   colour gains and contrast in [1 - F, 1 + F], brightness in [-F, F] (default 0.1)\n"
    "  --output-weights loss weight of each output, heads first (fc1,fc2,fc3,fc4); default 1 each\n"
    "  --head-decay F   the heads' weights are multiplied by F after every epoch (default 1)\n"
    "  --checkpoint-every B  also write the checkpoint every B batches within an epoch (default 0:\n"
    "                   only after each epoch); it does not change what the nets learn\n"
    "  --distribute M   started by mpirun on N ranks (a tool built with MPI): 'batches' (default)\n"
    "                   trains every net on all ranks, each taking its share of every batch and the\n"
    "                   gradients summed (the nets equal a one-process run's to float rounding);\n"
    "                   'nets' trains whole nets per rank, net k on rank k mod N (bit-identical to a\n"
    "                   one-process run). Rank 0 writes DIR; the ranks must share its file system\n"
    "  --sum-piece F    shared batches: the gradients are summed over the ranks in pieces of at\n"
    "                   least F floats (default 1048576), each started as soon as the backward\n"
    "                   pass has finished its layers; 0: one sum after the backward pass\n"
    "  --device D       cpu (default) or cuda: the nets' passes on the GPU (a tool configured with\n"
    "                   -DDEEPID_CLI_CUDA=ON), the losses and SGD steps on the CPU; the trained\n"
    "                   nets are the same files\n";

namespace {
deepid::loss::verification_kind parse_verification(const std::string& v) {
  using k = deepid::loss::verification_kind;
  if (v == "l2") return k::l2;
  if (v == "l2+") return k::l2_pos;
  if (v == "l2-") return k::l2_neg;
  if (v == "l1") return k::l1;
  if (v == "cosine") return k::cosine;
  throw usage_error("unknown --verification '" + v + "' (l2, l2+, l2-, l1, cosine)");
}

double real(const options& o, const char* name, double fallback) {
  if (!o.has(name)) return fallback;
  const std::string& text = o.required(name);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v) || v < 0)
    throw usage_error(std::string("--") + name + " '" + text + "' is not a non-negative number");
  return v;
}
}  // namespace

// The training set: one base set and/or LFW's people outside the held-out
// folds. With --hold-out-identities, `held_out_identities` receives the base set's
// identities kept out of it.
deepid::face::face_set load_training_set(const options& o, deepid::face::on_bad_item policy,
                                         std::vector<std::string>& held_out_identities) {
  const int sources = int(o.has("celeba")) + int(o.has("folders")) + int(o.has("synthetic"));
  if (sources > 1 || (sources == 0 && !o.has("lfw")))
    throw usage_error("give one training set (--celeba, --folders or --synthetic), --lfw, or one of them and --lfw");
  if (o.has("lfw") != o.has("hold-out"))
    throw usage_error("--lfw needs --hold-out FOLDS (the LFW folds the nets will test) and --hold-out needs --lfw");
  deepid::face::face_set base;
  std::string tag;
  if (o.has("celeba")) base = deepid::face::read_celeba(o.required("celeba"), policy), tag = "celeba";
  else if (o.has("folders"))
    base = deepid::face::read_identity_folders(o.required("folders"), o.required("landmarks"), policy), tag = "folders";
  else if (o.has("synthetic")) {
    const std::string spec = o.required("synthetic");
    int ids = 0, images = 0;
    char colon = 0;
    std::istringstream in(spec);
    if (!(in >> ids >> colon >> images) || colon != ':' || ids < 2 || images < 2)
      throw usage_error("--synthetic '" + spec + "' is not IDENTITIES:IMAGES with both at least 2");
    base = deepid::face::synthetic_face_set(ids, images), tag = "synthetic";
  }
  if (o.has("hold-out-identities")) {
    if (tag.empty()) throw usage_error("--hold-out-identities needs --celeba, --folders or --synthetic (LFW's people are held out by --hold-out)");
    const std::size_t all = base.identities();
    const std::size_t k = o.integer("hold-out-identities", 1, 1, all > 2 ? all - 2 : 1);
    auto split = deepid::face::hold_out_identities(std::move(base), k, o.integer("seed", 1, 0, ~std::uint64_t(0)));
    base = std::move(split.kept);
    held_out_identities = std::move(split.held_out);
    std::cout << "held out " << k << " of " << all << " " << tag << " identities for a verifier ("
              << base.identities() << " train)\n";
  }
  if (!o.has("lfw")) return base;

  const auto lfw = deepid::face::lfw_dataset::open(o.required("lfw"));
  const auto pairs = lfw.view2_pairs();
  const auto people = deepid::eval::fold_people(pairs, o.required("lfw"));
  std::set<int> held_out;
  try {
    held_out = deepid::eval::parse_folds(o.required("hold-out"), int(people.size()));
  } catch (const deepid::error& e) {
    throw usage_error(std::string("--hold-out: ") + e.what());
  }
  deepid::eval::lfw_training_options lo;
  lo.max_images = o.integer("lfw-max-images", 50, 2, 1000000);
  auto lfw_set = deepid::eval::lfw_training_people(lfw, pairs, held_out, lo);
  std::cout << "LFW: " << lfw_set.identities() << " people (" << lfw_set.faces.size()
            << " faces) outside held-out folds " << deepid::eval::format_folds(held_out) << "\n";
  std::vector<std::pair<std::string, deepid::face::face_set>> parts;
  if (!tag.empty()) parts.emplace_back(tag, std::move(base));
  parts.emplace_back(deepid::eval::lfw_tag, std::move(lfw_set));
  auto set = deepid::face::combine(std::move(parts));
  deepid::eval::check_held_out(set, people, held_out);
  return set;
}

// The model set records the folds its nets never saw; a resumed run must
// hold out the same folds, or its checkpoints would have seen other people.
void record_held_out(const options& o, const std::filesystem::path& out) {
  if (o.has("lfw") != o.has("hold-out")) return;  // load_training_set says what is missing
  const auto path = deepid::eval::held_out_folds_path_of_models(out);
  const auto before = deepid::eval::read_held_out_folds(path);
  if (!o.has("hold-out")) {
    if (before)
      throw usage_error(out.string() + " holds nets trained with LFW folds " + deepid::eval::format_folds(*before) +
                        " held out; continue it with --lfw and --hold-out " + deepid::eval::format_folds(*before));
    return;
  }
  std::set<int> now;
  try {
    now = deepid::eval::parse_folds(o.required("hold-out"), 10);
  } catch (const deepid::error& e) {
    throw usage_error(std::string("--hold-out: ") + e.what());
  }
  if (before && *before != now)
    throw usage_error(out.string() + " holds nets trained with LFW folds " + deepid::eval::format_folds(*before) +
                      " held out, not " + deepid::eval::format_folds(now));
  std::filesystem::create_directories(out);
  deepid::eval::write_held_out_folds(path, now, "trained with LFW people of the other folds (deepid train --lfw)");
}

// The identities the nets never saw, for 'deepid features --celeba'. A
// folder that holds them keeps them: the same settings draw the same ones.
void record_held_out_identities(const std::vector<std::string>& names, const options& o, const std::filesystem::path& out) {
  const auto path = held_out_identities_path(out);
  const auto before = read_held_out_identities(path);
  if (names.empty()) {
    if (before) throw usage_error(out.string() + " holds nets that never saw the identities of " + path.string() +
                                  "; continue it with the same --hold-out-identities");
    return;
  }
  if (before && *before != names)
    throw usage_error(out.string() + " holds nets that never saw other identities (" + path.string() +
                      "); continue with the same training set, --seed and --hold-out-identities");
  if (before) return;
  const std::string source = o.has("celeba") ? o.required("celeba") : o.has("folders") ? o.required("folders") : "synthetic " + o.required("synthetic");
  write_held_out_identities(path, names,
                            "of " + source + ", drawn with seed " + std::to_string(o.integer("seed", 1, 0, ~std::uint64_t(0))) +
                                " ('deepid train --hold-out-identities " + o.required("hold-out-identities") + "')");
}

// The settings that shape what the nets of a model folder learn, one
// "name value" line each: a run that resumes the folder's checkpoints with
// other settings would silently train something no single run would.
// (The held-out LFW folds have their own record; --epochs, --patches and
// --threads may change.)
std::vector<std::string> training_settings(const options& o, const deepid::train::options& t, const std::string& scheme) {
  const auto number = [](double v) {
    char text[32];
    return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
  };
  const auto path = [&](const char* name) {
    return o.has(name) ? std::filesystem::weakly_canonical(o.required(name)).string() : std::string("none");
  };
  std::string weights;
  for (double w : t.output_weights) weights += (weights.empty() ? "" : ",") + number(w);
  return {"scheme " + scheme,
          "celeba " + path("celeba"),
          "folders " + path("folders"),
          "landmarks " + path("landmarks"),
          "synthetic " + (o.has("synthetic") ? o.required("synthetic") : std::string("none")),
          "lfw-max-images " + (o.has("lfw-max-images") ? o.required("lfw-max-images") : std::string("50")),
          "identities " + (o.has("identities") ? o.required("identities") : std::string("all")),
          "hold-out-identities " + (o.has("hold-out-identities") ? o.required("hold-out-identities") : std::string("none")),
          "batch " + std::to_string(t.batch_pairs),
          "lr " + number(t.optimiser.lr),
          "weight-decay " + number(t.optimiser.weight_decay),
          "lambda " + number(t.lambda),
          "warmup " + std::to_string(t.warmup_epochs),
          "verification " + (o.has("verification") ? o.required("verification") : std::string("l2")),
          "margin-every " + std::to_string(t.margin_window),
          "schedule " + (o.has("schedule") ? o.required("schedule") : std::string("constant")),
          "seed " + std::to_string(t.seed),
          "jitter " + std::to_string(t.jitter.copies),
          "jitter-shift " + number(t.jitter.shift),
          "jitter-scale " + number(t.jitter.scale),
          "jitter-rotate " + number(t.jitter.rotation),
          "jitter-colour " + number(t.jitter.colour),
          "output-weights " + (weights.empty() ? std::string("default") : weights),
          "head-decay " + number(t.head_decay)};
}

// A folder with checkpoints continues only with the settings it began with
// (DIR/training_settings.txt); otherwise the settings are (re)written.
void record_training_settings(const std::vector<std::string>& settings, const std::filesystem::path& out) {
  const auto path = out / "training_settings.txt";
  const auto checkpoints = out / "checkpoints";
  const bool started = std::filesystem::is_directory(checkpoints) && !std::filesystem::is_empty(checkpoints);
  if (started && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::map<std::string, std::string> before;
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') before[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
    for (const auto& line : settings) {
      const auto name = line.substr(0, line.find(' ')), value = line.substr(line.find(' ') + 1);
      const auto it = before.find(name);  // a setting the file does not name cannot be checked
      if (it != before.end() && it->second != value)
        throw usage_error(out.string() + " holds nets trained with " + name + " " + it->second + ", not " + value +
                          " (" + path.string() + "); continue with the same settings or train into another folder");
    }
    return;
  }
  std::filesystem::create_directories(out);
  deepid::io::atomic_file f(path);
  std::string text = "# deepid train: the settings the nets of this folder learn with\n";
  for (const auto& line : settings) text += line + "\n";
  f.write(text);
  f.commit();
}

deepid::train::options training_options(const options& o) {
  deepid::train::options t;
  t.epochs = int(o.integer("epochs", 10, 1, 100000));
  t.batch_pairs = o.integer("batch", 64, 2, 100000);
  t.lambda = real(o, "lambda", deep_scheme(o.has("scheme") ? o.required("scheme") : "deepid1") ? 0.005 : 0.05);
  t.warmup_epochs = int(o.integer("warmup", 0, 0, 100000));
  if (o.has("verification")) t.verification = parse_verification(o.required("verification"));
  t.margin_window = o.integer("margin-every", 200000, 2, std::uint64_t(1) << 40);
  const double lr = real(o, "lr", 0.01);
  t.optimiser = {.lr = lr, .momentum = 0.9, .weight_decay = real(o, "weight-decay", 5e-4)};
  t.schedule = deepid::lr_schedule::constant(lr);
  if (o.has("schedule")) {
    const std::string s = o.required("schedule");
    if (s.rfind("step:", 0) == 0) t.schedule = deepid::lr_schedule::step(lr, std::stoi(s.substr(5)));
    else if (s.rfind("plateau:", 0) == 0) t.schedule = deepid::lr_schedule::plateau(lr, std::stoi(s.substr(8)));
    else if (s != "constant") throw usage_error("--schedule '" + s + "' is not constant, step:E or plateau:P");
  }
  t.seed = o.integer("seed", 1, 0, ~std::uint64_t(0));
  t.jitter.copies = int(o.integer("jitter", 0, 0, deepid::face::jitter_options::max_copies));
  t.jitter.shift = real(o, "jitter-shift", t.jitter.shift);
  t.jitter.scale = real(o, "jitter-scale", t.jitter.scale);
  t.jitter.rotation = real(o, "jitter-rotate", t.jitter.rotation);
  t.jitter.colour = t.jitter.contrast = t.jitter.brightness = real(o, "jitter-colour", t.jitter.colour);
  t.jitter.seed = t.seed;
  try {
    t.jitter.validate(deepid::face::alignment_template{}.inter_ocular());
  } catch (const deepid::error& e) {
    throw usage_error(std::string("--jitter options: ") + e.what());
  }
  if (o.has("output-weights")) {
    std::stringstream list(o.required("output-weights"));
    for (std::string item; std::getline(list, item, ',');) {
      options one;
      one.command = o.command;
      one.values["output-weights"] = item;
      t.output_weights.push_back(real(one, "output-weights", 1.0));
    }
  }
  t.checkpoint_every = long(o.integer("checkpoint-every", 0, 0, std::uint64_t(1) << 40));
  t.overlap_sum_floats = std::size_t(o.integer("sum-piece", t.overlap_sum_floats, 0, std::uint64_t(1) << 40));
  t.head_decay = real(o, "head-decay", 1.0);
  if (t.head_decay > 1) throw usage_error("--head-decay " + o.required("head-decay") + " is above 1");
  return t;
}

int run_train(arguments args) {
  const auto o = parse_options("train", args,
                               {"scheme", "patches", "out", "celeba", "folders", "landmarks", "synthetic", "epochs", "batch",
                                "lr", "weight-decay", "lambda", "warmup", "verification", "margin-every", "schedule", "seed", "threads",
                                "skip-bad", "output-weights", "head-decay", "lfw", "hold-out", "lfw-max-images", "jitter", "jitter-shift", "jitter-scale",
                                "jitter-rotate", "jitter-colour", "identities", "hold-out-identities", "checkpoint-every",
                                "distribute", "sum-piece", "device"},
                               {}, {"skip-bad"});
  if (o.help) return std::cout << train_usage, 0;
  if (o.has("threads")) deepid::set_num_threads(int(o.integer("threads", 1, 1, 1024)));
  const std::string scheme = o.has("scheme") ? o.required("scheme") : "deepid1";
  const std::filesystem::path out = o.required("out");
  const auto types = parse_patch_list(scheme, o.has("patches") ? o.required("patches") : "1");
  const auto policy = o.has("skip-bad") ? deepid::face::on_bad_item::skip : deepid::face::on_bad_item::fail;
  auto t = training_options(o);
  const std::string distribute = o.has("distribute") ? o.required("distribute") : "batches";
  if (distribute != "batches" && distribute != "nets")
    throw usage_error("--distribute '" + distribute + "' is neither batches nor nets");
  const bool by_nets = distribute == "nets";
  t.ranks = ranks();  // null for one process
  const bool writer = rank_zero();
  auto ensemble = make_ensemble(scheme, types, t.seed, device_option(o));
  const auto outputs = ensemble->output_names();
  if (!t.output_weights.empty() && t.output_weights.size() != outputs.size()) {
    std::string names;
    for (const auto& n : outputs) names += (names.empty() ? "" : ",") + n;
    throw usage_error("--output-weights: " + std::to_string(t.output_weights.size()) + " weights for the " +
                      std::to_string(outputs.size()) + " outputs of a " + scheme + " net (" + names + ")");
  }
  // Rank 0 alone writes DIR (the others read the same data and train).
  if (writer) {
    record_held_out(o, out);  // before loading: a mismatch fails before any output
    record_training_settings(training_settings(o, t, scheme), out);
  }
  std::vector<std::string> held_out_people;
  auto set = load_training_set(o, policy, held_out_people);
  if (writer) record_held_out_identities(held_out_people, o, out);
  if (o.has("identities")) {
    const std::size_t all = set.identities(), n = o.integer("identities", all, 2, all);
    set = deepid::face::keep_identities(std::move(set), n, t.seed);
    if (writer)
      std::cout << "kept " << n << " of " << all << " identities (" << set.faces.size() << " faces), drawn with seed "
                << t.seed << "\n";
  }
  if (writer) {
    for (const auto& p : set.problems) std::cerr << "deepid: skipped: " << p << "\n";
    std::cout << "training " << types.size() << " " << scheme << " net(s) on " << set.faces.size() << " faces of "
              << set.identities() << " identities, lambda " << t.lambda << ", " << t.epochs << " epochs";
    if (t.ranks) std::cout << ", on " << t.ranks->size() << " ranks (" << (by_nets ? "whole nets" : "shared batches") << ")";
    std::cout << "\n";
  }
  t.checkpoint = out / "checkpoints";
  t.csv_log = out / "logs";
  deepid::train::install_interrupt_handler();
  if (!ensemble->train(set, t, by_nets)) {
    if (writer)
      std::cout << "interrupted: checkpoints are in " << t.checkpoint.string() << "; run the same command to continue\n";
    return 130;
  }
  if (!writer) return 0;
  ensemble->save(out);
  std::cout << "wrote " << out.string() << " (" << types.size() << " nets, features of " << ensemble->dim()
            << " values per face)\n";
  return 0;
}

}  // namespace deepid_cli
