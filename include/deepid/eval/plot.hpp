#pragma once
// The charts deepid draws as PNGs share one set of axes: a plot area inside an
// image, a linear or log10 mapping from data to pixels on each axis, ticks on
// 1, 2, 5 x 10^k, grid, labels, a legend and a palette. On top of it, lines
// with a marker at every point (a measure against a test condition, one line
// per feature, say).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/image.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

namespace detail {
inline std::string plot_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}
}  // namespace detail

// The smallest of 1, 2, 5 x 10^k at least `raw` (and at least 1): a tick
// spacing for counts.
inline std::size_t tick_step(double raw) {
  // Beyond this the loop below would overflow instead of ending.
  if (!(raw <= 1e18)) throw error("tick_step: spacing " + detail::plot_number(raw) + " is not a finite count");
  std::size_t step = 1;
  for (;;) {
    for (const std::size_t m : {1, 2, 5})
      if (double(step * m) >= raw) return step * m;
    step *= 10;
  }
}

// The smallest of 1, 2, 5 x 10^k (any integer k) at least `raw` > 0.
inline double nice_step(double raw) {
  if (!(raw > 0) || !std::isfinite(raw))
    throw error("plot: a tick spacing must be positive and finite, got " + detail::plot_number(raw));
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  // The tolerance keeps 0.1 (not exactly representable) from becoming 0.2.
  for (const double m : {1.0, 2.0, 5.0})
    if (m * decade >= raw * (1 - 1e-9)) return m * decade;
  return 10 * decade;
}

struct tick {
  double at = 0;      // in data units
  std::string label;  // empty: a grid line only
  bool major = true;  // major ticks get the darker grid line
};

// Every multiple of `step` in [lo, hi], labelled with as many decimals as the
// step needs.
inline std::vector<tick> ticks_every(double lo, double hi, double step) {
  if (!(step > 0) || !std::isfinite(lo) || !std::isfinite(hi) || !(lo <= hi))
    throw error("plot: ticks need a finite range and a positive step, got [" + detail::plot_number(lo) + ", " +
                detail::plot_number(hi) + "] every " + detail::plot_number(step));
  if ((hi - lo) / step > 1000)
    throw error("plot: " + detail::plot_number((hi - lo) / step) + " ticks are too many to draw");
  const int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  std::vector<tick> ticks;
  // k * step rather than a running sum, so errors do not add up along the axis.
  for (double k = std::ceil(lo / step - 1e-9); k <= std::floor(hi / step + 1e-9); ++k) {
    const double at = k * step + 0.0;  // + 0.0: no "-0"
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", decimals, at);
    ticks.push_back({at, text, true});
  }
  return ticks;
}

// About `count` intervals of a nice step across [lo, hi].
inline std::vector<tick> nice_ticks(double lo, double hi, int count = 8) {
  return ticks_every(lo, hi, nice_step((hi - lo) / std::max(1, count)));
}

struct value_range {
  double lo = 0, hi = 1;
};

// [lo, hi] widened to the nearest multiples of the step nice_ticks will use on
// the result, so the frame ends on ticks.
inline value_range nice_range(double lo, double hi, int count = 8) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi))
    throw error("plot: range [" + detail::plot_number(lo) + ", " + detail::plot_number(hi) + "] is empty or not finite");
  value_range r{lo, hi};
  // Widening can call for a larger step, which widens again; steps only grow.
  for (double step = nice_step((hi - lo) / std::max(1, count));;) {
    r = {std::floor(lo / step + 1e-9) * step + 0.0, std::ceil(hi / step - 1e-9) * step + 0.0};
    const double next = nice_step((r.hi - r.lo) / std::max(1, count));
    if (next <= step * (1 + 1e-9)) return r;
    step = next;
  }
}

enum class axis_scale { linear, log10 };

struct axis {
  double lo = 0, hi = 1;
  axis_scale scale = axis_scale::linear;
};

