#pragma once
// Numeric checks for the kernel tests (kernels.cpp, winograd.cpp): random
// inputs, their absolute values for the error bounds' magnitudes, and the
// element-wise check of a fast kernel's result against the reference within
// 2 * terms * eps * magnitude.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <deepid/core/rng.hpp>

namespace deepid_test {

// `count` values drawn from the standard normal distribution.
template <class T>
std::vector<T> random_values(std::size_t count, deepid::rng& gen) {
  std::vector<T> v(count);
  for (auto& x : v) x = T(gen.normal());
  return v;
}

template <class T>
std::vector<double> absolute(const std::vector<T>& v) {
  std::vector<double> a(v.size());
  std::transform(v.begin(), v.end(), a.begin(), [](T x) { return std::abs(double(x)); });
  return a;
}

// Checks |fast - reference| <= 2 * terms * eps * magnitude element-wise and
// reports the worst element relative to its bound.
template <class T>
void check_within_bound(const std::vector<T>& fast, const std::vector<T>& reference,
                        const std::vector<double>& magnitude, std::size_t terms, const std::string& what) {
  REQUIRE(fast.size() == reference.size());
  REQUIRE(magnitude.size() == reference.size());
  const double eps = std::numeric_limits<T>::epsilon();
  double worst = 0.0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const double bound = 2.0 * double(terms) * eps * magnitude[i] + std::numeric_limits<T>::min();
    const double ratio = std::abs(double(fast[i]) - double(reference[i])) / bound;
    if (!(ratio <= worst)) worst = ratio, at = i;
  }
  INFO(what << ": worst element " << at << ", fast " << fast[at] << ", reference " << reference[at]
            << ", error / bound " << worst);
  CHECK(worst <= 1.0);
}

}  // namespace deepid_test
