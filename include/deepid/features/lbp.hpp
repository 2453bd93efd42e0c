#pragma once
// Uniform local binary patterns (Ojala, Pietikainen and Maenpaa 2002) on the
// aligned gray face, the classic baseline features of face verification:
//
//   lbp_grid        histograms on a grid of cells over the aligned face,
//                   concatenated (Ahonen, Hadid and Pietikainen 2006);
//   lbp_multiscale  histograms on a small grid of cells centred on each of the
//                   five aligned landmarks, at several scales of the face
//                   (the "high-dimensional LBP" of Chen, Cao, Wen and Sun 2013,
//                   with DeepID's five landmarks).
//
// The operator: 8 neighbours on a circle of radius r around each pixel, read
// with bilinear interpolation; neighbour p sits at angle 2 pi p / 8 counter-
// clockwise from image-right (p = 0 right, 2 up, 4 left, 6 down; image y grows
// downwards) and sets bit p of the code when its value is >= the centre's.
// Interpolation runs in 8-bit fixed point on the 8-bit pixels, so equal
// pixels compare exactly and a flat region codes as 255. The 256 codes map to
// 59 bins: the 58 uniform patterns (at most two 0/1 transitions around the
// circle) in increasing code order, then one bin for all the others.
//
// Histograms may be normalised per cell: `l1` (sums to 1) or `sqrt_l1` (L1,
// then the square root of each bin: the Hellinger map, after which every
// cell has unit L2 norm), which is what the Joint Bayesian literature feeds
// to PCA.
//
// Speed: codes are computed once per image (or scale) over the pixels the
// cells cover, with a vectorised 16-bit kernel per neighbour, mapped to bins
// through a 256-entry table, and counted cell by cell; the cells of one grid
// do not overlap, so every pixel is counted once (integral histograms would
// not save work here).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/face/alignment.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/landmarks.hpp"
#include "deepid/features/extractor.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

inline constexpr int lbp_neighbours = 8;
inline constexpr int lbp_bins = 59;  // 58 uniform patterns + 1 for the rest

// 0/1 transitions around the circle of an 8-bit code.
constexpr int lbp_transitions(std::uint8_t code) {
  return std::popcount(unsigned(std::uint8_t(code ^ std::rotr(code, 1))));
}
constexpr bool lbp_is_uniform(std::uint8_t code) { return lbp_transitions(code) <= 2; }

// Code -> bin: uniform codes numbered 0..57 in increasing code order, others 58.
inline constexpr std::array<std::uint8_t, 256> lbp_uniform_map = [] {
  std::array<std::uint8_t, 256> m{};
  std::uint8_t next = 0;
  for (int c = 0; c < 256; ++c) m[std::size_t(c)] = lbp_is_uniform(std::uint8_t(c)) ? next++ : std::uint8_t(58);
  return m;
}();

enum class histogram_norm {
  none,    // raw counts
  l1,      // each cell sums to 1
  sqrt_l1  // L1, then the square root of each bin (unit L2 norm per cell)
};

// Normalises one histogram in place; an empty (all-zero) one stays zero.
inline void normalise_histogram(std::span<float> h, histogram_norm norm) {
  if (norm == histogram_norm::none) return;
  double sum = 0;
  for (float v : h) sum += v;
  if (!(sum > 0)) return;
  const float inv = float(1.0 / sum);
  for (float& v : h) v = norm == histogram_norm::sqrt_l1 ? std::sqrt(v * inv) : v * inv;
}

// The eight bilinear taps of the circle of `radius`, in fixed point.
class lbp_circle {
 public:
  static constexpr int weight_bits = 8;  // the four weights of a neighbour sum to 256

  struct neighbour {
    int dx = 0, dy = 0;    // top-left tap, relative to the centre
    int dx1 = 0, dy1 = 0;  // offset of the second column / row of taps (0 when not needed)
    std::array<std::uint16_t, 4> w{};  // (dy, dx), (dy, dx + dx1), (dy + dy1, dx), (dy + dy1, dx + dx1)
    bool exact() const { return w[0] == (1 << weight_bits); }
  };

