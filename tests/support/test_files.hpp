#pragma once
// Files for the tests that read and write them: a fresh scratch folder per
// case under the build tree, raw bytes in and out, and the message of the
// deepid::error a call throws (empty when it throws none).
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include <deepid/core/error.hpp>

namespace deepid_test {

// scratch("case") is <build>/test_scratch/<suite>/case, emptied first, so a
// failed run leaves its files to look at and the next run starts clean. Every
// unit test that writes files writes them here, one suite per test program
// (named after it) and one folder per test case, not removed afterwards.
class scratch_folder {
 public:
  explicit scratch_folder(std::string suite) : suite_(std::move(suite)) {}

  std::filesystem::path operator()(const std::string& name) const {
    const auto dir = std::filesystem::path(DEEPID_BINARY_DIR) / "test_scratch" / suite_ / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
  }

 private:
  std::string suite_;
};

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const deepid::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace deepid_test
