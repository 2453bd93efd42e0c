// Checks that a TSan build sees OpenMP's fork and join (tests/sanitize/tsan.supp):
// `clean` runs many regions whose items write disjoint outputs that the main
// thread then reads and frees, which TSan must not report; `race` adds to one
// shared counter from every thread, which TSan must report.
#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  const bool race = argc > 1 && std::strcmp(argv[1], "race") == 0;
  long total = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<float> outputs(1000);
    const float offset = static_cast<float>(round);
#pragma omp parallel for schedule(dynamic, 4) num_threads(4)
    for (int i = 0; i < 1000; ++i) outputs[i] = static_cast<float>(i) + offset;
    for (const float value : outputs) total += static_cast<long>(value);
  }
  if (race) {
    long shared = 0;
#pragma omp parallel for num_threads(4)
    for (int i = 0; i < 1000; ++i) shared += i;
    total += shared;
  }
  std::printf("%ld\n", total);
  return 0;
}
