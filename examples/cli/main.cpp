// deepid: the command-line tool. `deepid help` lists the subcommands; each
// lives in its own file (info.cpp, forward.cpp, export.cpp). Every failure is
// reported as one line on stderr, "deepid: error: ...", with exit status 1
// (2 for a mistake in the command line).
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include <deepid/core/config.hpp>
#include <deepid/core/error.hpp>

#include "commands.hpp"
#include "ranks.hpp"
#include "studies.hpp"
#include "verifiers.hpp"

namespace {

const char* const general_usage =
    "deepid " DEEPID_CLI_VERSION " - DeepID face-recognition ConvNets (Sun, Wang, Tang 2014)\n"
    "\n"
    "usage: deepid <command> [options]\n"
    "\n"
    "commands:\n"
    "  info                   version, SIMD architecture, threads and the list of models\n"
    "  info --model NAME      layer table of one model: output shapes, parameters, MFLOP\n"
    "  forward --model NAME --weights DIR --input X.npy --output Y.npy [--head NAME|all] [--threads N]\n"
    "                         DeepID features (N x D, float32) of a batch N x C x H x W,\n"
    "                         or a supervised head's output (DeepID2+, DeepID3), or all\n"
    "  export --model NAME --out DIR [--seed S]\n"
    "                         write seeded weights: DIR/<tensor>.npy and DIR/model.txt\n"
    "  patches (--image F --landmarks \"x1 y1 ... x5 y5\" | --lfw DIR --name NAME | --synthetic I:S)\n"
    "          --out SHEET.png [--scheme deepid1|deepid1-100|deepid2]\n"
    "                         contact sheet: aligned face, regions and all patches with flips\n"
    "  features (--extractor lbp|lbp-multiscale|hog | --models DIR [--head NAME]) --lfw DIR\n"
    "           --out F.npy [--binary] [--threads N]\n"
    "                         features of every LFW image: F.npy (N x D, or packed bits) + F.names.txt\n"
    "  eval-lfw --features F.npy --verifier NAME[,NAME...] --out DIR [--lfw DIR] [--pca K]\n"
    "                         LFW View 2 ten-fold protocol: accuracy, s.e., AUC, EER, ROC\n"
    "  stats --features F.npy [--out DIR]\n"
    "                         sparsity: active neurons per image, images per neuron, histograms\n"
    "  identify-lfw --features F.npy [--far 0.01] [--out DIR]\n"
    "                         LFW identification: closed-set rank-1, open-set DIR at a FAR\n"
    "  occlusion --models DIR --lfw DIR --out DIR [--bar F,...] [--block N,...]\n"
    "                         LFW accuracy under a bottom bar and random blocks, per output\n"
    "  train --scheme SCHEME --patches SPEC --out DIR (--celeba DIR | --synthetic I:N | ...)\n"
    "                         train one net per patch type (identification + verification on\n"
    "                         every output): deepid1, deepid2, deepid2plus, deepid3-net1|net2[-reduced]\n"
    "  quickstart [--out DIR] the whole pipeline on built-in synthetic identities\n"
    "  verify --models DIR --verifier FILE A.jpg B.jpg (--landmarks LIST | --landmarks-a ...)\n"
    "                         score, threshold and decision for two face images\n"
    "  help [COMMAND]         this text, or the options of one command\n"
    "\n"
    "Weights are NumPy .npy files in PyTorch layout (docs/weights.md). Errors print one\n"
    "line starting with 'deepid: error:' and exit with status 1 (2 for usage mistakes).\n";

std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

int report(const std::string& message, int status) {
  std::cout.flush();
  // Several ranks: say which (the MPI layer's own errors name it already).
  const bool named = deepid_cli::rank_count() == 1 || message.rfind("rank ", 0) == 0;
  const std::string rank = named ? "" : "rank " + std::to_string(deepid_cli::ranks()->rank()) + ": ";
  std::cerr << "deepid: error: " << rank << one_line(message) << std::endl;
  return status;
}

int help(std::string_view topic) {
  using namespace deepid_cli;
  if (topic.empty()) std::cout << general_usage;
  else if (topic == "info") std::cout << info_usage;
  else if (topic == "forward") std::cout << forward_usage;
  else if (topic == "export") std::cout << export_usage;
  else if (topic == "patches") std::cout << patches_usage;
  else if (topic == "features") std::cout << features_usage;
  else if (topic == "train") std::cout << train_usage;
  else if (topic == "quickstart") std::cout << quickstart_usage;
  else if (topic == "verify") std::cout << verify_usage;
  else if (topic == "eval-lfw") std::cout << eval_lfw_usage << deepid_cli::verifier_names_help;
  else if (topic == "stats") std::cout << stats_usage;
  else if (topic == "identify-lfw") std::cout << identify_lfw_usage;
  else if (topic == "occlusion") std::cout << occlusion_usage;
  else throw usage_error("no help for unknown command '" + std::string(topic) + "' (see 'deepid help')");
  return 0;
}

int dispatch(int argc, char** argv) {
  using namespace deepid_cli;
  if (argc < 2) return help("");
  const std::string_view command = argv[1];
  const arguments rest(argv + 2, std::size_t(argc - 2));
  if (command == "help" || command == "--help" || command == "-h") {
    if (rest.size() > 1) throw usage_error("'deepid help' takes at most one command name");
    return help(rest.empty() ? "" : rest[0]);
  }
  if (command == "--version") {
    std::cout << "deepid " DEEPID_CLI_VERSION "\n";
    return 0;
  }
  if (command == "info") return run_info(rest);
  if (command == "forward") return run_forward(rest);
  if (command == "export") return run_export(rest);
  if (command == "patches") return run_patches(rest);
  if (command == "features") return run_features(rest);
  if (command == "eval-lfw") return run_eval_lfw(rest);
  if (command == "train") return run_train(rest);
  if (command == "quickstart") return run_quickstart(rest);
  if (command == "verify") return run_verify(rest);
  if (command == "stats") return run_stats(rest);
  if (command == "identify-lfw") return run_identify_lfw(rest);
  if (command == "occlusion") return run_occlusion(rest);
  if (!command.empty() && command[0] == '-')
    throw usage_error("unknown option '" + std::string(command) + "' (see 'deepid help')");
  throw usage_error("unknown command '" + std::string(command) + "' (see 'deepid help')");
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  try {
    deepid_cli::start_ranks(argc, argv);
    if (deepid_cli::rank_count() > 1 && (argc < 2 || std::string_view(argv[1]) != "train"))
      throw deepid_cli::usage_error("only 'deepid train' runs on several ranks (started by mpirun with " +
                                    std::to_string(deepid_cli::rank_count()) + ")");
    status = dispatch(argc, argv);
  } catch (const deepid_cli::usage_error& e) {
    status = report(e.what(), 2);
  } catch (const deepid::error& e) {
    status = report(e.what(), 1);
  } catch (const std::bad_alloc&) {
    status = report("out of memory", 1);
  } catch (const std::exception& e) {
    status = report(e.what(), 1);
  } catch (...) {
    status = report("unexpected failure", 1);
  }
  // After an error on one rank the others may wait for it in a sum: end them all.
  if (status != 0 && status != 130 && deepid_cli::rank_count() > 1) deepid_cli::abort_ranks(status);
  deepid_cli::stop_ranks();
  return status;
}
