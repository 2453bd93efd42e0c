// The shared chart axes (eval/plot.hpp): tick spacing, data-to-pixel mapping on
// linear and log axes, and line plots read back from their PNGs pixel by pixel.
#include <doctest/doctest.h>

#include <deepid/eval/plot.hpp>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace dp = deepid;
namespace ev = deepid::eval;
namespace fs = std::filesystem;

namespace {

const deepid_test::scratch_folder scratch{"plot"};
using deepid_test::error_of;

std::vector<std::string> labels(const std::vector<ev::tick>& ticks) {
  std::vector<std::string> out;
  for (const auto& t : ticks) out.push_back(t.label);
  return out;
}

cv::Vec3b bgr(cv::Scalar c) { return {uchar(c[0]), uchar(c[1]), uchar(c[2])}; }
bool grey(cv::Vec3b p) { return p[0] == p[1] && p[1] == p[2]; }

// The axes plot_lines_png drew on, rebuilt from the same options.
ev::plot_axes axes_of(std::span<const ev::line_series> series, const ev::line_plot_options& o) {
  const auto [x, y] = ev::line_plot_axes(series, o);
  return ev::plot_axes(cv::Mat(o.size, CV_8UC3), ev::plot_area(o.size), x, y);
}

// Every point of every series carries its palette colour in the PNG.
void check_points(const cv::Mat& png, std::span<const ev::line_series> series, const ev::plot_axes& axes) {
  for (std::size_t i = 0; i < series.size(); ++i)
    for (std::size_t k = 0; k < series[i].x.size(); ++k) {
      const cv::Point p = axes.pixel(series[i].x[k], series[i].y[k]);
      INFO("series ", i, " point ", k, " at pixel (", p.x, ", ", p.y, ")");
      CHECK(png.at<cv::Vec3b>(p) == bgr(ev::palette_colour(i)));
    }
}

}  // namespace

TEST_CASE("tick_step: the smallest 1, 2, 5 x 10^k at least the spacing asked for, and at least 1") {
  CHECK(ev::tick_step(0) == 1);
  CHECK(ev::tick_step(0.4) == 1);
  CHECK(ev::tick_step(1) == 1);
  CHECK(ev::tick_step(1.5) == 2);
  CHECK(ev::tick_step(2) == 2);
  CHECK(ev::tick_step(2.01) == 5);
  CHECK(ev::tick_step(7) == 10);
  CHECK(ev::tick_step(30.2) == 50);
  CHECK(ev::tick_step(150) == 200);
  CHECK(ev::tick_step(1000) == 1000);
  CHECK(ev::tick_step(1001) == 2000);
  CHECK(ev::tick_step(4e6) == 5000000);
  CHECK(error_of([] { ev::tick_step(std::nan("")); }).find("not a finite count") != std::string::npos);
  CHECK(error_of([] { ev::tick_step(INFINITY); }).find("not a finite count") != std::string::npos);
}

TEST_CASE("nice_step and ticks on a linear range") {
  CHECK(ev::nice_step(0.07) == doctest::Approx(0.1));
  CHECK(ev::nice_step(0.1) == doctest::Approx(0.1));  // not 0.2 from rounding
  CHECK(ev::nice_step(0.11) == doctest::Approx(0.2));
  CHECK(ev::nice_step(0.3) == doctest::Approx(0.5));
  CHECK(ev::nice_step(4.375) == doctest::Approx(5));
  CHECK(ev::nice_step(12) == doctest::Approx(20));
  CHECK(ev::nice_step(600) == doctest::Approx(1000));
  CHECK(error_of([] { ev::nice_step(0); }).find("positive") != std::string::npos);

  const auto tenths = ev::ticks_every(0, 1, 0.1);
  REQUIRE(tenths.size() == 11);
  CHECK(tenths[3].at == doctest::Approx(0.3));
  CHECK(labels(tenths) ==
        std::vector<std::string>{"0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"});
  CHECK(labels(ev::nice_ticks(0, 0.7)) ==
        std::vector<std::string>{"0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"});
  CHECK(labels(ev::nice_ticks(-1, 1, 4)) == std::vector<std::string>{"-1.0", "-0.5", "0.0", "0.5", "1.0"});
  CHECK(labels(ev::nice_ticks(12, 70)) == std::vector<std::string>{"20", "30", "40", "50", "60", "70"});
  CHECK(labels(ev::ticks_every(0.01, 0.2, 0.05)) == std::vector<std::string>{"0.05", "0.10", "0.15", "0.20"});

  // Ranges widen to the ticks' step, which itself may grow with the range.
  const auto r = ev::nice_range(61.3, 94.2);
  CHECK(r.lo == doctest::Approx(60));
  CHECK(r.hi == doctest::Approx(95));
  const auto grown = ev::nice_range(1, 41);  // 0..45 on fives calls for tens
  CHECK(grown.lo == doctest::Approx(0));
  CHECK(grown.hi == doctest::Approx(50));
  const auto t = ev::nice_ticks(grown.lo, grown.hi);
  CHECK(t.front().at == doctest::Approx(grown.lo));
  CHECK(t.back().at == doctest::Approx(grown.hi));
}

