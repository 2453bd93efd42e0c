// deepid verify: are two face images the same person?
#include <iostream>
#include <sstream>
#include <string>

#include <deepid/face/image.hpp>
#include <deepid/face/landmark_list.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/pca.hpp>

#include "commands.hpp"
#include "ensembles.hpp"

namespace deepid_cli {

const char* const verify_usage =
    "usage: deepid verify --models DIR --verifier FILE A.jpg B.jpg\n"
    "                     (--landmarks-a \"x1 y1 ... x5 y5\" --landmarks-b \"...\" | --landmarks LIST)\n"
    "\n"
    "Prints the score (higher = more likely the same person), the verifier's learnt threshold\n"
    "and the decision. FILE is a PCA + Joint Bayesian verifier (as 'deepid quickstart'\n"
    "writes); LIST is a landmark list (docs/faces.md) naming both images.\n";

namespace {
deepid::face::landmarks5 parse_points(const std::string& text, const std::string& which) {
  std::istringstream in(text);
  deepid::face::landmarks5 l;
  for (int i = 0; i < 10; ++i) {
    double v;
    if (!(in >> v)) throw usage_error(which + " needs ten numbers, got " + std::to_string(i));
    (i % 2 ? l.points[std::size_t(i / 2)].y : l.points[std::size_t(i / 2)].x) = v;
  }
  return l;
}
}  // namespace

int run_verify(arguments args) {
  // Positional image names come last; split them from the options.
  std::vector<char*> flags;
  std::vector<std::string> images;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a = args[i];
    if (a.rfind("--", 0) == 0 && a.find('=') == std::string::npos && a != "--help") {
      flags.push_back(args[i]);
      if (i + 1 < args.size()) flags.push_back(args[++i]);
    } else if (a.rfind("--", 0) == 0 || a == "-h") {
      flags.push_back(args[i]);
    } else {
      images.push_back(a);
    }
  }
  const auto o = parse_options("verify", arguments(flags.data(), flags.size()),
                               {"models", "verifier", "landmarks", "landmarks-a", "landmarks-b"});
  if (o.help) return std::cout << verify_usage, 0;
  if (images.size() != 2) throw usage_error("'deepid verify' needs exactly two images, got " + std::to_string(images.size()));
  deepid::face::landmarks5 marks[2];
  if (o.has("landmarks")) {
    const auto list = deepid::face::landmark_list::read(o.required("landmarks"));
    for (int k = 0; k < 2; ++k) {
      const std::string name = images[std::size_t(k)];
      const std::string base = std::filesystem::path(name).filename().string();
      if (list.contains(name)) marks[k] = list.at(name).points;
      else if (list.contains(base)) marks[k] = list.at(base).points;
      else throw deepid::error(o.required("landmarks") + ": no landmarks for image '" + name + "'");
    }
  } else {
    marks[0] = parse_points(o.required("landmarks-a"), "--landmarks-a");
    marks[1] = parse_points(o.required("landmarks-b"), "--landmarks-b");
  }
  auto ensemble = load_ensemble(o.required("models"));
  const auto jb = deepid::verify::with_pca<deepid::verify::joint_bayesian>::load(o.required("verifier"));
  cv::Mat loaded[2] = {deepid::face::load_image(images[0]), deepid::face::load_image(images[1])};
  deepid::face::face_source source{[&](std::size_t i) { return std::pair{loaded[i], marks[i]}; },
                                   [&](std::size_t i) { return images[i]; }, 2};
  std::vector<std::size_t> kept;
  std::vector<std::string> problems;
  const auto f = ensemble->extract(source, deepid::face::on_bad_item::fail, kept, problems);
  const std::size_t d = f.shape()[1];
  const double score = jb.score(std::span<const float>(f.data(), d), std::span<const float>(f.data() + d, d));
  std::cout << "score " << score << " (higher = more likely the same person)\n"
            << "threshold " << jb.threshold() << "\n"
            << "decision: " << (score > jb.threshold() ? "same person" : "different people") << "\n";
  return 0;
}

}  // namespace deepid_cli