// Decades labelled ("1e-3", "1e-2", "1e-1", "1", "10", "100", "1e3"), with
// 2 .. 9 x 10^k as unlabelled minor lines. A range holding fewer than two
// decades labels its minor ticks too, or it would show at most one number.
inline std::vector<tick> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(hi) || !(lo < hi))
    throw error("plot: a log axis needs 0 < lo < hi, got [" + detail::plot_number(lo) + ", " + detail::plot_number(hi) +
                "]");
  const int first = int(std::floor(std::log10(lo))), last = int(std::ceil(std::log10(hi)));
  if (last - first > 60) throw error("plot: a log axis over " + std::to_string(last - first) + " decades is too wide");
  std::vector<tick> ticks;
  int decades = 0;
  for (int e = first; e <= last; ++e) {
    const double at = std::pow(10.0, e);
    if (at >= lo * (1 - 1e-9) && at <= hi * (1 + 1e-9)) ++decades;
  }
  for (int e = first; e <= last; ++e)
    for (int m = 1; m < 10; ++m) {
      const double at = m * std::pow(10.0, e);
      if (at < lo * (1 - 1e-9) || at > hi * (1 + 1e-9)) continue;
      std::string label;
      if (m == 1)
        label = e == 0 ? "1" : e == 1 ? "10" : e == 2 ? "100" : "1e" + std::to_string(e);
      else if (decades < 2)
        label = detail::plot_number(at);
      ticks.push_back({at, label, m == 1});
    }
  return ticks;
}

// Ticks suited to an axis: log_ticks on a log axis, nice_ticks otherwise.
inline std::vector<tick> ticks_for(const axis& a, int count = 8) {
  return a.scale == axis_scale::log10 ? log_ticks(a.lo, a.hi) : nice_ticks(a.lo, a.hi, count);
}

// The ink, grid and series colours (BGR) every chart uses.
namespace plot_style {
inline cv::Scalar background() { return {255, 255, 255}; }
inline cv::Scalar ink() { return {40, 40, 40}; }
inline cv::Scalar grid() { return {225, 225, 225}; }
inline cv::Scalar grid_major() { return {200, 200, 200}; }
inline cv::Scalar frame() { return ink(); }
inline constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
inline constexpr double tick_scale = 0.45, label_scale = 0.5, title_scale = 0.65;
}  // namespace plot_style

// Eight colours that tell lines apart; series i takes palette_colour(i).
inline const std::array<cv::Scalar, 8>& palette() {
  static const std::array<cv::Scalar, 8> colours{cv::Scalar(200, 80, 30),  cv::Scalar(40, 40, 200),
                                                 cv::Scalar(40, 160, 40),  cv::Scalar(160, 40, 160),
                                                 cv::Scalar(0, 140, 220),  cv::Scalar(140, 140, 0),
                                                 cv::Scalar(90, 90, 90),   cv::Scalar(0, 90, 160)};
  return colours;
}
inline cv::Scalar palette_colour(std::size_t i) { return palette()[i % palette().size()]; }

enum class text_align { left, centre, right };

// Text whose baseline passes through `at`, anchored there by its left end,
// centre or right end.
inline void draw_text(cv::Mat& img, const std::string& text, cv::Point at, double scale, cv::Scalar colour,
                      text_align align = text_align::left) {
  int baseline = 0;
  const int width = cv::getTextSize(text, plot_style::font, scale, 1, &baseline).width;
  if (align == text_align::centre) at.x -= width / 2;
  if (align == text_align::right) at.x -= width;
  cv::putText(img, text, at, plot_style::font, scale, colour, 1, cv::LINE_AA);
}

