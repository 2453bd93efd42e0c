// Main of the tests on real face data. DEEPID_DATA names a folder laid out
// like ../shared/data. Unset: the suite is skipped, loudly (ctest shows it as
// skipped through exit code 77). Set but unreadable: the suite fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

int main(int argc, char** argv) {
  const char* root = std::getenv("DEEPID_DATA");
  if (!root || !*root) {
    std::cerr << "\n*** SKIPPED: DEEPID_DATA is not set; the tests on real face data (LFW, CelebA) did not run.\n"
                 "*** Set DEEPID_DATA to a folder laid out like ../shared/data to run them.\n\n";
    return 77;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec) ||
      std::filesystem::directory_iterator(root, ec) == std::filesystem::directory_iterator()) {
    std::cerr << "DEEPID_DATA=" << root << " is set but is not a readable folder of data\n";
    return 1;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