  explicit lbp_circle(double radius = 1.0) : radius_(radius) {
    if (!(radius >= 1.0 && radius <= 16.0))
      throw error("lbp: the radius must lie in [1, 16] pixels, found " + std::to_string(radius));
    margin_ = int(std::ceil(radius - 1e-9));
    for (int p = 0; p < lbp_neighbours; ++p) {
      const double angle = 2.0 * std::numbers::pi * p / lbp_neighbours;
      // Snap away rounding noise so that the axis neighbours land on pixels
      // and the four diagonals get the same weights.
      const double x = std::round(radius * std::cos(angle) * 1e9) / 1e9;
      const double y = std::round(-radius * std::sin(angle) * 1e9) / 1e9;
      neighbour& n = taps_[std::size_t(p)];
      const double fx = std::floor(x), fy = std::floor(y);
      const double tx = x - fx, ty = y - fy;
      n.dx = int(fx), n.dy = int(fy);
      n.dx1 = tx > 0 ? 1 : 0, n.dy1 = ty > 0 ? 1 : 0;
      const std::array<double, 4> w{(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty};
      int sum = 0;
      for (std::size_t k = 0; k < 4; ++k) sum += n.w[k] = std::uint16_t(std::lround(w[k] * (1 << weight_bits)));
      const auto largest = std::size_t(std::max_element(n.w.begin(), n.w.end()) - n.w.begin());
      n.w[largest] = std::uint16_t(n.w[largest] + (1 << weight_bits) - sum);
    }
  }

  double radius() const { return radius_; }
  // Pixels needed on every side of a pixel for it to get a code.
  int margin() const { return margin_; }
  const neighbour& operator[](int p) const { return taps_[std::size_t(p)]; }

 private:
  double radius_;
  int margin_ = 1;
  std::array<neighbour, lbp_neighbours> taps_{};
};

namespace detail {
inline void check_code_roi(const cv::Mat& gray, cv::Rect roi, const lbp_circle& circle) {
  if (gray.type() != CV_8UC1)
    throw error("lbp: expected an 8-bit one-channel image, found OpenCV type " + std::to_string(gray.type()));
  const int m = circle.margin();
  if (roi.width < 0 || roi.height < 0 || roi.x < m || roi.y < m || roi.x + roi.width > gray.cols - m ||
      roi.y + roi.height > gray.rows - m)
    throw error("lbp: the pixels " + std::to_string(roi.width) + "x" + std::to_string(roi.height) + " at (" +
                std::to_string(roi.x) + ", " + std::to_string(roi.y) + ") need a margin of " + std::to_string(m) +
                " px inside the " + std::to_string(gray.cols) + "x" + std::to_string(gray.rows) + " image");
}

// Sets `bit` in out[x] where the neighbour read at r0/r1 (weights w) is >= the
// centre c[x]; 16-bit fixed point, vectorised by the compiler.
inline void lbp_neighbour_bit(const std::uint8_t* __restrict r0, const std::uint8_t* __restrict r1, int d,
                              const std::uint8_t* __restrict c, std::uint8_t* __restrict out, int width,
                              const std::array<std::uint16_t, 4>& w, std::uint8_t bit) {
  const std::uint16_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
  for (int x = 0; x < width; ++x) {
    const auto v = std::uint16_t(w0 * r0[x] + w1 * r0[x + d] + w2 * r1[x] + w3 * r1[x + d]);
    const auto centre = std::uint16_t(c[x] << lbp_circle::weight_bits);
    out[x] |= v >= centre ? bit : std::uint8_t(0);
  }
}
inline void lbp_exact_bit(const std::uint8_t* __restrict r0, const std::uint8_t* __restrict c,
                          std::uint8_t* __restrict out, int width, std::uint8_t bit) {
  for (int x = 0; x < width; ++x) out[x] |= r0[x] >= c[x] ? bit : std::uint8_t(0);
}
}  // namespace detail

// Raw 8-bit codes of the pixels of `roi`: codes(y, x) is the code of
// gray(roi.y + y, roi.x + x). `roi` must lie circle.margin() px inside `gray`.
inline void lbp_codes(const cv::Mat& gray, cv::Rect roi, const lbp_circle& circle, cv::Mat& codes) {
  detail::check_code_roi(gray, roi, circle);
  codes.create(roi.height, roi.width, CV_8UC1);
  for (int y = 0; y < roi.height; ++y) {
    const int gy = roi.y + y;
    const std::uint8_t* c = gray.ptr<std::uint8_t>(gy) + roi.x;
    std::uint8_t* out = codes.ptr<std::uint8_t>(y);
    std::fill_n(out, roi.width, std::uint8_t(0));
    for (int p = 0; p < lbp_neighbours; ++p) {
      const lbp_circle::neighbour& n = circle[p];
      const std::uint8_t* r0 = gray.ptr<std::uint8_t>(gy + n.dy) + roi.x + n.dx;
      const auto bit = std::uint8_t(1u << p);
      if (n.exact())
        detail::lbp_exact_bit(r0, c, out, roi.width, bit);
      else
        detail::lbp_neighbour_bit(r0, gray.ptr<std::uint8_t>(gy + n.dy + n.dy1) + roi.x + n.dx, n.dx1, c, out,
                                  roi.width, n.w, bit);
    }
  }
}

// Uniform-pattern bins (0..58) of the pixels of `roi`, as lbp_codes.
inline void lbp_uniform_bins(const cv::Mat& gray, cv::Rect roi, const lbp_circle& circle, cv::Mat& bins) {
  lbp_codes(gray, roi, circle, bins);
  for (int y = 0; y < bins.rows; ++y) {
    std::uint8_t* row = bins.ptr<std::uint8_t>(y);
    for (int x = 0; x < bins.cols; ++x) row[x] = lbp_uniform_map[row[x]];
  }
}

// Adds the counts of the bins inside `cell` (clipped to the map) to hist[0..58].
inline void lbp_histogram(const cv::Mat& bins, cv::Rect cell, float* hist) {
  const cv::Rect r = cell & cv::Rect(0, 0, bins.cols, bins.rows);
  std::array<std::uint32_t, lbp_bins> count{};
  for (int y = r.y; y < r.y + r.height; ++y) {
    const std::uint8_t* row = bins.ptr<std::uint8_t>(y);
    for (int x = r.x; x < r.x + r.width; ++x) ++count[row[x]];
  }
  for (int b = 0; b < lbp_bins; ++b) hist[b] += float(count[std::size_t(b)]);
}

// ---------------------------------------------------------------------------
// Histograms on a grid of cells over the aligned face.

struct lbp_grid_options {
  double zoom = 1.0;       // the aligned face: the template canvas (96x112) scaled by zoom
  int cell = 16;           // cell side, pixels of the aligned face
  int cols = 0, rows = 0;  // the grid, centred on the canvas; 0: as many cells as fit (6 x 7)
  double radius = 1.0;     // of the LBP circle, pixels of the aligned face
  histogram_norm norm = histogram_norm::sqrt_l1;
  face::alignment_template align{};
};

// Feature layout: cells row-major (top-left first), 59 bins each.
class lbp_grid {
 public:
  explicit lbp_grid(const lbp_grid_options& options = {}) : o_(options), circle_(options.radius) {
    if (!(o_.zoom > 0 && std::isfinite(o_.zoom))) throw error("lbp_grid: zoom must be positive, found " + std::to_string(o_.zoom));
    if (o_.cell < 1) throw error("lbp_grid: the cell side must be at least 1 px, found " + std::to_string(o_.cell));
    if (o_.cols < 0 || o_.rows < 0) throw error("lbp_grid: the grid cannot have a negative number of cells");
    const int width = int(std::lround(o_.align.width * o_.zoom)), height = int(std::lround(o_.align.height * o_.zoom));
    cols_ = o_.cols ? o_.cols : width / o_.cell;
    rows_ = o_.rows ? o_.rows : height / o_.cell;
    if (cols_ < 1 || rows_ < 1)
      throw error("lbp_grid: no " + std::to_string(o_.cell) + " px cell fits on the " + std::to_string(width) + "x" +
                  std::to_string(height) + " aligned face");
    const int m = circle_.margin();
    box_ = cv::Rect((width - cols_ * o_.cell) / 2 - m, (height - rows_ * o_.cell) / 2 - m, cols_ * o_.cell + 2 * m,
                    rows_ * o_.cell + 2 * m);
  }

