// Time of DeepID1's full patch extraction (60 patches + their flipped
// counterparts) per LFW face, over 1,000 faces, 1 and 2 threads.
// usage: bench_patches LFW_DIR   (or DEEPID_DATA set)
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <deepid/core/threads.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/face/patch_batch.hpp>

int main(int argc, char** argv) {
  namespace fc = deepid::face;
  std::filesystem::path dir = argc > 1 ? argv[1] : "";
  if (dir.empty() && std::getenv("DEEPID_DATA")) dir = std::filesystem::path(std::getenv("DEEPID_DATA")) / "lfw";
  if (dir.empty()) return std::cerr << "usage: bench_patches LFW_DIR (or set DEEPID_DATA)\n", 2;
  const auto lfw = fc::lfw_dataset::open(dir);
  auto names = lfw.image_names();
  std::vector<std::string> picked;
  for (std::size_t i = 0; i < names.size() && picked.size() < 1000; i += 13) picked.push_back(names[i]);
  // Decoded images first, so the timing is of alignment and cutting alone;
  // the second run includes reading and decoding the JPEGs from the tar.
  std::vector<cv::Mat> images;
  for (const auto& n : picked) images.push_back(lfw.load(n));
  for (int threads : {1, 2}) {
    deepid::set_num_threads(threads);
    fc::face_source decoded{[&](std::size_t i) { return std::pair{images[i], lfw.landmarks().at(picked[i]).points}; },
                            [&](std::size_t i) { return picked[i]; }, picked.size()};
    fc::face_source from_tar{[&](std::size_t i) { return std::pair{lfw.load(picked[i]), lfw.landmarks().at(picked[i]).points}; },
                             [&](std::size_t i) { return picked[i]; }, picked.size()};
    for (const auto* source : {&decoded, &from_tar}) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto batch = fc::extract_patches<fc::deepid1_scheme>(*source);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::cout << threads << " thread(s), " << (source == &decoded ? "decoded images" : "JPEG from tar + decode")
                << ": " << ms / double(batch.faces.size()) << " ms per face (60 patches + 60 flips, "
                << batch.faces.size() << " faces)\n";
    }
  }
}
