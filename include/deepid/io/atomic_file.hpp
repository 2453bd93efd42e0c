#pragma once
// atomic_file: writes a file so that readers see either the old contents or
// the complete new ones, never a half-written file. The bytes go to a
// temporary file in the target's directory, which is flushed, synced and then
// renamed over the target; if anything fails (or commit() is never called) the
// temporary is removed and the target is left as it was. Only regular files
// (or new names) are targets: a device, FIFO or socket is refused.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/io/checksum.hpp"

#if __has_include(<unistd.h>) && __has_include(<fcntl.h>)
#include <fcntl.h>
#include <unistd.h>
#define DEEPID_HAS_FSYNC 1
#else
#define DEEPID_HAS_FSYNC 0
#endif

DEEPID_NAMESPACE_BEGIN
namespace io {

class atomic_file {
 public:
  explicit atomic_file(std::filesystem::path target) : target_(std::move(target)) {
    namespace fs = std::filesystem;
    if (target_.empty()) throw error("cannot write a file with an empty name");
    if (target_.filename().empty()) throw fail("the path names a directory, not a file");
    std::error_code ec;
    const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
    if (!fs::is_directory(dir, ec)) throw fail("directory '" + dir.string() + "' does not exist");
    if (fs::is_directory(target_, ec)) throw fail("is a directory, cannot replace it with a file");
    // A device, FIFO or socket would be swapped for a regular file by the
    // rename (as root, /dev/null itself): only regular files are replaced.
    if (const auto status = fs::status(target_, ec); fs::exists(status) && !fs::is_regular_file(status))
      throw fail("is not a regular file (a device, FIFO or socket); write to a regular file instead");
    // A name no one else uses: ".<name>.tmp-<random>"; "x" makes fopen fail if it exists.
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    for (int attempt = 0; attempt < 16 && !file_; ++attempt) {
      std::string name = ".";
      name += target_.filename().string();
      name += ".tmp-";
      name += std::to_string(entropy());
      name += '-';
      name += std::to_string(counter++);
      temp_ = dir / name;
      file_ = std::fopen(temp_.c_str(), "wbx");
      if (!file_ && errno != EEXIST) break;
    }
    if (!file_) throw fail(std::string("cannot create a temporary file next to it (") + std::strerror(errno) + ")");
  }

  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  // Not committed: the temporary goes away, the target is untouched.
  ~atomic_file() { discard(); }

  void write(const void* data, std::size_t bytes) {
    if (!file_) throw fail("write after the file was closed");
    if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) {
      const int code = errno;
      discard();
      throw fail(std::string("write failed (") + std::strerror(code) + ")");
    }
    checksum_ = fnv1a(static_cast<const std::uint8_t*>(data), bytes, checksum_);
  }
  void write(std::string_view text) { write(text.data(), text.size()); }

  // Makes the new contents visible under the target name.
  void commit() {
    if (!file_) throw fail("commit after the file was closed");
    int code = 0;
    if (std::fflush(file_) != 0) code = errno;
#if DEEPID_HAS_FSYNC
    if (code == 0 && ::fsync(::fileno(file_)) != 0) code = errno;
#endif
    if (std::fclose(file_) != 0 && code == 0) code = errno;
    file_ = nullptr;
    if (code != 0) {
      discard();
      throw fail(std::string("write failed (") + std::strerror(code) + ")");
    }
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) {
      discard();
      throw fail("cannot replace the file (" + ec.message() + ")");
    }
    temp_.clear();
    sync_directory();
  }

  // FNV-1a (io/checksum.hpp) of every byte written so far: the file's
  // checksum once committed, without reading it back.
  std::uint64_t checksum() const { return checksum_; }

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  error fail(const std::string& what) const { return error(target_.string() + ": " + what); }

  // The rename is an entry in the directory: syncing the directory makes the
  // new name, not only the new bytes, survive a power cut. Best effort: some
  // file systems refuse to sync a directory, and the file itself is already
  // complete under its name for every reader.
  void sync_directory() const noexcept {
#if DEEPID_HAS_FSYNC
    const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
#endif
  }

  void discard() noexcept {
    if (file_) std::fclose(file_);
    file_ = nullptr;
    if (!temp_.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
      temp_.clear();
    }
  }

  std::filesystem::path target_, temp_;
  std::FILE* file_ = nullptr;
  std::uint64_t checksum_ = fnv1a_start;
};

}  // namespace io
DEEPID_NAMESPACE_END