  const lbp_grid_options& options() const { return o_; }
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  std::size_t dim() const { return std::size_t(cols_) * std::size_t(rows_) * lbp_bins; }

  // The region read, on the aligned canvas: the grid plus the circle's margin.
  cv::Rect region_box() const { return box_; }

  // The 8-bit gray aligned region of a face (region_box().size()).
  cv::Mat region(const cv::Mat& image, const face::landmarks5& marks) const {
    return aligned_gray(image, marks, o_.align, o_.zoom, box_);
  }

  // Histograms of an aligned region (8-bit gray, region_box().size()).
  void describe(const cv::Mat& region, std::span<float> out) const {
    check_output(out, dim(), "lbp_grid");
    if (region.type() != CV_8UC1 || region.cols != box_.width || region.rows != box_.height)
      throw error("lbp_grid: expected an 8-bit gray region of " + std::to_string(box_.width) + "x" +
                  std::to_string(box_.height) + " px, found " + std::to_string(region.cols) + "x" +
                  std::to_string(region.rows) + " of OpenCV type " + std::to_string(region.type()));
    const int m = circle_.margin();
    cv::Mat bins;
    lbp_uniform_bins(region, cv::Rect(m, m, cols_ * o_.cell, rows_ * o_.cell), circle_, bins);
    std::fill(out.begin(), out.end(), 0.0f);
    for (int r = 0; r < rows_; ++r)
      for (int c = 0; c < cols_; ++c) {
        const auto h = out.subspan((std::size_t(r) * std::size_t(cols_) + std::size_t(c)) * lbp_bins, lbp_bins);
        lbp_histogram(bins, cv::Rect(c * o_.cell, r * o_.cell, o_.cell, o_.cell), h.data());
        normalise_histogram(h, o_.norm);
      }
  }

