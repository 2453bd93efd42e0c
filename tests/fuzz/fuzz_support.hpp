#pragma once
// What every loader harness shares: a scratch folder of its own, the fuzz
// input written to files there, and the contract each loader is held to —
// return a valid object or throw deepid::error naming the file. Any other
// exception escaping a loader is a finding, so the harness aborts, and
// libFuzzer (or the replay runner) reports the input that did it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unistd.h>
#include <utility>

#include "deepid/core/error.hpp"

namespace deepid_fuzz {

namespace fs = std::filesystem;

// A folder for this process only (fuzzers may run side by side), in memory
// where /dev/shm exists: the loaders take paths, and disk would slow them.
// Removed when the process exits normally.
// Not the unit tests' scratch_folder (tests/support/test_files.hpp, a folder
// per test case under the build tree, kept for a look after a failure): a
// harness rewrites the same few files millions of times, several fuzzers run
// at once, and what a finding leaves to look at is its input, which libFuzzer
// saves and the replay runner names.
inline const fs::path& scratch_dir() {
  struct folder {
    fs::path path;
    folder() {
      std::error_code ec;
      const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
      path = base / ("deepid-fuzz-" + std::to_string(::getpid()));
      fs::create_directories(path);
    }
    ~folder() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  };
  static const folder dir;
  return dir.path;
}

inline void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Harnesses that need several files cut the input at this marker (seed files
// are written with it; libFuzzer learns it from comparisons).
inline constexpr std::string_view separator = "\n@@deepid-fuzz-split@@\n";

// Splits `input` at the first `separator`: the parts before and after it.
// Without the separator the whole input is the first part and `found` is false.
struct split_input {
  std::string_view first, second;
  bool found = false;
};
inline split_input split_at(std::string_view input, std::string_view separator) {
  const auto at = input.find(separator);
  if (at == std::string_view::npos) return {input, {}, false};
  return {input.substr(0, at), input.substr(at + separator.size()), true};
}

// Record files (io/record_file.hpp) end in a checksum of every byte before
// it, which random mutations almost never keep right; the harnesses of the
// loaders built on record files rewrite it so the mutated sections reach the
// loader. (The record_file harness leaves it alone, to fuzz the check.)
inline std::string with_record_checksum(std::string_view input) {
  std::string bytes(input);
  if (bytes.size() < 8) return bytes;
  const std::size_t body = bytes.size() - 8;
  std::uint64_t sum = 0xcbf29ce484222325ull;  // FNV-1a, as io::fnv1a
  for (std::size_t i = 0; i < body; ++i) sum = (sum ^ std::uint8_t(bytes[i])) * 0x100000001b3ull;
  for (std::size_t i = 0; i < 8; ++i) bytes[body + i] = char((sum >> (8 * i)) & 0xff);
  return bytes;
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== deepid fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs `load`; a deepid::error must mention one of `names` (file names the
// loader was given), any other exception is a finding. Returns whether the
// loader returned normally.
template <class Load>
bool expect_valid_or_error(std::initializer_list<std::string_view> names, Load&& load) {
  try {
    std::forward<Load>(load)();
    return true;
  } catch (const deepid::error& e) {
    const std::string_view message = e.what();
    // DEEPID_FUZZ_VERBOSE=1 shows which inputs a loader refuses, and why.
    static const bool verbose = std::getenv("DEEPID_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "  refused: %s\n", e.what());
    for (auto name : names)
      if (message.find(name) != std::string_view::npos) return false;
    std::string expected;
    for (auto name : names) expected += (expected.empty() ? "'" : " or '") + std::string(name) + "'";
    finding("deepid::error without the file's name (expected " + expected + "): " + std::string(message));
  } catch (const std::exception& e) {
    finding(std::string("exception other than deepid::error escaped the loader (") + typeid(e).name() +
            "): " + e.what());
  } catch (...) {
    finding("a non-std exception escaped the loader");
  }
}

// A broken invariant of a loaded object (a valid-looking result that is not).
inline void require(bool condition, const char* what) {
  if (!condition) finding(std::string("loaded object is invalid: ") + what);
}

}  // namespace deepid_fuzz
