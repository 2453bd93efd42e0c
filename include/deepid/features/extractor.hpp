#pragma once
// What every face-feature extractor offers, and running one over many faces.
//
// A `feature_extractor` knows its dimension and writes the feature of one face
// (an 8-bit image and its five landmarks) into a span of exactly dim() floats.
// extract() must be const and safe to call from many threads at once: the
// classic extractors (features/lbp.hpp, features/hog.hpp) hold only options.
//
//   features::lbp_grid lbp;                                  // or hog, lbp_multiscale, ...
//   progress_bar bar("LBP", source.count, {.unit = "faces"});
//   auto f = features::extract_all(lbp, source, bar.callback());
//   // f.features: N x lbp.dim(); f.faces[row]: input index of each row
//
// extract_all parallelises over faces (OpenMP, num_threads()); each face is
// computed independently, so the result does not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/progress.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/face/alignment.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/landmarks.hpp"
#include "deepid/face/patch_batch.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

template <class E>
concept feature_extractor =
    requires(const E& e, const cv::Mat& image, const face::landmarks5& marks, std::span<float> out) {
      { e.dim() } -> std::convertible_to<std::size_t>;
      { e.extract(image, marks, out) } -> std::same_as<void>;
    };

// The feature of one face as a new vector.
template <feature_extractor E>
std::vector<float> extract(const E& e, const cv::Mat& image, const face::landmarks5& marks) {
  std::vector<float> out(std::size_t(e.dim()));
  e.extract(image, marks, std::span<float>(out));
  return out;
}

// Throws unless `out` holds exactly `dim` floats; `who` names the extractor.
inline void check_output(std::span<float> out, std::size_t dim, const char* who) {
  if (out.size() != dim)
    throw error(std::string(who) + ": the output span holds " + std::to_string(out.size()) + " floats, the feature has " +
                std::to_string(dim));
}

// Throws unless `image` is a non-empty 8-bit gray, BGR or BGRA image; the
// message names `where`.
inline void check_image(const cv::Mat& image, const std::string& where = "face image") {
  if (image.empty()) throw error(where + ": the image is empty");
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    throw error(where + ": expected an 8-bit gray, BGR or BGRA image, found depth " + std::to_string(image.depth()) +
                " (OpenCV code; 0 is 8-bit) with " + std::to_string(image.channels()) + " channels");
}

// 8-bit gray of an 8-bit gray, BGR or BGRA image (OpenCV's 0.299 R + 0.587 G
// + 0.114 B); anything else is refused with a message naming `where`.
inline cv::Mat gray8(const cv::Mat& image, const std::string& where = "face image") {
  check_image(image, where);
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, image.channels() == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  return gray;
}

// Image -> pixel coordinates of `box`, a rectangle on the aligned canvas of
// aligned_face(image, marks, t, zoom) (it may reach past that canvas).
inline face::similarity aligned_box_transform(const face::landmarks5& marks, const face::alignment_template& t,
                                              double zoom, cv::Rect box) {
  return face::similarity{1, 0, -double(box.x), -double(box.y)}.then_after(
      face::similarity{zoom, 0, 0, 0}.then_after(face::alignment_transform(marks, t)));
}

// The 8-bit gray aligned face over `box` (bilinear, black outside the image):
// the common start of the classic extractors.
inline cv::Mat aligned_gray(const cv::Mat& image, const face::landmarks5& marks, const face::alignment_template& t,
                            double zoom, cv::Rect box) {
  face::validate(marks, image.cols, image.rows, "face");
  return face::warp(gray8(image), aligned_box_transform(marks, t, zoom, box), box.width, box.height);
}

// Features of many faces: one row per face that could be used.
struct feature_batch {
  matrix<float> features;              // rows x dim
  std::vector<std::size_t> faces;      // input index of each row
  std::vector<std::string> problems;   // "image name: reason" for faces left out
};

// Computes the features of every face of `source` in parallel over faces.
// A face that cannot be used (unreadable image, wrong pixel type, degenerate
// landmarks) either stops the job with an error naming it (`on_bad_item::fail`,
// the first such face in input order) or is left out and listed in `problems`
// (`on_bad_item::skip`); a message that does not already name the face gets
// its name in front. `progress(done, total)` is called after each face.
template <feature_extractor E>
feature_batch extract_all(const E& e, const face::face_source& source, const progress_callback& progress = {},
                          face::on_bad_item policy = face::on_bad_item::fail) {
  const std::size_t n = source.count, dim = std::size_t(e.dim());
  feature_batch result;
  result.features = matrix<float>::from_shape({n, dim});
  std::vector<std::string> failure(n);
  std::vector<char> failed(n, 0);
  std::mutex progress_mutex;
  std::size_t done = 0;
  std::exception_ptr cancelled;
  std::atomic<bool> stop{false};
  auto name_of = [&](std::size_t i) -> std::string {
    if (source.name) try {
        return source.name(i);
      } catch (...) {
      }
    return "face " + std::to_string(i);
  };

  const int threads = num_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
#endif
  for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(n); ++k) {
    if (stop.load(std::memory_order_relaxed)) continue;
    const std::size_t i = std::size_t(k);
    float* row = result.features.data() + i * dim;
    auto fail = [&](const std::string& what) {
      const std::string name = name_of(i);
      failed[i] = 1;
      failure[i] = what.find(name) == std::string::npos ? name + ": " + what : what;
      std::fill_n(row, dim, 0.0f);
    };
    try {
      const auto [image, marks] = source.load(i);
      const std::string name = name_of(i);
      check_image(image, name);
      face::validate(marks, image.cols, image.rows, name);
      e.extract(image, marks, std::span<float>(row, dim));
    } catch (const std::exception& x) {
      fail(x.what());
    } catch (...) {
      fail("unknown error");
    }
    if (progress) {
      std::lock_guard lock(progress_mutex);
      if (!cancelled) try {
          progress(++done, n);
        } catch (...) {
          cancelled = std::current_exception();
          stop = true;
        }
    }
  }
  (void)threads;
  if (cancelled) std::rethrow_exception(cancelled);

  for (std::size_t i = 0; i < n; ++i) {
    if (!failed[i]) {
      result.faces.push_back(i);
      continue;
    }
    if (policy == face::on_bad_item::fail) throw error(failure[i]);
    result.problems.push_back(failure[i]);
  }
  if (result.faces.size() < n) {  // compact the rows kept, in order
    for (std::size_t row = 0; row < result.faces.size(); ++row)
      if (result.faces[row] != row)
        std::copy_n(result.features.data() + result.faces[row] * dim, dim, result.features.data() + row * dim);
    matrix<float> kept = matrix<float>::from_shape({result.faces.size(), dim});
    std::copy_n(result.features.data(), kept.size(), kept.data());
    result.features = std::move(kept);
  }
  return result;
}

// The same over `count` faces given by `load(i)` -> {image, landmarks}
// (anything destructurable into a cv::Mat and a landmarks5); faces are named
// "face i" in messages.
template <feature_extractor E, class Load>
  requires std::invocable<const Load&, std::size_t>
feature_batch extract_all(const E& e, std::size_t count, const Load& load, const progress_callback& progress = {},
                          face::on_bad_item policy = face::on_bad_item::fail) {
  face::face_source source{[&load](std::size_t i) {
                             auto [image, marks] = load(i);
                             return std::pair<cv::Mat, face::landmarks5>{image, marks};
                           },
                           [](std::size_t i) { return "face " + std::to_string(i); }, count};
  return extract_all(e, source, progress, policy);
}

}  // namespace features
DEEPID_NAMESPACE_END
