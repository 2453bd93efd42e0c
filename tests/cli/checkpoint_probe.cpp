// Reads one training checkpoint as a resumed run does (magic, sections,
// checksum) and prints where it stands, "epoch E batch B", then "finite" or
// "not-finite" for its parameters; a damaged file prints "damaged: <why>"
// and exits 1. The crash tests (kill_resume.sh, train_recovery.sh) check
// every checkpoint a killed or failed run left with it.
#include <cmath>
#include <cstdio>
#include <exception>

#include <deepid/train/checkpoint.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: checkpoint_probe FILE.ckpt\n");
    return 2;
  }
  try {
    const deepid::io::record_reader r(argv[1], "checkpoint", deepid::train::checkpoint_version);
    const auto state = r.f64("state");
    const auto params = r.f32("params");
    bool finite = true;
    for (float v : params) finite = finite && std::isfinite(v);
    std::printf("epoch %d batch %ld %s\n", int(state.at(0)), long(state.at(1)), finite ? "finite" : "not-finite");
    return 0;
  } catch (const std::exception& e) {
    std::printf("damaged: %s\n", e.what());
    return 1;
  }
}
