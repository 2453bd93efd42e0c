#pragma once
// A string usable as a template argument: names taps, e.g. tap<"pool3">.
#include <algorithm>
#include <cstddef>
#include <string_view>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

template <std::size_t N>
struct fixed_string {
  char chars[N]{};

  constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, chars); }
  constexpr std::string_view view() const { return {chars, N - 1}; }
  constexpr std::size_t size() const { return N - 1; }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const {
    return view() == other.view();
  }
};

DEEPID_NAMESPACE_END
