#pragma once
// Writing evaluation results: the ROC as CSV, the ROC as a PNG plot (several
// verifiers on one set of axes, legend, log-scale FPR), and the table rows.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/eval/protocol.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/image.hpp"
#include "deepid/io/atomic_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

inline void write_roc_csv(const std::filesystem::path& path, std::span<const protocol_result> results) {
  std::string text = "verifier,fpr,tpr,threshold\n";
  char line[256];
  for (const auto& r : results)
    for (const auto& p : r.roc.points) {
      std::snprintf(line, sizeof line, "%s,%.8g,%.8g,%.10g\n", r.name.c_str(), p.fpr, p.tpr, p.threshold);
      text += line;
    }
  io::atomic_file file(path);
  file.write(text);
  file.commit();
}

// "name  accuracy  +-SE  AUC  EER  TPR@1e-2  TPR@1e-3" as one row.
inline std::string table_row(const protocol_result& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %7.2f%% +- %5.2f  %7.4f  %6.2f%%  %7.2f%%  %7.2f%%", r.name.c_str(),
                100 * r.mean_accuracy, 100 * r.standard_error, r.auc, 100 * r.eer, 100 * r.tpr_at_1e2,
                100 * r.tpr_at_1e3);
  return line;
}
inline std::string table_header() {
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %8s %8s  %7s  %7s  %8s  %8s", "verifier", "accuracy", "s.e.", "AUC", "EER",
                "TPR@1e-2", "TPR@1e-3");
  return line;
}

// ROC curves as a PNG: TPR against FPR on a log axis from 1e-3 to 1.
inline void plot_roc_png(const std::filesystem::path& path, std::span<const protocol_result> results,
                         const std::string& title) {
  const int width = 900, height = 680, left = 90, right = 30, top = 50, bottom = 70;
  const int pw = width - left - right, ph = height - top - bottom;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const double lo = -3.0;  // log10 of the smallest FPR shown
  auto to_px = [&](double fpr, double tpr) {
    const double x = (std::log10(std::max(fpr, 1e-3)) - lo) / -lo;
    return cv::Point2d(left + x * pw, top + (1 - tpr) * ph);
  };
  const cv::Scalar grid(225, 225, 225), ink(40, 40, 40);
  for (int e = -3; e <= 0; ++e) {
    for (int m = 1; m < 10 && (e < 0 || m == 1); ++m) {
      const auto p = to_px(m * std::pow(10.0, e), 0);
      cv::line(img, cv::Point2d(p.x, top), cv::Point2d(p.x, top + ph), m == 1 ? cv::Scalar(200, 200, 200) : grid, 1);
    }
    const auto p = to_px(std::pow(10.0, e), 0);
    const std::string label = e == 0 ? "1" : "1e" + std::to_string(e);
    cv::putText(img, label, cv::Point2d(p.x - 14, top + ph + 22), cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1, cv::LINE_AA);
  }
  for (int k = 0; k <= 10; ++k) {
    const double tpr = k / 10.0;
    const auto p = to_px(1e-3, tpr);
    cv::line(img, cv::Point2d(left, p.y), cv::Point2d(left + pw, p.y), grid, 1);
    char label[16];
    std::snprintf(label, sizeof label, "%.1f", tpr);
    cv::putText(img, label, cv::Point2d(left - 40, p.y + 5), cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1, cv::LINE_AA);
  }
  cv::rectangle(img, cv::Point(left, top), cv::Point(left + pw, top + ph), ink, 1);
  cv::putText(img, "false positive rate (different pairs accepted), log scale", cv::Point(left + 120, height - 20),
              cv::FONT_HERSHEY_SIMPLEX, 0.55, ink, 1, cv::LINE_AA);
  cv::Mat ylabel(30, 330, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(ylabel, "true positive rate (same pairs accepted)", cv::Point(2, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1,
              cv::LINE_AA);
  cv::rotate(ylabel, ylabel, cv::ROTATE_90_COUNTERCLOCKWISE);
  ylabel.copyTo(img(cv::Rect(8, top + (ph - ylabel.rows) / 2, ylabel.cols, ylabel.rows)));
  cv::putText(img, title, cv::Point(left, 32), cv::FONT_HERSHEY_SIMPLEX, 0.65, ink, 1, cv::LINE_AA);

  static const std::array<cv::Scalar, 8> colours{cv::Scalar(200, 80, 30),  cv::Scalar(40, 40, 200),  cv::Scalar(40, 160, 40),
                                                 cv::Scalar(160, 40, 160), cv::Scalar(0, 140, 220), cv::Scalar(140, 140, 0),
                                                 cv::Scalar(90, 90, 90),   cv::Scalar(0, 90, 160)};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& pts = results[i].roc.points;
    const cv::Scalar c = colours[i % colours.size()];
    for (std::size_t k = 1; k < pts.size(); ++k) {
      if (pts[k].fpr < 1e-3) continue;
      // Points below the axis start at FPR 1e-3 are drawn at its edge.
      cv::line(img, to_px(pts[k - 1].fpr, pts[k - 1].fpr < 1e-3 ? pts[k].tpr : pts[k - 1].tpr),
               to_px(pts[k].fpr, pts[k].tpr), c, 2, cv::LINE_AA);
    }
    // Legend, bottom right.
    char text[160];
    std::snprintf(text, sizeof text, "%s  %.2f%%  AUC %.4f", results[i].name.c_str(), 100 * results[i].mean_accuracy,
                  results[i].auc);
    const int y = top + ph - 20 - int(results.size() - 1 - i) * 24;
    cv::line(img, cv::Point(left + pw - 330, y - 5), cv::Point(left + pw - 300, y - 5), c, 3, cv::LINE_AA);
    cv::putText(img, text, cv::Point(left + pw - 292, y), cv::FONT_HERSHEY_SIMPLEX, 0.5, ink, 1, cv::LINE_AA);
  }
  face::save_image(path, img);
}

}  // namespace eval
DEEPID_NAMESPACE_END