TEST_CASE("log ticks: decades labelled, 2..9 x 10^k as minor lines") {
  const auto t = ev::log_ticks(1e-3, 1);
  CHECK(t.size() == 28);  // three decades of nine, and 1
  std::vector<std::string> major;
  for (const auto& k : t)
    if (k.major) major.push_back(k.label);
    else CHECK(k.label.empty());
  CHECK(major == std::vector<std::string>{"1e-3", "1e-2", "1e-1", "1"});
  CHECK(labels(ev::log_ticks(10, 1000)).front() == "10");
  CHECK(labels(ev::log_ticks(2, 8)) == std::vector<std::string>{"2", "3", "4", "5", "6", "7", "8"});
  CHECK(error_of([] { ev::log_ticks(0, 1); }).find("0 < lo < hi") != std::string::npos);
}

TEST_CASE("plot_axes maps data to exact pixels on linear and log axes") {
  cv::Mat img(300, 400, CV_8UC3);
  const ev::plot_axes lin(img, cv::Rect(50, 20, 300, 200), {0, 6}, {-1, 3});
  CHECK(lin.pixel(0, -1) == cv::Point(50, 220));  // lower left: the frame's corner
  CHECK(lin.pixel(6, 3) == cv::Point(350, 20));   // upper right
  CHECK(lin.pixel(1, 0) == cv::Point(100, 170));
  CHECK(lin.pixel(4.5, 2.5) == cv::Point(275, 45));
  CHECK(lin.x_pixel(0.3) == doctest::Approx(65));
  CHECK(lin.y_pixel(0.2) == doctest::Approx(160));
  CHECK(lin.contains(6, -1));
  CHECK_FALSE(lin.contains(6.1, 0));

  const ev::plot_axes logx(img, cv::Rect(50, 20, 300, 200), {1e-3, 1, ev::axis_scale::log10}, {0, 1});
  CHECK(logx.pixel(1e-3, 0) == cv::Point(50, 220));
  CHECK(logx.pixel(1e-2, 0.5) == cv::Point(150, 120));
  CHECK(logx.pixel(1e-1, 1) == cv::Point(250, 20));
  CHECK(logx.pixel(1, 0.25) == cv::Point(350, 170));
  CHECK(logx.x_pixel(std::sqrt(10) * 1e-3) == doctest::Approx(100));  // half a decade
  CHECK_FALSE(logx.contains(1e-4, 0.5));

  CHECK(error_of([&] { ev::plot_axes(img, cv::Rect(50, 20, 300, 200), {0, 1, ev::axis_scale::log10}, {0, 1}); })
            .find("x axis is log10") != std::string::npos);
  CHECK(error_of([&] { ev::plot_axes(img, cv::Rect(50, 20, 300, 200), {0, 1}, {2, 2}); }).find("y range [2, 2] is empty") !=
        std::string::npos);
  CHECK(error_of([&] { ev::plot_axes(img, cv::Rect(50, 20, 400, 200), {0, 1}, {0, 1}); }).find("does not fit") !=
        std::string::npos);
}

TEST_CASE("plot_lines_png: each point in its series' colour, nothing of them in an empty band") {
  const auto dir = scratch("lines");
  const std::vector<ev::line_series> series{
      {"low", {0, 1, 2, 3, 4, 5, 6, 7}, {10, 11, 12, 13, 14, 15, 16, 17}},
      {"high", {0, 1, 2, 3, 4, 5, 6, 7}, {40, 42, 44, 46, 45, 44, 43, 42}},
  };
  ev::line_plot_options o;
  o.title = "test";
  o.x_label = "block size";
  o.y_label = "accuracy (%)";
  o.x_range = ev::value_range{0, 7};
  o.y_range = ev::value_range{0, 100};
  o.legend = ev::legend_position::top_right;
  ev::plot_lines_png(dir / "lines.png", series, o);
  const cv::Mat png = cv::imread((dir / "lines.png").string());
  REQUIRE(png.cols == 900);
  REQUIRE(png.rows == 680);
  const auto axes = axes_of(series, o);
  CHECK(axes.x_axis().lo == 0);
  CHECK(axes.y_axis().hi == 100);
  check_points(png, series, axes);

  // Between two points, on the line: coloured (blended at most), not grey.
  const cv::Point mid = axes.pixel(3.5, 45.5);
  CHECK_FALSE(grey(png.at<cv::Vec3b>(mid)));

  // y from 55 to 85 holds no line and no legend: only white and grey grid.
  int coloured = 0;
  for (int y = axes.pixel(0, 85).y; y <= axes.pixel(0, 55).y; ++y)
    for (int x = axes.area().x; x <= axes.area().x + axes.area().width; ++x) coloured += !grey(png.at<cv::Vec3b>(y, x));
  CHECK(coloured == 0);
  // ... while the band the lines cross has plenty.
  coloured = 0;
  for (int y = axes.pixel(0, 47).y; y <= axes.pixel(0, 9).y; ++y)
    for (int x = axes.area().x; x <= axes.area().x + axes.area().width; ++x) coloured += !grey(png.at<cv::Vec3b>(y, x));
  CHECK(coloured > 1000);
}

