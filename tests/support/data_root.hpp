#pragma once
// The folder of real face data (DEEPID_DATA), checked by data_main.cpp.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

inline std::filesystem::path data_root() { return std::filesystem::path(std::getenv("DEEPID_DATA")); }

// A data set folder that must exist when DEEPID_DATA is set.
inline std::filesystem::path data_folder(const std::string& name) {
  const auto path = data_root() / name;
  REQUIRE_MESSAGE(std::filesystem::is_directory(path), "DEEPID_DATA has no folder " << name);
  return path;
}