// Text reading bottom to top, centred on `centre` (clamped into the image).
// Drawn on the image's own pixels turned a quarter, so nothing under it is
// blanked.
inline void draw_text_upwards(cv::Mat& img, const std::string& text, cv::Point centre, double scale,
                              cv::Scalar colour) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, plot_style::font, scale, 1, &baseline);
  const int along = std::min(size.width + 4, img.rows), across = std::min(size.height + baseline + 4, img.cols);
  const int x = std::clamp(centre.x - across / 2, 0, img.cols - across);
  const int y = std::clamp(centre.y - along / 2, 0, img.rows - along);
  cv::Mat region = img(cv::Rect(x, y, across, along)), turned;
  cv::rotate(region, turned, cv::ROTATE_90_CLOCKWISE);
  cv::putText(turned, text, cv::Point(2, size.height + 2), plot_style::font, scale, colour, 1, cv::LINE_AA);
  cv::rotate(turned, region, cv::ROTATE_90_COUNTERCLOCKWISE);  // writes back through the view
}

struct legend_entry {
  std::string text;
  cv::Scalar colour;
  int marker_radius = 0;  // > 0: a dot on the line sample, as the series has
};

enum class legend_position { bottom_right, bottom_left, top_right, top_left, none };

// A plot area inside an image and the mapping of data to its pixels: x = lo
// falls on column area.x and x = hi on column area.x + area.width (the frame's
// left and right lines); y = lo on row area.y + area.height and y = hi on row
// area.y. On a log10 axis the logarithms are spaced evenly instead. Drawing
// calls paint onto the image in the order made, so grid goes first.
class plot_axes {
 public:
  plot_axes(cv::Mat image, cv::Rect area, axis x, axis y) : img_(image), area_(area), x_(x), y_(y) {
    if (img_.empty() || img_.type() != CV_8UC3) throw error("plot: needs an 8-bit 3-channel image to draw on");
    if (area.width < 1 || area.height < 1 || area.x < 0 || area.y < 0 || area.x + area.width >= img_.cols ||
        area.y + area.height >= img_.rows)
      throw error("plot: the plot area " + std::to_string(area.width) + " x " + std::to_string(area.height) + " at (" +
                  std::to_string(area.x) + ", " + std::to_string(area.y) + ") does not fit in the " +
                  std::to_string(img_.cols) + " x " + std::to_string(img_.rows) + " image");
    check(x_, "x");
    check(y_, "y");
  }

  cv::Rect area() const { return area_; }
  const axis& x_axis() const { return x_; }
  const axis& y_axis() const { return y_; }

  // Exact pixel positions, unrounded and unclamped.
  double x_pixel(double x) const { return area_.x + fraction(x_, x) * area_.width; }
  double y_pixel(double y) const { return area_.y + (1 - fraction(y_, y)) * area_.height; }
  cv::Point2d pixel2d(double x, double y) const { return {x_pixel(x), y_pixel(y)}; }
  // The pixel a data point falls in.
  cv::Point pixel(double x, double y) const {
    return {int(std::lround(clamp_px(x_pixel(x)))), int(std::lround(clamp_px(y_pixel(y))))};
  }
  bool contains(double x, double y) const {
    return within(x_, x) && within(y_, y);
  }

