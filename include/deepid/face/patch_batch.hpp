#pragma once
// Batches of patches for the ConvNets: for each patch type of a scheme, an
// N x C x H x W tensor over N faces (and the same for the flipped
// counterparts, and for training optionally jittered copies), cut in parallel
// over faces. Bad faces (unreadable image, degenerate landmarks) either stop
// the job or are reported and left out.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/jitter.hpp"
#include "deepid/face/patches.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct patch_batch {
  std::vector<std::size_t> types;          // scheme indices, one tensor each
  std::vector<batch4<float>> original;     // per type: N x C x H x W
  std::vector<batch4<float>> flipped;      // empty unless flips were asked for
  // Augmentation (jitter_options::copies = K > 0): per type, N K x C x H x W,
  // copy j of row i at row i K + j, and the copies' flipped counterparts
  // (when flips were asked for); empty when K = 0.
  std::size_t copies = 0;
  std::vector<batch4<float>> jittered;
  std::vector<batch4<float>> jittered_flipped;
  std::vector<std::size_t> faces;          // input index of each row kept
  std::vector<std::string> problems;       // "item: reason" for faces left out
};

struct face_source {
  // Returns the image (8-bit BGR) and landmarks of face i; throws on bad input.
  std::function<std::pair<cv::Mat, landmarks5>(std::size_t)> load;
  std::function<std::string(std::size_t)> name;
  std::size_t count = 0;
};

inline face_source faces_of(const face_set& set) {
  return {[&set](std::size_t i) { return std::pair{set.images.load(set.faces[i].image), set.faces[i].points}; },
          [&set](std::size_t i) { return set.faces[i].image; }, set.faces.size()};
}

// Cuts patch types `types` (all of S when empty) of every face of `source`,
// and `jitter.copies` jittered copies of each (face/jitter.hpp), copy j of
// input face i drawn from (jitter.seed, i, j). The tensors are filled in
// place, one row per input face; faces left out are squeezed out at the end
// (the only time the patches are held twice).
template <patch_scheme S>
patch_batch extract_patches(const face_source& source, std::vector<std::size_t> types = {}, bool flips = true,
                            on_bad_item policy = on_bad_item::fail, const alignment_template& t = {},
                            const jitter_options& jitter = {}) {
  if (types.empty())
    for (std::size_t i = 0; i < S::patches.size(); ++i) types.push_back(i);
  for (auto type : types)
    if (type >= S::patches.size())
      throw error("extract_patches: patch type " + std::to_string(type) + " is outside the scheme's " +
                  std::to_string(S::patches.size()) + " patches");
  jitter.validate(t.inter_ocular());
  const std::size_t n = source.count, copies = std::size_t(jitter.copies);
  patch_batch batch;
  batch.types = types;
  batch.copies = copies;
  const auto tensor = [](std::size_t rows, shape3 s) {
    return batch4<float>(std::array<std::size_t, 4>{rows, s.c, s.h, s.w});
  };
  for (auto type : types) {
    const shape3 s = S::patches[type].shape();
    batch.original.push_back(tensor(n, s));
    if (flips) batch.flipped.push_back(tensor(n, s));
    if (copies == 0) continue;
    batch.jittered.push_back(tensor(n * copies, s));
    if (flips) batch.jittered_flipped.push_back(tensor(n * copies, s));
  }
  std::vector<std::string> failure(n);

  const int threads = num_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
#endif
  for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i) {
    try {
      const std::size_t face = std::size_t(i);
      const auto [image, marks] = source.load(face);
      validate(marks, image.cols, image.rows, source.name(face));
      // Cutter 0 is the face as aligned, cutter j + 1 its copy j.
      const auto cut_all = [&](const face_cutter& cutter, std::vector<batch4<float>>& plain,
                               std::vector<batch4<float>>& mirrored, std::size_t row) {
        for (std::size_t k = 0; k < types.size(); ++k) {
          const std::size_t size = S::patches[types[k]].shape().size();
          cutter.template cut<S>(types[k], plain[k].data() + row * size, false);
          if (flips) cutter.template cut<S>(types[k], mirrored[k].data() + row * size, true);
        }
      };
      cut_all(face_cutter(image, marks, t), batch.original, batch.flipped, face);
      for (std::size_t j = 0; j < copies; ++j)
        cut_all(face_cutter(image, marks, t, draw_jitter(jitter, face, j)), batch.jittered, batch.jittered_flipped,
                face * copies + j);
    } catch (const std::exception& e) {
      failure[std::size_t(i)] = e.what();
    }
  }
  (void)threads;

  for (std::size_t i = 0; i < n; ++i) {
    if (failure[i].empty()) {
      batch.faces.push_back(i);
      continue;
    }
    if (policy == on_bad_item::fail) throw error(failure[i]);
    batch.problems.push_back(failure[i]);
  }
  const std::size_t kept = batch.faces.size();
  if (kept == n) return batch;
  // Keep the rows of the faces kept (`per_face` consecutive rows each).
  const auto squeeze = [&](batch4<float>& all, std::size_t per_face) {
    const auto& s = all.shape();
    const std::size_t size = s[1] * s[2] * s[3] * per_face;
    batch4<float> some(std::array<std::size_t, 4>{kept * per_face, s[1], s[2], s[3]});
    for (std::size_t row = 0; row < kept; ++row)
      std::copy_n(all.data() + batch.faces[row] * size, size, some.data() + row * size);
    all = std::move(some);
  };
  for (auto* set : {&batch.original, &batch.flipped})
    for (auto& tensor_k : *set) squeeze(tensor_k, 1);
  for (auto* set : {&batch.jittered, &batch.jittered_flipped})
    for (auto& tensor_k : *set) squeeze(tensor_k, copies);
  return batch;
}

// Per-patch-type normalisation learnt from training patches: subtract the
// mean patch (per channel and pixel), divide by one scale (the standard
// deviation of all centred values). Saved with the model that reads them.
struct patch_normalisation {
  std::vector<float> mean;  // C x H x W
  float scale = 1.0f;       // divide by this

  static patch_normalisation fit(const batch4<float>& patches) {
    const std::size_t n = patches.shape()[0], size = patches.size() / std::max<std::size_t>(n, 1);
    if (n == 0) throw error("patch_normalisation: no training patches to learn from");
    patch_normalisation norm;
    std::vector<double> mean(size, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < size; ++j) mean[j] += patches.data()[i * size + j];
    for (auto& m : mean) m /= double(n);
    double var = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < size; ++j) {
        const double d = patches.data()[i * size + j] - mean[j];
        var += d * d;
      }
    norm.mean.assign(mean.begin(), mean.end());
    norm.scale = float(std::sqrt(var / double(n * size)));
    if (!(norm.scale > 1e-6f)) norm.scale = 1.0f;  // constant patches: centre only
    return norm;
  }

  void apply(batch4<float>& patches) const {
    const std::size_t n = patches.shape()[0], size = mean.size();
    if (patches.size() != n * size)
      throw error("patch_normalisation: patches of " + std::to_string(patches.size() / std::max<std::size_t>(n, 1)) +
                  " values, normalisation learnt for " + std::to_string(size));
    const float inv = 1.0f / scale;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < size; ++j) patches.data()[i * size + j] = (patches.data()[i * size + j] - mean[j]) * inv;
  }
};

}  // namespace face
DEEPID_NAMESPACE_END
