// Classic features (LBP grid, multi-scale LBP around landmarks, HOG) on real
// LFW faces: finite values for a few hundred images, and a sanity check that
// the features carry identity: on View 2 pairs, the mean cosine similarity of
// same-person pairs exceeds that of different-person pairs. The best-threshold
// accuracy on these pairs is printed for information (no training involved).
#include <doctest/doctest.h>

#include <deepid/core/progress.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/features/extractor.hpp>
#include <deepid/features/hog.hpp>
#include <deepid/features/lbp.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "data_root.hpp"

namespace dp = deepid;
namespace fc = deepid::face;
namespace ft = deepid::features;

namespace {

struct pair_set {
  std::vector<std::string> images;                     // unique, in first-use order
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // indices into images
  std::vector<bool> same;
};

// The first `per_half` matched and `per_half` mismatched pairs of View 2 fold 0.
pair_set view2_sample(const fc::lfw_dataset& lfw, std::size_t per_half) {
  const auto all = lfw.view2_pairs();
  pair_set s;
  std::map<std::string, std::size_t> index;
  auto id = [&](const std::string& name) {
    const auto [it, added] = index.emplace(name, s.images.size());
    if (added) s.images.push_back(name);
    return it->second;
  };
  std::size_t same = 0, different = 0;
  for (const auto& p : all) {
    if (p.fold != 0) break;
    if (p.same ? same++ >= per_half : different++ >= per_half) continue;
    s.pairs.emplace_back(id(p.first), id(p.second));
    s.same.push_back(p.same);
  }
  return s;
}

double cosine(const float* a, const float* b, std::size_t n, const std::vector<double>* mean = nullptr) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double x = a[k] - (mean ? (*mean)[k] : 0.0), y = b[k] - (mean ? (*mean)[k] : 0.0);
    ab += x * y, aa += x * x, bb += y * y;
  }
  return ab / std::sqrt(std::max(aa * bb, 1e-30));
}

// Best accuracy of "same when score > threshold" over all thresholds.
double best_accuracy(const std::vector<double>& score, const std::vector<bool>& same) {
  std::vector<std::size_t> order(score.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return score[a] < score[b]; });
  std::size_t positives = 0;
  for (bool s : same) positives += s;
  // Threshold below everything: all called same.
  std::size_t correct = positives, best = correct;
  for (auto i : order) {
    correct += same[i] ? -1 : 1;  // i moves to "different"
    best = std::max(best, correct);
  }
  return double(best) / double(score.size());
}

template <class E>
void check_on_lfw(const char* label, const E& extractor, const fc::lfw_dataset& lfw, const pair_set& sample) {
  fc::face_source source{[&](std::size_t i) {
                           return std::pair{lfw.load(sample.images[i]), lfw.landmarks().at(sample.images[i]).points};
                         },
                         [&](std::size_t i) { return sample.images[i]; }, sample.images.size()};
  dp::progress_bar bar(label, source.count, {.unit = "faces"});
  const auto start = std::chrono::steady_clock::now();
  const auto f = ft::extract_all(extractor, source, bar.callback());
  bar.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t n = source.count, d = extractor.dim();
  REQUIRE(f.features.shape()[0] == n);
  REQUIRE(f.features.shape()[1] == d);
  CHECK(f.problems.empty());
  std::size_t not_finite = 0, empty_rows = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double ss = 0;
    for (std::size_t k = 0; k < d; ++k) {
      const float v = f.features.data()[i * d + k];
      not_finite += !std::isfinite(v);
      ss += double(v) * v;
    }
    empty_rows += !(ss > 0);
  }
  CHECK(not_finite == 0);
  CHECK(empty_rows == 0);

  std::vector<double> mean(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < d; ++k) mean[k] += f.features.data()[i * d + k] / double(n);
  std::vector<double> raw, centred;
  double same_sum = 0, diff_sum = 0;
  std::size_t same_n = 0, diff_n = 0;
  for (std::size_t p = 0; p < sample.pairs.size(); ++p) {
    const float* a = f.features.data() + sample.pairs[p].first * d;
    const float* b = f.features.data() + sample.pairs[p].second * d;
    raw.push_back(cosine(a, b, d));
    centred.push_back(cosine(a, b, d, &mean));
    (sample.same[p] ? same_sum : diff_sum) += raw.back();
    (sample.same[p] ? same_n : diff_n) += 1;
  }
  const double same_mean = same_sum / double(same_n), diff_mean = diff_sum / double(diff_n);
  std::cout << label << ": dim " << d << ", " << n << " faces in " << seconds << " s (" << 1e3 * seconds / double(n)
            << " ms/face with " << dp::num_threads() << " threads incl. JPEG decoding); cosine same " << same_mean
            << ", different " << diff_mean << "; best-threshold accuracy on these " << sample.pairs.size()
            << " pairs: cosine " << best_accuracy(raw, sample.same) << ", centred cosine "
            << best_accuracy(centred, sample.same) << "\n";
  CHECK(same_mean > diff_mean);
}

}  // namespace

TEST_CASE("classic features on LFW: finite, and same-person pairs are more similar than different-person pairs") {
  const auto lfw = fc::lfw_dataset::open(data_folder("lfw"));
  const auto sample = view2_sample(lfw, 150);
  REQUIRE(sample.pairs.size() == 300);
  MESSAGE(sample.images.size() << " LFW images in 300 View 2 pairs (fold 1)");
  check_on_lfw("LBP grid", ft::lbp_grid{}, lfw, sample);
  check_on_lfw("LBP multi-scale", ft::lbp_multiscale{}, lfw, sample);
  check_on_lfw("HOG", ft::hog{}, lfw, sample);
}