  // Vertical grid lines and, under the frame, the labels. Where some ticks are
  // minor, the major ones get the darker line.
  void x_ticks(std::span<const tick> ticks, bool grid = true) {
    const bool graded = has_minor(ticks);
    for (const auto& t : ticks) {
      if (!within(x_, t.at)) continue;
      const int x = int(std::lround(x_pixel(t.at)));
      if (grid)
        cv::line(img_, {x, area_.y}, {x, area_.y + area_.height}, grid_colour(t, graded), 1);
      if (!t.label.empty())
        draw_text(img_, t.label, {x, area_.y + area_.height + 22}, plot_style::tick_scale, plot_style::ink(),
                  text_align::centre);
    }
  }
  // Horizontal grid lines and, right-aligned left of the frame, the labels.
  void y_ticks(std::span<const tick> ticks, bool grid = true) {
    const bool graded = has_minor(ticks);
    for (const auto& t : ticks) {
      if (!within(y_, t.at)) continue;
      const int y = int(std::lround(y_pixel(t.at)));
      if (grid) cv::line(img_, {area_.x, y}, {area_.x + area_.width, y}, grid_colour(t, graded), 1);
      if (t.label.empty()) continue;
      int baseline = 0;
      y_label_room_ = std::max(
          y_label_room_, cv::getTextSize(t.label, plot_style::font, plot_style::tick_scale, 1, &baseline).width);
      draw_text(img_, t.label, {area_.x - 8, y + 5}, plot_style::tick_scale, plot_style::ink(), text_align::right);
    }
  }
  void frame() {
    cv::rectangle(img_, area_.tl(), {area_.x + area_.width, area_.y + area_.height}, plot_style::frame(), 1);
  }
  void title(const std::string& text, double scale = plot_style::title_scale) {
    draw_text(img_, text, {area_.x, area_.y - 18}, scale, plot_style::ink());
  }
  // Centred under the tick labels.
  void x_label(const std::string& text) {
    draw_text(img_, text, {area_.x + area_.width / 2, area_.y + area_.height + 48}, plot_style::label_scale,
              plot_style::ink(), text_align::centre);
  }
  // Upwards, left of the y tick labels drawn so far.
  void y_label(const std::string& text) {
    int baseline = 0;
    const int across = cv::getTextSize(text, plot_style::font, plot_style::label_scale, 1, &baseline).height + baseline + 4;
    const int right = area_.x - 8 - y_label_room_ - 10;
    draw_text_upwards(img_, text, {right - across / 2, area_.y + area_.height / 2}, plot_style::label_scale,
                      plot_style::ink());
  }

  // A line between two data points, cut off a few pixels outside the frame.
  void segment(double x0, double y0, double x1, double y1, cv::Scalar colour, int thickness = 2) {
    cv::Mat view = clip_view();
    cv::line(view, fixed_point(x0, y0), fixed_point(x1, y1), colour, thickness, cv::LINE_AA, shift);
  }
  // A polyline through the points, with a filled dot of `marker_radius` on each
  // one inside the ranges (none for 0).
  void polyline(std::span<const double> x, std::span<const double> y, cv::Scalar colour, int thickness = 2,
                int marker_radius = 0) {
    if (x.size() != y.size())
      throw error("plot: a line has " + std::to_string(x.size()) + " x values but " + std::to_string(y.size()) +
                  " y values");
    for (std::size_t i = 1; i < x.size(); ++i) segment(x[i - 1], y[i - 1], x[i], y[i], colour, thickness);
    if (marker_radius <= 0) return;
    cv::Mat view = clip_view();
    const cv::Point origin = clip_rect().tl();
    for (std::size_t i = 0; i < x.size(); ++i)
      if (contains(x[i], y[i])) cv::circle(view, pixel(x[i], y[i]) - origin, marker_radius, colour, cv::FILLED, cv::LINE_AA);
  }

