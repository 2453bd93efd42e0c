// Test helper for the CLI tests of 'deepid stats' and 'deepid identify-lfw':
// writes hand-made feature files (values as in tests/unit/studies.cpp).
//   deepid_test_studies_fixtures WORK_DIR
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <iostream>
#include <string>
#include <vector>

#include <deepid/io/feature_file.hpp>

namespace io = deepid::io;
namespace fs = std::filesystem;

namespace {

deepid::matrix<float> rows_of(std::size_t n, std::size_t d, std::initializer_list<float> values) {
  deepid::matrix<float> m(std::array<std::size_t, 2>{n, d});
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: deepid_test_studies_fixtures WORK_DIR\n";
    return 2;
  }
  try {
    const fs::path work = argv[1];
    fs::remove_all(work);
    fs::create_directories(work / "lfw");
    // Sparsity: 2, 0, 2, 3 of 3 neurons active per image; 3, 1, 3 of 4 images per neuron.
    io::save_features(work / "stats.npy",
                      rows_of(4, 3, {1, 0, 2, 0, 0, -4, 3, -1, 1, 0.5f, 0.1f, 0.2f}),
                      {"A/A_0001.jpg", "A/A_0002.jpg", "B/B_0001.jpg", "C/C_0001.jpg"});
    // Identification: Alice along x, Bob along y, Dan on the diagonal, Carol opposite.
    const std::vector<std::string> names{"Bob/Bob_0002.jpg",     "Alice/Alice_0001.jpg", "Bob/Bob_0001.jpg",
                                         "Carol/Carol_0001.jpg", "Alice/Alice_0003.jpg", "Alice/Alice_0002.jpg",
                                         "Dan/Dan_0001.jpg",     "Dan/Dan_0002.jpg"};
    const auto x = rows_of(8, 2, {0, 3, 1, 0, 0, 1, -1, -1, 1, 1, 2, 0.1f, 1, 1, 1, 0.9f});
    io::save_features(work / "ident.npy", x, names);
    io::save_binary_features(work / "ident_bin.npy", x, names);
    io::save_features(work / "bad_names.npy", x,
                      {"Bob/Bob_0002.jpg", "face_0001.png", "Bob/Bob_0001.jpg", "Carol/Carol_0001.jpg",
                       "Alice/Alice_0003.jpg", "Alice/Alice_0002.jpg", "Dan/Dan_0001.jpg", "Dan/Dan_0002.jpg"});
    io::save_features(work / "singles.npy", rows_of(2, 2, {1, 0, 0, 1}), {"Alice/Alice_0001.jpg", "Bob/Bob_0001.jpg"});
    // A binary file cut short, with its (intact) names index.
    const auto bytes = [&] {
      std::ifstream in(work / "ident_bin.npy", std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }();
    write_text(work / "cut_bin.npy", bytes.substr(0, bytes.size() - 3));
    fs::copy_file(work / "ident_bin.names.txt", work / "cut_bin.names.txt");
    // An LFW names list in which Dan has one image only.
    write_text(work / "lfw" / "lfw-names.txt", "Alice\t3\nBob\t2\nCarol\t1\nDan\t1\n");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "deepid_test_studies_fixtures: " << e.what() << "\n";
    return 1;
  }
}