  void extract(const cv::Mat& image, const face::landmarks5& marks, std::span<float> out) const {
    check_output(out, dim(), "lbp_grid");
    describe(region(image, marks), out);
  }
  std::vector<float> extract(const cv::Mat& image, const face::landmarks5& marks) const {
    return features::extract(*this, image, marks);
  }

 private:
  lbp_grid_options o_;
  lbp_circle circle_;
  int cols_ = 0, rows_ = 0;
  cv::Rect box_;
};

// ---------------------------------------------------------------------------
// Multi-scale histograms around the five landmarks.

struct lbp_multiscale_options {
  double zoom = 2.0;  // scale 1: the template canvas scaled by zoom (inter-ocular 70 px)
  std::vector<double> scales{1.0, 0.75, 0.5625, 0.421875};  // of that face, each 3/4 of the last
  int grid = 4;         // cells per side of the square around each landmark
  int cell = 10;        // cell side, pixels, at every scale
  double radius = 1.0;  // of the LBP circle, pixels, at every scale
  histogram_norm norm = histogram_norm::sqrt_l1;
  face::alignment_template align{};
};

// Feature layout: scales in the order given, then the five landmarks (left
// eye, right eye, nose, left and right mouth corner), then cells row-major,
// 59 bins each. Each scale is resized (bilinear) from the next larger one, so
// the smaller scales are smoothed step by step as in an image pyramid.
// A cell that reaches past the canvas read (landmarks far from the template)
// counts only the pixels inside it. The default feature has 4 scales x 5
// landmarks x 16 cells x 59 bins = 18,880 values (1 GB of floats for all
// 13,233 LFW faces): reduce it with PCA before a verifier.
class lbp_multiscale {
 public:
  explicit lbp_multiscale(const lbp_multiscale_options& options = {}) : o_(options), circle_(options.radius) {
    if (!(o_.zoom > 0 && std::isfinite(o_.zoom)))
      throw error("lbp_multiscale: zoom must be positive, found " + std::to_string(o_.zoom));
    if (o_.scales.empty()) throw error("lbp_multiscale: at least one scale is needed");
    for (double s : o_.scales)
      if (!(s > 0.05 && s <= 4.0)) throw error("lbp_multiscale: scale " + std::to_string(s) + " is outside (0.05, 4]");
    if (o_.grid < 1 || o_.cell < 1)
      throw error("lbp_multiscale: grid (" + std::to_string(o_.grid) + ") and cell (" + std::to_string(o_.cell) +
                  ") must be at least 1");
    // The canvas: the template's anchors, 0.3 inter-ocular distances of slack
    // for faces that differ from it, and every scale's cell squares.
    const auto& t = o_.align;
    const double slack = 0.3 * t.inter_ocular();
    const double x0 = std::min({t.left_eye.x, t.right_eye.x, t.mouth_centre.x}) - slack;
    const double x1 = std::max({t.left_eye.x, t.right_eye.x, t.mouth_centre.x}) + slack;
    const double y0 = std::min({t.left_eye.y, t.right_eye.y, t.mouth_centre.y}) - slack;
    const double y1 = std::max({t.left_eye.y, t.right_eye.y, t.mouth_centre.y}) + slack;
    double reach = 0;
    for (double s : o_.scales) reach = std::max(reach, (0.5 * o_.grid * o_.cell + circle_.margin() + 2) / s);
    const int left = int(std::floor(x0 * o_.zoom - reach)), top = int(std::floor(y0 * o_.zoom - reach));
    box_ = cv::Rect(left, top, int(std::ceil(x1 * o_.zoom + reach)) - left, int(std::ceil(y1 * o_.zoom + reach)) - top);
  }