  // A box of line samples and their texts in a corner of the plot area, over a
  // mostly opaque background so lines under it stay faintly visible.
  void legend(std::span<const legend_entry> entries, legend_position where) {
    if (where == legend_position::none || entries.empty()) return;
    const double scale = plot_style::label_scale;
    const int row = 24, sample = 30, gap = 8, pad = 10, inset = 10;
    int text_width = 0, baseline = 0;
    for (const auto& e : entries)
      text_width = std::max(text_width, cv::getTextSize(e.text, plot_style::font, scale, 1, &baseline).width);
    const int w = pad + sample + gap + text_width + pad, h = 2 * pad + int(entries.size()) * row - 8;
    const bool right = where == legend_position::bottom_right || where == legend_position::top_right;
    const bool bottom = where == legend_position::bottom_right || where == legend_position::bottom_left;
    const int x = right ? area_.x + area_.width - inset - w : area_.x + inset;
    const int y = bottom ? area_.y + area_.height - inset - h : area_.y + inset;
    const cv::Rect box = cv::Rect(x, y, w, h) & cv::Rect(0, 0, img_.cols, img_.rows);
    cv::Mat under = img_(box);
    cv::addWeighted(under, 0.15, cv::Mat(under.size(), under.type(), plot_style::background()), 0.85, 0, under);
    cv::rectangle(img_, box, plot_style::grid_major(), 1);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const int base = y + pad + 13 + int(i) * row;
      const auto& e = entries[i];
      cv::line(img_, {x + pad, base - 5}, {x + pad + sample, base - 5}, e.colour, 3, cv::LINE_AA);
      if (e.marker_radius > 0)
        cv::circle(img_, {x + pad + sample / 2, base - 5}, e.marker_radius, e.colour, cv::FILLED, cv::LINE_AA);
      draw_text(img_, e.text, {x + pad + sample + gap, base}, scale, plot_style::ink());
    }
  }

 private:
  static constexpr int shift = 4;  // sub-pixel bits for lines
  static constexpr int clip_margin = 6;

  static void check(const axis& a, const char* name) {
    if (!std::isfinite(a.lo) || !std::isfinite(a.hi) || !(a.lo < a.hi))
      throw error(std::string("plot: the ") + name + " range [" + detail::plot_number(a.lo) + ", " +
                  detail::plot_number(a.hi) + "] is empty or not finite");
    if (a.scale == axis_scale::log10 && !(a.lo > 0))
      throw error(std::string("plot: the ") + name + " axis is log10 but its range [" + detail::plot_number(a.lo) +
                  ", " + detail::plot_number(a.hi) + "] does not lie above 0");
  }
  static double fraction(const axis& a, double v) {
    if (a.scale == axis_scale::log10)
      return v > 0 ? (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo)) : -1e9;
    return (v - a.lo) / (a.hi - a.lo);
  }
  static bool has_minor(std::span<const tick> ticks) {
    return std::any_of(ticks.begin(), ticks.end(), [](const tick& t) { return !t.major; });
  }
  static cv::Scalar grid_colour(const tick& t, bool graded) {
    return graded && t.major ? plot_style::grid_major() : plot_style::grid();
  }
  static bool within(const axis& a, double v) {
    const double f = fraction(a, v);
    return f >= -1e-9 && f <= 1 + 1e-9;
  }
  // Far-off points stay representable as int (and in fixed point).
  static double clamp_px(double p) { return std::isfinite(p) ? std::clamp(p, -1e6, 1e6) : (p > 0 ? 1e6 : -1e6); }

  // The frame plus a margin, so dots on the frame show whole.
  cv::Rect clip_rect() const {
    return cv::Rect(area_.x - clip_margin, area_.y - clip_margin, area_.width + 1 + 2 * clip_margin,
                    area_.height + 1 + 2 * clip_margin) &
           cv::Rect(0, 0, img_.cols, img_.rows);
  }
  cv::Mat clip_view() const { return img_(clip_rect()); }
  cv::Point fixed_point(double x, double y) const {
    const cv::Point origin = clip_rect().tl();
    return {int(std::lround((clamp_px(x_pixel(x)) - origin.x) * (1 << shift))),
            int(std::lround((clamp_px(y_pixel(y)) - origin.y) * (1 << shift)))};
  }

  cv::Mat img_;
  cv::Rect area_;
  axis x_, y_;
  int y_label_room_ = 0;  // the widest y tick label so far
};

// The plot area the library's full-image charts use: room for tick labels and
// the y label on the left, the title above, tick labels and x label below.
inline cv::Rect plot_area(cv::Size image) { return {90, 50, image.width - 120, image.height - 120}; }

struct line_series {
  std::string name;
  std::vector<double> x, y;
};

struct line_plot_options {
  std::string title, x_label, y_label;
  axis_scale x_scale = axis_scale::linear;
  // Unset: x spans the data (whole decades on a log axis); y spans the data
  // widened to nice ticks.
  std::optional<value_range> x_range, y_range;
  legend_position legend = legend_position::bottom_left;
  cv::Size size{900, 680};
  int line_thickness = 2, marker_radius = 4;
};