TEST_CASE("plot_lines_png: auto ranges hold every point, y ends on ticks, x on the data") {
  const auto dir = scratch("auto");
  std::vector<ev::line_series> series;
  for (int f = 0; f < 6; ++f) {
    ev::line_series s{"feature " + std::to_string(f), {}, {}};
    for (int k = 0; k < 8; ++k) {
      s.x.push_back(0.1 * k);
      s.y.push_back(94.2 - 4 * f - k * k * (0.3 + 0.1 * f));
    }
    series.push_back(s);
  }
  ev::line_plot_options o;
  o.legend = ev::legend_position::none;
  const auto [x, y] = ev::line_plot_axes(series, o);
  CHECK(x.lo == doctest::Approx(0));
  CHECK(x.hi == doctest::Approx(0.7));
  for (const auto& s : series)
    for (std::size_t k = 0; k < s.y.size(); ++k) {
      CHECK(s.y[k] >= y.lo);
      CHECK(s.y[k] <= y.hi);
    }
  const auto ticks = ev::nice_ticks(y.lo, y.hi);
  CHECK(ticks.front().at == doctest::Approx(y.lo));
  CHECK(ticks.back().at == doctest::Approx(y.hi));
  CHECK(y.hi == doctest::Approx(100));  // 94.2 rounded up to the step of 10

  // Points on the frame (x at both ends) still show in their colour.
  ev::plot_lines_png(dir / "auto.png", series, o);
  check_points(cv::imread((dir / "auto.png").string()), series, axes_of(series, o));

  // A log x axis spans whole decades around the data.
  ev::line_plot_options lo;
  lo.x_scale = ev::axis_scale::log10;
  const std::vector<ev::line_series> tiny{{"a", {0.002, 0.05, 0.3}, {1, 2, 3}}};
  const auto [lx, ly] = ev::line_plot_axes(tiny, lo);
  CHECK(lx.lo == doctest::Approx(1e-3));
  CHECK(lx.hi == doctest::Approx(1));
  ev::plot_lines_png(dir / "log.png", tiny, lo);
  check_points(cv::imread((dir / "log.png").string()), tiny, axes_of(tiny, lo));

  // One value alone still gets a range around it.
  const std::vector<ev::line_series> one{{"a", {3}, {5}}};
  const auto [ox, oy] = ev::line_plot_axes(one, {});
  CHECK(ox.lo < 3);
  CHECK(ox.hi > 3);
  CHECK(oy.lo < 5);
  CHECK(oy.hi > 5);
}

TEST_CASE("plot_lines_png: bad input is refused with the problem named, and nothing written") {
  const auto dir = scratch("bad");
  const auto file = dir / "bad.png";
  const std::vector<ev::line_series> uneven{{"ok", {1, 2}, {3, 4}}, {"uneven", {1, 2, 3}, {4, 5}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, uneven); }).find("series \"uneven\" has 3 x values but 2 y values") !=
        std::string::npos);
  CHECK(error_of([&] { ev::plot_lines_png(file, std::vector<ev::line_series>{}); }).find("no series to plot") !=
        std::string::npos);
  const std::vector<ev::line_series> empty{{"nothing", {}, {}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, empty); }).find("series \"nothing\" has no points") != std::string::npos);

  ev::line_plot_options log;
  log.x_scale = ev::axis_scale::log10;
  const std::vector<ev::line_series> zero{{"from zero", {0, 1, 2}, {1, 2, 3}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, zero, log); })
            .find("series \"from zero\": x = 0 at point 0 cannot go on a log axis (needs x > 0)") != std::string::npos);
  const std::vector<ev::line_series> negative{{"neg", {1, -2}, {1, 2}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, negative, log); }).find("x = -2 at point 1") != std::string::npos);
  log.x_range = ev::value_range{0, 10};
  const std::vector<ev::line_series> fine{{"fine", {1, 2}, {1, 2}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, fine, log); }).find("not above 0 on a log axis") != std::string::npos);

  const std::vector<ev::line_series> inf{{"inf", {1, 2}, {1, INFINITY}}};
  CHECK(error_of([&] { ev::plot_lines_png(file, inf); }).find("point 1 (2, inf) is not finite") != std::string::npos);
  ev::line_plot_options backwards;
  backwards.y_range = ev::value_range{5, 1};
  CHECK(error_of([&] { ev::plot_lines_png(file, fine, backwards); }).find("y range [5, 1] is empty") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(file));
}