  const lbp_multiscale_options& options() const { return o_; }
  std::size_t dim() const {
    return o_.scales.size() * 5 * std::size_t(o_.grid) * std::size_t(o_.grid) * lbp_bins;
  }

  // The canvas read, on the aligned face at zoom (scale 1).
  cv::Rect region_box() const { return box_; }

  cv::Mat region(const cv::Mat& image, const face::landmarks5& marks) const {
    return aligned_gray(image, marks, o_.align, o_.zoom, box_);
  }
  // The face's landmarks in region() pixel coordinates.
  face::landmarks5 region_points(const face::landmarks5& marks) const {
    return aligned_box_transform(marks, o_.align, o_.zoom, box_).apply(marks);
  }

  // Histograms of a canvas (8-bit gray, any size) with landmarks `points`
  // in its pixel coordinates.
  void describe(const cv::Mat& canvas, const face::landmarks5& points, std::span<float> out) const {
    check_output(out, dim(), "lbp_multiscale");
    if (canvas.type() != CV_8UC1 || canvas.empty())
      throw error("lbp_multiscale: expected a non-empty 8-bit gray canvas, found OpenCV type " +
                  std::to_string(canvas.type()));
    std::fill(out.begin(), out.end(), 0.0f);
    const int m = circle_.margin(), side = o_.grid * o_.cell;
    const std::size_t per_landmark = std::size_t(o_.grid) * std::size_t(o_.grid) * lbp_bins;
    // Largest scale first: each is resized from the one before it.
    std::vector<std::size_t> order(o_.scales.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return o_.scales[a] > o_.scales[b]; });
    cv::Mat previous = canvas, scaled, bins;
    face::landmarks5 at = points;  // landmarks in `previous`
    for (const std::size_t si : order) {
      const double s = o_.scales[si];
      const cv::Size size(std::max(1, int(std::lround(canvas.cols * s))), std::max(1, int(std::lround(canvas.rows * s))));
      if (size == previous.size())
        scaled = previous;
      else
        cv::resize(previous, scaled, size, 0, 0, cv::INTER_LINEAR);
      // Pixel centres: x' + 0.5 = (x + 0.5) * (new width / old width).
      const double fx = double(size.width) / previous.cols, fy = double(size.height) / previous.rows;
      for (auto& p : at.points) p = {(p.x + 0.5) * fx - 0.5, (p.y + 0.5) * fy - 0.5};
      previous = scaled;
      // Top-left corner of each landmark's square, and the union of the squares.
      std::array<cv::Point, 5> corner;
      cv::Rect all;
      for (std::size_t l = 0; l < 5; ++l) {
        const face::point2 p = at.points[l];
        corner[l] = cv::Point(int(std::lround(p.x - 0.5 * side)), int(std::lround(p.y - 0.5 * side)));
        const cv::Rect square(corner[l], cv::Size(side, side));
        all = l ? (all | square) : square;
      }
      const cv::Rect valid(m, m, std::max(0, scaled.cols - 2 * m), std::max(0, scaled.rows - 2 * m));
      const cv::Rect roi = all & valid;
      if (roi.empty()) continue;  // every square off the canvas: zero histograms
      lbp_uniform_bins(scaled, roi, circle_, bins);
      for (std::size_t l = 0; l < 5; ++l)
        for (int r = 0; r < o_.grid; ++r)
          for (int c = 0; c < o_.grid; ++c) {
            const std::size_t offset =
                (si * 5 + l) * per_landmark + (std::size_t(r) * std::size_t(o_.grid) + std::size_t(c)) * lbp_bins;
            const auto h = out.subspan(offset, lbp_bins);
            const cv::Rect cell(corner[l].x + c * o_.cell - roi.x, corner[l].y + r * o_.cell - roi.y, o_.cell, o_.cell);
            lbp_histogram(bins, cell, h.data());
            normalise_histogram(h, o_.norm);
          }
    }
  }

  void extract(const cv::Mat& image, const face::landmarks5& marks, std::span<float> out) const {
    check_output(out, dim(), "lbp_multiscale");
    describe(region(image, marks), region_points(marks), out);
  }
  std::vector<float> extract(const cv::Mat& image, const face::landmarks5& marks) const {
    return features::extract(*this, image, marks);
  }

 private:
  lbp_multiscale_options o_;
  lbp_circle circle_;
  cv::Rect box_;
};

static_assert(feature_extractor<lbp_grid>);
static_assert(feature_extractor<lbp_multiscale>);

}  // namespace features
DEEPID_NAMESPACE_END