// The axes plot_lines_png draws on, after checking the series: the given
// ranges, or ranges from the data.
inline std::pair<axis, axis> line_plot_axes(std::span<const line_series> series, const line_plot_options& options) {
  if (series.empty()) throw error("plot_lines_png: no series to plot");
  const bool log_x = options.x_scale == axis_scale::log10;
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x_lo = inf, x_hi = -inf, y_lo = inf, y_hi = -inf;
  for (const auto& s : series) {
    const std::string name = "plot_lines_png: series \"" + s.name + "\"";
    if (s.x.size() != s.y.size())
      throw error(name + " has " + std::to_string(s.x.size()) + " x values but " + std::to_string(s.y.size()) +
                  " y values");
    if (s.x.empty()) throw error(name + " has no points");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]))
        throw error(name + ": point " + std::to_string(i) + " (" + detail::plot_number(s.x[i]) + ", " +
                    detail::plot_number(s.y[i]) + ") is not finite");
      if (log_x && !(s.x[i] > 0))
        throw error(name + ": x = " + detail::plot_number(s.x[i]) + " at point " + std::to_string(i) +
                    " cannot go on a log axis (needs x > 0)");
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  // A single value still needs a range around it.
  auto widen = [](double& lo, double& hi) {
    if (lo < hi) return;
    const double pad = lo == 0 ? 1 : std::abs(lo) / 10;
    lo -= pad, hi += pad;
  };
  axis x{0, 1, options.x_scale}, y;
  if (options.x_range) {
    x.lo = options.x_range->lo, x.hi = options.x_range->hi;
  } else if (log_x) {
    x.lo = std::pow(10.0, std::floor(std::log10(x_lo) + 1e-9));
    x.hi = std::pow(10.0, std::ceil(std::log10(x_hi) - 1e-9));
    if (!(x.lo < x.hi)) x.lo /= 10, x.hi *= 10;
  } else {
    widen(x_lo, x_hi);
    x.lo = x_lo, x.hi = x_hi;
  }
  if (options.y_range) {
    y.lo = options.y_range->lo, y.hi = options.y_range->hi;
  } else {
    widen(y_lo, y_hi);
    const auto r = nice_range(y_lo, y_hi);
    y.lo = r.lo, y.hi = r.hi;
  }
  if (!(x.lo < x.hi) || (log_x && !(x.lo > 0)))
    throw error("plot_lines_png: x range [" + detail::plot_number(x.lo) + ", " + detail::plot_number(x.hi) + "] is " +
                (log_x && x.lo < x.hi ? "not above 0 on a log axis" : "empty"));
  if (!(y.lo < y.hi))
    throw error("plot_lines_png: y range [" + detail::plot_number(y.lo) + ", " + detail::plot_number(y.hi) +
                "] is empty");
  return {x, y};
}

// Each series as a line with a dot at every point, in palette order, on one
// set of axes with grid, labels and a legend of the series' names; written as
// a PNG through face::save_image (atomically).
inline void plot_lines_png(const std::filesystem::path& path, std::span<const line_series> series,
                           const line_plot_options& options = {}) {
  const auto [x, y] = line_plot_axes(series, options);
  cv::Mat img(options.size, CV_8UC3, plot_style::background());
  plot_axes axes(img, plot_area(options.size), x, y);
  axes.x_ticks(ticks_for(x));
  axes.y_ticks(ticks_for(y));
  axes.frame();
  axes.title(options.title);
  axes.x_label(options.x_label);
  axes.y_label(options.y_label);
  std::vector<legend_entry> legend;
  for (std::size_t i = 0; i < series.size(); ++i) {
    axes.polyline(series[i].x, series[i].y, palette_colour(i), options.line_thickness, options.marker_radius);
    legend.push_back({series[i].name, palette_colour(i), options.marker_radius});
  }
  axes.legend(legend, options.legend);
  face::save_image(path, img);
}

}  // namespace eval
DEEPID_NAMESPACE_END
