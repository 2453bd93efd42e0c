#pragma once
// One exception type for every run-time failure the library reports. Messages
// name the file, tensor or layer and what was expected versus found.
#include <stdexcept>
#include <string>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

DEEPID_NAMESPACE_END
