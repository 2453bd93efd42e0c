#pragma once
// Writing sparsity statistics (eval/sparsity.hpp): both histograms as CSV and
// as a PNG of two bar charts side by side, each with its mean marked.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "deepid/eval/sparsity.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/image.hpp"
#include "deepid/io/atomic_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// "histogram,first,last,count": one row per bin, values first..last inclusive.
inline void write_sparsity_csv(const std::filesystem::path& path, const sparsity_stats& s) {
  std::string text = "histogram,first,last,count\n";
  char line[160];
  auto rows = [&](const char* name, const count_histogram& h) {
    for (std::size_t k = 0; k < h.counts.size(); ++k) {
      std::snprintf(line, sizeof line, "%s,%zu,%zu,%zu\n", name, h.bin_first(k), h.bin_last(k), h.counts[k]);
      text += line;
    }
  };
  rows("active_neurons_per_image", s.active_histogram);
  rows("images_per_neuron", s.activating_histogram);
  io::atomic_file file(path);
  file.write(text);
  file.commit();
}

namespace detail {

// The smallest of 1, 2, 5 x 10^k at least `raw` (and at least 1): a tick spacing.
inline std::size_t tick_step(double raw) {
  std::size_t step = 1;
  for (;;) {
    for (const std::size_t m : {1, 2, 5})
      if (double(step * m) >= raw) return step * m;
    step *= 10;
  }
}

// One bar chart in `area` of `img`: counts up, values along x, where value v
// takes the unit interval [v, v + 1) and a bin of width w spans w of them.
inline void draw_count_histogram(cv::Mat& img, cv::Rect area, const count_histogram& h, const mean_sd& m,
                                 const std::string& title, const std::string& x_label, const std::string& caption) {
  const cv::Scalar grid(225, 225, 225), ink(40, 40, 40), bar(200, 130, 60), mean_ink(40, 40, 200);
  const int left = area.x + 70, top = area.y + 50, pw = area.width - 100, ph = area.height - 140;
  const std::size_t highest = *std::max_element(h.counts.begin(), h.counts.end());
  const std::size_t y_step = tick_step(double(highest) / 5);
  const std::size_t y_top = std::max<std::size_t>(1, (highest + y_step - 1) / y_step) * y_step;
  const double span = double(h.counts.size() * h.bin_width);
  auto x_of = [&](double value) { return left + int(value / span * pw); };
  auto y_of = [&](double count) { return top + ph - int(count / double(y_top) * ph); };
  char label[64];
  for (std::size_t count = 0; count <= y_top; count += y_step) {
    cv::line(img, cv::Point(left, y_of(double(count))), cv::Point(left + pw, y_of(double(count))), grid, 1);
    std::snprintf(label, sizeof label, "%zu", count);
    cv::putText(img, label, cv::Point(left - 60, y_of(double(count)) + 5), cv::FONT_HERSHEY_SIMPLEX, 0.45, ink, 1,
                cv::LINE_AA);
  }
  for (std::size_t value = 0, step = tick_step(double(h.max_value) / 5); value <= h.max_value; value += step) {
    std::snprintf(label, sizeof label, "%zu", value);
    cv::putText(img, label, cv::Point(x_of(double(value) + 0.5) - 4 * int(std::strlen(label)), top + ph + 20),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, ink, 1, cv::LINE_AA);
  }
  for (std::size_t k = 0; k < h.counts.size(); ++k) {
    if (h.counts[k] == 0) continue;
    const int x0 = x_of(double(h.bin_first(k))), x1 = std::max(x0 + 1, x_of(double(h.bin_first(k) + h.bin_width)) - 1);
    cv::rectangle(img, cv::Point(x0, y_of(double(h.counts[k]))), cv::Point(x1, top + ph), bar, cv::FILLED);
  }
  const int mean_x = x_of(m.mean + 0.5);
  cv::line(img, cv::Point(mean_x, top), cv::Point(mean_x, top + ph), mean_ink, 2, cv::LINE_AA);
  cv::rectangle(img, cv::Point(left, top), cv::Point(left + pw, top + ph), ink, 1);
  cv::putText(img, title, cv::Point(left, area.y + 30), cv::FONT_HERSHEY_SIMPLEX, 0.55, ink, 1, cv::LINE_AA);
  cv::putText(img, x_label, cv::Point(left, top + ph + 46), cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1, cv::LINE_AA);
  cv::putText(img, caption, cv::Point(left, top + ph + 70), cv::FONT_HERSHEY_SIMPLEX, 0.45, mean_ink, 1, cv::LINE_AA);
}

}  // namespace detail

inline void plot_sparsity_png(const std::filesystem::path& path, const sparsity_stats& s, const std::string& title) {
  const int panel_w = 620, panel_h = 520, top = 40;
  cv::Mat img(panel_h + top, 2 * panel_w, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(img, title, cv::Point(20, 28), cv::FONT_HERSHEY_SIMPLEX, 0.65, cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
  char text[160];
  std::snprintf(text, sizeof text, "active neurons per image: %.1f +- %.1f of %zu", s.active.mean, s.active.sd, s.neurons);
  char mean_text[96];
  std::snprintf(mean_text, sizeof mean_text, "images per bar (red line: the mean, %.1f)", s.active.mean);
  detail::draw_count_histogram(img, cv::Rect(0, top, panel_w, panel_h), s.active_histogram, s.active, text,
                               "active (positive) neurons of an image", mean_text);
  std::snprintf(text, sizeof text, "images activating each neuron: %.1f +- %.1f of %zu", s.activating.mean,
                s.activating.sd, s.images);
  std::snprintf(mean_text, sizeof mean_text, "neurons per bar (red line: the mean, %.1f)", s.activating.mean);
  detail::draw_count_histogram(img, cv::Rect(panel_w, top, panel_w, panel_h), s.activating_histogram, s.activating, text,
                               "images on which a neuron is positive", mean_text);
  face::save_image(path, img);
}

}  // namespace eval
DEEPID_NAMESPACE_END
