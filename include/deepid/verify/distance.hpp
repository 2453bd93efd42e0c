#pragma once
// Distance verifiers: L1, L2 and cosine. Scores are similarities (higher =
// same): L1 and L2 return the NEGATED distance, cosine the cosine of the
// angle. fit() learns nothing but the threshold (from training pairs).
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/threads.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

namespace metric {
struct l1 {
  static constexpr const char* name = "l1";
  static double similarity(const float* a, const float* b, std::size_t d) {
    double s = 0;
    for (std::size_t i = 0; i < d; ++i) s += std::abs(double(a[i]) - double(b[i]));
    return -s;
  }
};
struct l2 {
  static constexpr const char* name = "l2";
  static double similarity(const float* a, const float* b, std::size_t d) {
    double s = 0;
    for (std::size_t i = 0; i < d; ++i) s += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    return -std::sqrt(s);
  }
};
struct cosine {
  static constexpr const char* name = "cosine";
  // Zero vectors have no direction: their cosine with anything is 0.
  static double similarity(const float* a, const float* b, std::size_t d) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < d; ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
  }
};
}  // namespace metric

template <class Metric>
class distance_verifier : public threshold_holder {
 public:
  static std::string kind() { return Metric::name; }

  void fit(const training_data& data) {
    dim_ = data.features.shape()[1];
    fitted_ = true;
    if (!data.pairs.empty()) learn_threshold(scores(data.features, data.pairs), data.pairs);
  }
  bool fitted() const { return fitted_; }

  double score(std::span<const float> a, std::span<const float> b) const {
    if (a.size() != b.size())
      throw error(kind() + ": feature lengths differ (" + std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
    if (fitted_ && a.size() != dim_)
      throw error(kind() + ": features have " + std::to_string(a.size()) + " dimensions, fitted on " + std::to_string(dim_));
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!std::isfinite(a[i]) || !std::isfinite(b[i])) throw error(kind() + ": a feature value is not finite");
    return Metric::similarity(a.data(), b.data(), a.size());
  }

  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    check_pairs(pairs, x.shape()[0], "distance verifier");
    const std::size_t d = x.shape()[1];
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!std::isfinite(x.data()[i]))
        throw error(kind() + ": feature " + std::to_string(i % d) + " of row " + std::to_string(i / d) + " is not finite");
    std::vector<double> out(pairs.size());
    const int threads = num_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
    for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(pairs.size()); ++k)
      out[std::size_t(k)] = Metric::similarity(x.data() + pairs[std::size_t(k)].first * d,
                                               x.data() + pairs[std::size_t(k)].second * d, d);
    (void)threads;
    return out;
  }

  io::record_writer record() const {
    io::record_writer w("verifier/" + kind(), 1);
    w.add_scalar("dim", double(dim_));
    w.add_scalar("fitted", fitted_ ? 1.0 : 0.0);
    save_threshold(w);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }
  static distance_verifier load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static distance_verifier from_record(const io::record_reader& r) {
    distance_verifier v;
    v.dim_ = std::size_t(r.scalar("dim"));
    v.fitted_ = r.scalar("fitted") != 0.0;
    v.load_threshold(r);
    return v;
  }

 private:
  std::size_t dim_ = 0;
  bool fitted_ = false;
};

using l1_verifier = distance_verifier<metric::l1>;
using l2_verifier = distance_verifier<metric::l2>;
using cosine_verifier = distance_verifier<metric::cosine>;

static_assert(verifier<l1_verifier> && verifier<l2_verifier> && verifier<cosine_verifier>);

}  // namespace verify
DEEPID_NAMESPACE_END
