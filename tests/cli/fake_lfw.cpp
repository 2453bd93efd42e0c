// Test helper: a small folder laid out like LFW (docs/faces.md) made of the
// library's synthetic faces, for CLI tests that need images, landmarks and a
// View 2 pair list without the real data.
//   deepid_test_fake_lfw DIR [PEOPLE] [IMAGES_PER_PERSON]
// Writes DIR/lfw/<Person>/<Person>_<k>.jpg, DIR/lfw-names.txt,
// DIR/landmarks_deepfunneled_yunet.txt and DIR/pairs.txt: 10 folds of 3
// matched and 3 mismatched pairs, each fold with its own people.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <deepid/face/image.hpp>
#include <deepid/face/synthetic.hpp>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: deepid_test_fake_lfw DIR [PEOPLE] [IMAGES_PER_PERSON]\n";
    return 2;
  }
  try {
    const fs::path dir = argv[1];
    const int people = argc > 2 ? std::stoi(argv[2]) : 40, per_person = argc > 3 ? std::stoi(argv[3]) : 3;
    if (people < 40 || people % 10 || per_person < 2) {
      std::cerr << "deepid_test_fake_lfw: PEOPLE must be a multiple of 10, at least 40, with 2 or more images each\n";
      return 2;
    }
    fs::remove_all(dir);
    fs::create_directories(dir / "lfw");
    deepid::face::synthetic_options options;
    options.occlusion = 0;  // the study adds its own
    const deepid::face::synthetic_faces faces(options);
    auto person = [](int p) {
      char name[32];
      std::snprintf(name, sizeof name, "Person_%03d", p);
      return std::string(name);
    };
    std::ofstream names(dir / "lfw-names.txt"), marks(dir / "landmarks_deepfunneled_yunet.txt");
    for (int p = 0; p < people; ++p) {
      names << person(p) << '\t' << per_person << '\n';
      fs::create_directories(dir / "lfw" / person(p));
      for (int k = 1; k <= per_person; ++k) {
        char file[64];
        std::snprintf(file, sizeof file, "%s_%04d.jpg", person(p).c_str(), k);
        const auto face = faces.render(p, k);
        deepid::face::save_image(dir / "lfw" / person(p) / file, face.image);
        marks << person(p) << '/' << file;
        for (const auto& point : face.points.points) marks << '\t' << point.x << '\t' << point.y;
        marks << '\n';
      }
    }
    // Fold f uses the people f, f + 10, f + 20, ...: folds are person-disjoint.
    std::ofstream pairs(dir / "pairs.txt");
    pairs << "10\t3\n";
    const int per_fold = people / 10;
    for (int fold = 0; fold < 10; ++fold) {
      auto member = [&](int j) { return fold + 10 * (j % per_fold); };
      for (int j = 0; j < 3; ++j) pairs << person(member(j)) << '\t' << 1 << '\t' << 2 << '\n';
      for (int j = 0; j < 3; ++j)
        pairs << person(member(j)) << '\t' << 1 + j % per_person << '\t' << person(member(j + 1)) << '\t'
              << 1 + (j + 1) % per_person << '\n';
    }
    std::cout << "fake LFW: " << people << " people x " << per_person << " images in " << dir.string() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "deepid_test_fake_lfw: " << e.what() << "\n";
    return 1;
  }
}
