#pragma once
// Writing evaluation results: the ROC as CSV, the ROC as a PNG plot (several
// verifiers on one set of axes, legend, log-scale FPR), and the table rows.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/eval/plot.hpp"
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
  cv::Mat img(680, 900, CV_8UC3, plot_style::background());
  const double lo = 1e-3;  // the smallest FPR shown
  plot_axes axes(img, plot_area(img.size()), {lo, 1, axis_scale::log10}, {0, 1});
  axes.x_ticks(log_ticks(lo, 1));
  axes.y_ticks(ticks_every(0, 1, 0.1));
  axes.frame();
  axes.x_label("false positive rate (different pairs accepted), log scale");
  axes.y_label("true positive rate (same pairs accepted)");
  axes.title(title);
  std::vector<legend_entry> legend;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& pts = results[i].roc.points;
    const cv::Scalar c = palette_colour(i);
    for (std::size_t k = 1; k < pts.size(); ++k) {
      if (pts[k].fpr < lo) continue;
      // Points below the axis start at FPR 1e-3 are drawn at its edge.
      const auto& from = pts[k - 1];
      axes.segment(std::max(from.fpr, lo), from.fpr < lo ? pts[k].tpr : from.tpr, pts[k].fpr, pts[k].tpr, c);
    }
    char text[160];
    std::snprintf(text, sizeof text, "%s  %.2f%%  AUC %.4f", results[i].name.c_str(), 100 * results[i].mean_accuracy,
                  results[i].auc);
    legend.push_back({text, c});
  }
  axes.legend(legend, legend_position::bottom_right);
  face::save_image(path, img);
}

}  // namespace eval
DEEPID_NAMESPACE_END
