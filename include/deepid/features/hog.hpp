#pragma once
// Histograms of oriented gradients (Dalal and Triggs 2005) on the aligned
// gray face: centred-difference gradients, magnitude-weighted votes into
// unsigned orientation bins per cell, overlapping blocks of cells normalised
// with L2-Hys (L2, clip, L2 again).
//
// Orientations: theta = atan2(gy, gx) folded into [0, 180) degrees, with
// gx = I(x+1, y) - I(x-1, y) and gy = I(x, y+1) - I(x, y-1) (image y grows
// downwards, OpenCV's convention). Bin k is centred on k * 180 / bins degrees
// and a vote splits linearly between the two nearest bins, so a vertical edge
// (gradient along x, theta 0) votes into bin 0 only and a horizontal edge
// (theta 90) into the bins either side of 90 degrees. Each pixel votes into
// the one cell that holds it (no spatial interpolation).
#include <algorithm>
#include <cmath>
#include <cstddef>
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

namespace detail {
// atan(a) for a in [0, 1], polynomial of degree 11: error below 2e-6 rad.
inline float atan_unit(float a) {
  const float s = a * a;
  return a * (0.99997726f +
              s * (-0.33262347f + s * (0.19354346f + s * (-0.11643287f + s * (0.05265332f + s * -0.01172120f)))));
}

// Gradient magnitude and fractional orientation bin (in [0, bins)) of a row of
// pixels; `mid` points at the row, `up` and `down` at its neighbours.
// Branch-free so that the compiler vectorises it (the square root goes
// through OpenCV's vectorised cv::magnitude: std::sqrt may set errno, which
// keeps GCC from vectorising a loop that calls it).
inline void hog_gradient_row(const std::uint8_t* __restrict up, const std::uint8_t* __restrict mid,
                             const std::uint8_t* __restrict down, int width, float to_bin, float bins,
                             float* __restrict gx_row, float* __restrict gy_row, float* __restrict mag,
                             float* __restrict pos) {
  constexpr float pi = std::numbers::pi_v<float>;
  for (int x = 0; x < width; ++x) {
    const float gx = float(int(mid[x + 1]) - int(mid[x - 1])), gy = float(int(down[x]) - int(up[x]));
    const float ax = std::abs(gx), ay = std::abs(gy);
    const float lo = std::min(ax, ay), hi = std::max(ax, ay);
    float t = atan_unit(lo / std::max(hi, 1e-30f));  // [0, pi/4]
    t = ay > ax ? pi / 2 - t : t;                     // atan(|gy| / |gx|), in [0, pi/2]
    // Folded into [0, pi]: pi - t where gx and gy have opposite signs; pi wraps to bin 0 below.
    t = (gx < 0) != (gy < 0) ? pi - t : t;
    float p = t * to_bin;
    p = p >= bins ? p - bins : p;
    gx_row[x] = gx, gy_row[x] = gy;
    pos[x] = p;
  }
  const cv::Mat gxm(1, width, CV_32F, gx_row), gym(1, width, CV_32F, gy_row);
  cv::Mat magm(1, width, CV_32F, mag);
  cv::magnitude(gxm, gym, magm);
}
}  // namespace detail

struct hog_options {
  double zoom = 1.0;       // the aligned face: the template canvas (96x112) scaled by zoom
  int cell = 8;            // cell side, pixels of the aligned face
  int cols = 0, rows = 0;  // cells, centred on the canvas; 0: as many as fit (12 x 14)
  int block = 2;           // cells per block side
  int block_stride = 1;    // cells between neighbouring blocks
  int bins = 9;            // unsigned orientations over [0, 180) degrees
  float clip = 0.2f;       // L2-Hys clipping after the first L2 normalisation
  face::alignment_template align{};
};

// Feature layout: blocks row-major (top-left first); in each block its cells
// row-major, `bins` values each.
class hog {
 public:
  explicit hog(const hog_options& options = {}) : o_(options) {
    if (!(o_.zoom > 0 && std::isfinite(o_.zoom))) throw error("hog: zoom must be positive, found " + std::to_string(o_.zoom));
    if (o_.cell < 1) throw error("hog: the cell side must be at least 1 px, found " + std::to_string(o_.cell));
    if (o_.bins < 2 || o_.bins > 180) throw error("hog: bins must lie in [2, 180], found " + std::to_string(o_.bins));
    if (o_.block < 1 || o_.block_stride < 1)
      throw error("hog: block (" + std::to_string(o_.block) + ") and block stride (" + std::to_string(o_.block_stride) +
                  ") must be at least 1 cell");
    if (!(o_.clip > 0)) throw error("hog: the L2-Hys clip must be positive, found " + std::to_string(o_.clip));
    if (o_.cols < 0 || o_.rows < 0) throw error("hog: the grid cannot have a negative number of cells");
    const int width = int(std::lround(o_.align.width * o_.zoom)), height = int(std::lround(o_.align.height * o_.zoom));
    cols_ = o_.cols ? o_.cols : width / o_.cell;
    rows_ = o_.rows ? o_.rows : height / o_.cell;
    if (cols_ < o_.block || rows_ < o_.block)
      throw error("hog: a grid of " + std::to_string(cols_) + "x" + std::to_string(rows_) + " cells of " +
                  std::to_string(o_.cell) + " px (on the " + std::to_string(width) + "x" + std::to_string(height) +
                  " aligned face) cannot hold one block of " + std::to_string(o_.block) + "x" + std::to_string(o_.block) +
                  " cells");
    blocks_x_ = (cols_ - o_.block) / o_.block_stride + 1;
    blocks_y_ = (rows_ - o_.block) / o_.block_stride + 1;
    box_ = cv::Rect((width - cols_ * o_.cell) / 2 - 1, (height - rows_ * o_.cell) / 2 - 1, cols_ * o_.cell + 2,
                    rows_ * o_.cell + 2);
  }

