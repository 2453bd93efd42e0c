// Are two face images the same person? Align each face on its five
// landmarks, cut DeepID1 patches, run a net per patch type, compare the
// features. Usage: example_verify_two_faces A.jpg B.jpg LANDMARKS.txt
//              or  example_verify_two_faces A.jpg B.jpg "x1 y1 ... x5 y5" "x1 y1 ... x5 y5"
// A landmark list (docs/faces.md) names each image as given or by file name.
#include <deepid/features/ensemble.hpp>
#include <deepid/face/image.hpp>
#include <deepid/face/landmark_list.hpp>
#include <deepid/verify/distance.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace dp = deepid;
using scheme = dp::face::deepid1_scheme;

int main(int argc, char** argv) try {
  if (argc != 4 && argc != 5)
    return std::fprintf(stderr, "usage: %s A.jpg B.jpg (LANDMARKS | \"x1 y1 ... y5\" \"x1 y1 ... y5\")\n", argv[0]), 2;
  const auto list = argc == 4 ? dp::face::landmark_list::read(argv[3]) : dp::face::landmark_list{};
  const auto landmarks_of = [&](int k) {
    const std::string image = argv[1 + k], file_name = std::filesystem::path(image).filename().string();
    if (argc == 5)  // the library's landmark-list line parser reads "name x1 y1 ... x5 y5"
      return dp::face::landmark_list::parse_line(image + " " + argv[3 + k], "landmarks of " + image).points;
    if (!list.contains(image) && !list.contains(file_name))
      throw dp::error(std::string(argv[3]) + ": no landmarks for '" + image + "'");
    return list.at(list.contains(image) ? image : file_name).points;
  };
  // Faces A, B and A again: the second A checks that the pipeline is deterministic.
  const int face_of[3] = {0, 1, 0};
  const dp::face::face_source faces{
      [&](std::size_t i) { return std::pair{dp::face::load_image(argv[1 + face_of[i]]), landmarks_of(face_of[i])}; },
      [&](std::size_t i) { return std::string(argv[1 + face_of[i]]); }, 3};

  // UNTRAINED nets (seeded random weights) on four of DeepID1's 60 patches
  // (face.s0.rgb, face.s0.gray, left_eye.s0.rgb, nose.s0.rgb): the score says
  // nothing about identity. 'deepid train' trains such nets.
  dp::features::ensemble<scheme> nets({0, 1, 30, 42}, 7);
  // Training also learns each patch type's normalisation; here pixels are centred on 0.5.
  for (std::size_t k = 0; k < nets.types().size(); ++k)
    nets.normalisation(k) = {std::vector<float>(nets.net(k).input_shape().size(), 0.5f), 0.25f};
  dp::matrix<float> features;
  nets.extract(faces, features);  // 3 x dim: each patch and its mirror image through its net
  const auto row = [&](std::size_t i) { return std::span<const float>(&features(i, 0), nets.dim()); };

  const dp::verify::cosine_verifier cosine;
  const double score = cosine.score(row(0), row(1)), self = cosine.score(row(0), row(2));
  std::printf("features %s; cosine score %.4f (A against itself: %.4f)\n",
              dp::shape_string(features.shape()).c_str(), score, self);
  std::printf("the nets are untrained: the score does not tell whether A and B are the same person\n");

  // Shapes as the ensemble says, the same face gives the same features, and
  // no pair scores above a face against itself.
  const bool ok = features.shape()[0] == 3 && features.shape()[1] == nets.dim() && nets.dim() == 4 * 2 * 160 &&
                  std::equal(row(0).begin(), row(0).end(), row(2).begin()) && self >= score;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "verify_two_faces: %s\n", e.what());
  return 1;
}
