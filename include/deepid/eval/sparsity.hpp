#pragma once
// Sparsity of features, as the DeepID2+ paper measures it: a neuron is active
// on an image when its value is positive. For an N x D feature matrix:
//   - active neurons per image (of D): mean, standard deviation, histogram;
//   - images that activate each neuron (of N): mean, standard deviation,
//     histogram.
// The paper reports 292 +- 34 of 512 for DeepID2+'s FC-4. Standard deviations
// here describe the measured population (divided by the count, not count - 1).
// Plot and CSV: eval/sparsity_plot.hpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// Counts that range over 0 .. max_value, in bins of bin_width consecutive
// values: bin k holds the values k w .. k w + w - 1.
struct count_histogram {
  std::size_t max_value = 0, bin_width = 1;
  std::vector<std::size_t> counts;
  std::size_t bin_first(std::size_t k) const { return k * bin_width; }
  std::size_t bin_last(std::size_t k) const { return std::min(k * bin_width + bin_width - 1, max_value); }
};

// At most max_bins bins of equal width cover 0 .. max_value.
inline count_histogram histogram_of(std::span<const std::size_t> values, std::size_t max_value, std::size_t max_bins) {
  if (max_bins == 0) throw error("histogram: needs at least one bin");
  count_histogram h;
  h.max_value = max_value;
  h.bin_width = (max_value + max_bins) / max_bins;  // ceil((max_value + 1) / max_bins)
  h.counts.assign(max_value / h.bin_width + 1, 0);
  for (const std::size_t v : values) {
    if (v > max_value)
      throw error("histogram: value " + std::to_string(v) + " above the maximum " + std::to_string(max_value));
    ++h.counts[v / h.bin_width];
  }
  return h;
}

struct mean_sd {
  double mean = 0, sd = 0;
};

inline mean_sd mean_and_sd(std::span<const std::size_t> values) {
  mean_sd m;
  if (values.empty()) return m;
  for (const std::size_t v : values) m.mean += double(v);
  m.mean /= double(values.size());
  for (const std::size_t v : values) m.sd += (double(v) - m.mean) * (double(v) - m.mean);
  m.sd = std::sqrt(m.sd / double(values.size()));
  return m;
}

struct sparsity_stats {
  std::size_t images = 0, neurons = 0;
  std::vector<std::size_t> active_per_image;   // N counts, each of D
  std::vector<std::size_t> images_per_neuron;  // D counts, each of N
  mean_sd active, activating;                  // of the two lists above
  count_histogram active_histogram, activating_histogram;
};

inline sparsity_stats sparsity(const matrix<float>& x, std::size_t max_bins = 50) {
  const std::size_t n = x.shape()[0], d = x.shape()[1];
  if (n == 0 || d == 0)
    throw error("sparsity: the features are empty (" + std::to_string(n) + " x " + std::to_string(d) + ")");
  sparsity_stats s;
  s.images = n;
  s.neurons = d;
  s.active_per_image.assign(n, 0);
  s.images_per_neuron.assign(d, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const float v = x.data()[i * d + j];
      if (!std::isfinite(v))
        throw error("sparsity: feature " + std::to_string(j) + " of row " + std::to_string(i) + " is not finite");
      if (v > 0) ++s.active_per_image[i], ++s.images_per_neuron[j];
    }
  s.active = mean_and_sd(s.active_per_image);
  s.activating = mean_and_sd(s.images_per_neuron);
  s.active_histogram = histogram_of(s.active_per_image, d, max_bins);
  s.activating_histogram = histogram_of(s.images_per_neuron, n, max_bins);
  return s;
}

}  // namespace eval
DEEPID_NAMESPACE_END
