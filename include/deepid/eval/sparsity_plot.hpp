#pragma once
// Writing sparsity statistics (eval/sparsity.hpp): both histograms as CSV and
// as a PNG of two bar charts side by side, each with its mean marked.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "deepid/eval/plot.hpp"
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

// One bar chart in `area` of `img`: counts up, values along x, where value v
// takes the unit interval [v, v + 1) and a bin of width w spans w of them.
inline void draw_count_histogram(cv::Mat& img, cv::Rect area, const count_histogram& h, const mean_sd& m,
                                 const std::string& title, const std::string& x_label, const std::string& caption) {
  const cv::Scalar bar(200, 130, 60), mean_ink(40, 40, 200);
  const std::size_t highest = *std::max_element(h.counts.begin(), h.counts.end());
  const std::size_t y_step = tick_step(double(highest) / 5);
  const std::size_t y_top = std::max<std::size_t>(1, (highest + y_step - 1) / y_step) * y_step;
  const double span = double(h.counts.size() * h.bin_width);
  plot_axes axes(img, cv::Rect(area.x + 70, area.y + 50, area.width - 100, area.height - 140), {0, span},
                 {0, double(y_top)});
  axes.y_ticks(ticks_every(0, double(y_top), double(y_step)));
  // Labels sit mid-interval, under the value they name; no vertical grid.
  std::vector<tick> x_ticks;
  for (std::size_t value = 0, step = tick_step(double(h.max_value) / 5); value <= h.max_value; value += step)
    x_ticks.push_back({double(value) + 0.5, std::to_string(value)});
  axes.x_ticks(x_ticks, false);
  const cv::Rect plot = axes.area();
  for (std::size_t k = 0; k < h.counts.size(); ++k) {
    if (h.counts[k] == 0) continue;
    const cv::Point top_left = axes.pixel(double(h.bin_first(k)), double(h.counts[k]));
    const int x1 = std::max(top_left.x + 1, axes.pixel(double(h.bin_first(k) + h.bin_width), 0).x - 1);
    cv::rectangle(img, top_left, cv::Point(x1, plot.y + plot.height), bar, cv::FILLED);
  }
  const int mean_x = axes.pixel(m.mean + 0.5, 0).x;
  cv::line(img, cv::Point(mean_x, plot.y), cv::Point(mean_x, plot.y + plot.height), mean_ink, 2, cv::LINE_AA);
  axes.frame();
  axes.title(title, 0.55);
  axes.x_label(x_label);
  draw_text(img, caption, cv::Point(plot.x + plot.width / 2, plot.y + plot.height + 72), plot_style::tick_scale,
            mean_ink, text_align::centre);
}

}  // namespace detail

inline void plot_sparsity_png(const std::filesystem::path& path, const sparsity_stats& s, const std::string& title) {
  const int panel_w = 620, panel_h = 520, top = 40;
  cv::Mat img(panel_h + top, 2 * panel_w, CV_8UC3, plot_style::background());
  draw_text(img, title, cv::Point(20, 28), plot_style::title_scale, plot_style::ink());
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