  const hog_options& options() const { return o_; }
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  int blocks_x() const { return blocks_x_; }
  int blocks_y() const { return blocks_y_; }
  std::size_t block_dim() const { return std::size_t(o_.block) * std::size_t(o_.block) * std::size_t(o_.bins); }
  std::size_t dim() const { return std::size_t(blocks_x_) * std::size_t(blocks_y_) * block_dim(); }

  // The region read, on the aligned canvas: the cells plus one pixel for the gradients.
  cv::Rect region_box() const { return box_; }

  cv::Mat region(const cv::Mat& image, const face::landmarks5& marks) const {
    return aligned_gray(image, marks, o_.align, o_.zoom, box_);
  }

  // Orientation histograms of the cells of a region (8-bit gray,
  // region_box().size()): rows x cols x bins, before block normalisation.
  std::vector<float> cell_histograms(const cv::Mat& region) const {
    if (region.type() != CV_8UC1 || region.cols != box_.width || region.rows != box_.height)
      throw error("hog: expected an 8-bit gray region of " + std::to_string(box_.width) + "x" +
                  std::to_string(box_.height) + " px, found " + std::to_string(region.cols) + "x" +
                  std::to_string(region.rows) + " of OpenCV type " + std::to_string(region.type()));
    const std::size_t bins = std::size_t(o_.bins);
    std::vector<float> cells(std::size_t(rows_) * std::size_t(cols_) * bins, 0.0f);
    const int w = cols_ * o_.cell, h = rows_ * o_.cell;
    const float to_bin = float(o_.bins / std::numbers::pi), nbins = float(o_.bins);
    std::vector<float> scratch(4 * static_cast<std::size_t>(w));
    float *gx = scratch.data(), *gy = gx + w, *mag = gy + w, *pos = mag + w;
    for (int y = 0; y < h; ++y) {
      detail::hog_gradient_row(region.ptr<std::uint8_t>(y) + 1, region.ptr<std::uint8_t>(y + 1) + 1,
                               region.ptr<std::uint8_t>(y + 2) + 1, w, to_bin, nbins, gx, gy, mag, pos);
      float* row_cells = cells.data() + std::size_t(y / o_.cell) * std::size_t(cols_) * bins;
      for (int x = 0; x < w; ++x) {
        const float p = pos[x], m = mag[x];
        int k0 = int(p);
        const float f = p - float(k0);
        if (k0 >= o_.bins) k0 = o_.bins - 1;
        const int k1 = k0 + 1 == o_.bins ? 0 : k0 + 1;
        float* hist = row_cells + std::size_t(x / o_.cell) * bins;
        hist[k0] += m * (1 - f);
        hist[k1] += m * f;
      }
    }
    return cells;
  }

  // The descriptor of a region (8-bit gray, region_box().size()).
  void describe(const cv::Mat& region, std::span<float> out) const {
    check_output(out, dim(), "hog");
    const std::vector<float> cells = cell_histograms(region);
    const std::size_t bins = std::size_t(o_.bins), bd = block_dim();
    // eps keeps an empty block (the black border) at zero without dividing by zero.
    const float eps = 1e-3f;
    float* o = out.data();
    for (int by = 0; by < blocks_y_; ++by)
      for (int bx = 0; bx < blocks_x_; ++bx) {
        float* v = o;
        for (int cy = 0; cy < o_.block; ++cy)
          for (int cx = 0; cx < o_.block; ++cx) {
            const std::size_t cell = std::size_t(by * o_.block_stride + cy) * std::size_t(cols_) +
                                     std::size_t(bx * o_.block_stride + cx);
            std::copy_n(cells.data() + cell * bins, bins, o);
            o += bins;
          }
        double ss = 0;
        for (std::size_t k = 0; k < bd; ++k) ss += double(v[k]) * v[k];
        float inv = float(1.0 / std::sqrt(ss + eps * eps));
        ss = 0;
        for (std::size_t k = 0; k < bd; ++k) {
          v[k] = std::min(v[k] * inv, o_.clip);
          ss += double(v[k]) * v[k];
        }
        inv = float(1.0 / std::sqrt(ss + eps * eps));
        for (std::size_t k = 0; k < bd; ++k) v[k] *= inv;
      }
  }

  void extract(const cv::Mat& image, const face::landmarks5& marks, std::span<float> out) const {
    check_output(out, dim(), "hog");
    describe(region(image, marks), out);
  }
  std::vector<float> extract(const cv::Mat& image, const face::landmarks5& marks) const {
    return features::extract(*this, image, marks);
  }

 private:
  hog_options o_;
  int cols_ = 0, rows_ = 0, blocks_x_ = 0, blocks_y_ = 0;
  cv::Rect box_;
};

static_assert(feature_extractor<hog>);

}  // namespace features
DEEPID_NAMESPACE_END
