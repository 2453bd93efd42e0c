#pragma once
// Opening a file a user named, for reading. The standard library alone gives
// poor answers to wrong kinds of path: a directory opens and then throws from
// deep inside the stream without the file's name, and a FIFO or terminal
// blocks the open forever. Only regular files are opened here; anything else
// is an error that names the path and says what it is.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

// `what` names the file's role in the message: "the pair list", "the ensemble manifest".
inline std::ifstream open_input(const std::filesystem::path& path, std::string_view what,
                                std::ios::openmode mode = std::ios::in) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  const std::string role(what);
  if (!fs::exists(status)) throw error(path.string() + ": cannot open " + role + " (no such file)");
  if (fs::is_directory(status)) throw error(path.string() + ": is a directory, expected " + role);
  if (!fs::is_regular_file(status))
    throw error(path.string() + ": is not a regular file (a device, FIFO or socket), expected " + role);
  std::ifstream in(path, mode);
  if (!in) throw error(path.string() + ": cannot open " + role + " for reading");
  return in;
}

}  // namespace io
DEEPID_NAMESPACE_END
