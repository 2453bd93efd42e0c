#pragma once
// The verification signal of DeepID2: a loss on a pair of
// features f_i, f_j and whether they show the same identity.
//
//   l2      : same  ½ d²,  different ½ max(0, m - d)²     d = |f_i - f_j|_2
//   l2_pos  : same pairs only (the "L2+" ablation)
//   l2_neg  : different pairs only (the "L2-" ablation)
//   l1      : same  d₁,    different max(0, m - d₁)       d₁ = |f_i - f_j|_1
//   cosine  : ½ (y - σ(w cos(f_i, f_j) + b))², y in {1, 0}, w and b learnt
//
// The margin m is not learnt by gradient (it would collapse to 0): it is
// re-set every N pairs to the distance threshold that minimised the
// verification error over the last N pairs (margin_refitter below).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <span>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"

DEEPID_NAMESPACE_BEGIN
namespace loss {

enum class verification_kind { l2, l2_pos, l2_neg, l1, cosine };

inline const char* verification_name(verification_kind k) {
  switch (k) {
    case verification_kind::l2: return "l2";
    case verification_kind::l2_pos: return "l2+";
    case verification_kind::l2_neg: return "l2-";
    case verification_kind::l1: return "l1";
    case verification_kind::cosine: return "cosine";
  }
  return "?";
}

// The distances the margin is fitted on: |f_i - f_j|_2 squared (the L2 forms
// use its square root) and |f_i - f_j|_1.
template <class T>
double squared_l2_distance(const T* fi, const T* fj, std::size_t dim) {
  double d2 = 0;
  for (std::size_t k = 0; k < dim; ++k) d2 += double(fi[k] - fj[k]) * double(fi[k] - fj[k]);
  return d2;
}

template <class T>
double l1_distance(const T* fi, const T* fj, std::size_t dim) {
  double d = 0;
  for (std::size_t k = 0; k < dim; ++k) d += std::abs(double(fi[k] - fj[k]));
  return d;
}

// The measure verification_pair reports for a pair, without its loss: the
// L2 or L1 distance (the cosine form: its similarity).
template <class T>
double pair_measure(verification_kind kind, const T* fi, const T* fj, std::size_t dim) {
  switch (kind) {
    case verification_kind::l2:
    case verification_kind::l2_pos:
    case verification_kind::l2_neg: return std::sqrt(squared_l2_distance(fi, fj, dim));
    case verification_kind::l1: return l1_distance(fi, fj, dim);
    case verification_kind::cosine: {
      double ab = 0, aa = 0, bb = 0;
      for (std::size_t k = 0; k < dim; ++k) ab += double(fi[k]) * fj[k], aa += double(fi[k]) * fi[k], bb += double(fj[k]) * fj[k];
      return ab / (std::sqrt(std::max(aa, 1e-24)) * std::sqrt(std::max(bb, 1e-24)));
    }
  }
  return 0;
}

// Loss of one pair; adds its gradients to gi, gj (length dim) and, for the
// cosine form, to dw, db. Returns the loss and the pair's distance (cosine
// form: the similarity) through `measure`.
template <class T>
double verification_pair(verification_kind kind, const T* fi, const T* fj, std::size_t dim, bool same, double margin,
                         T* gi, T* gj, double w = 1, double b = 0, double* dw = nullptr, double* db = nullptr,
                         double* measure = nullptr) {
  switch (kind) {
    case verification_kind::l2:
    case verification_kind::l2_pos:
    case verification_kind::l2_neg: {
      const double d2 = squared_l2_distance(fi, fj, dim);
      const double d = std::sqrt(d2);
      if (measure) *measure = d;
      if (same) {
        if (kind == verification_kind::l2_neg) return 0;
        for (std::size_t k = 0; k < dim; ++k) {
          const T g = fi[k] - fj[k];
          gi[k] += g, gj[k] -= g;
        }
        return 0.5 * d2;
      }
      if (kind == verification_kind::l2_pos || d >= margin) return 0;
      // d/dfi ½(m - d)² = -(m - d) (fi - fj) / d; guard d -> 0.
      const double scale = -(margin - d) / std::max(d, 1e-12);
      for (std::size_t k = 0; k < dim; ++k) {
        const T g = T(scale * double(fi[k] - fj[k]));
        gi[k] += g, gj[k] -= g;
      }
      return 0.5 * (margin - d) * (margin - d);
    }
    case verification_kind::l1: {
      const double d = l1_distance(fi, fj, dim);
      if (measure) *measure = d;
      const double sign = same ? 1.0 : -1.0;
      if (!same && d >= margin) return 0;
      for (std::size_t k = 0; k < dim; ++k) {
        const double diff = double(fi[k] - fj[k]);
        const T g = T(sign * (diff > 0 ? 1.0 : diff < 0 ? -1.0 : 0.0));
        gi[k] += g, gj[k] -= g;
      }
      return same ? d : margin - d;
    }
    case verification_kind::cosine: {
      double ab = 0, aa = 0, bb = 0;
      for (std::size_t k = 0; k < dim; ++k) ab += double(fi[k]) * fj[k], aa += double(fi[k]) * fi[k], bb += double(fj[k]) * fj[k];
      const double na = std::sqrt(std::max(aa, 1e-24)), nb = std::sqrt(std::max(bb, 1e-24));
      const double c = ab / (na * nb);
      if (measure) *measure = c;
      const double z = w * c + b, s = 1.0 / (1.0 + std::exp(-z)), y = same ? 1.0 : 0.0;
      const double g = -(y - s) * s * (1 - s);  // dLoss/dz
      if (dw) *dw += g * c;
      if (db) *db += g;
      const double gc = g * w;
      for (std::size_t k = 0; k < dim; ++k) {
        gi[k] += T(gc * (double(fj[k]) / (na * nb) - c * double(fi[k]) / (na * na)));
        gj[k] += T(gc * (double(fi[k]) / (na * nb) - c * double(fj[k]) / (nb * nb)));
      }
      return 0.5 * (y - s) * (y - s);
    }
  }
  return 0;
}

// Keeps the (distance, same) of the last N pairs; refit() returns the
// distance threshold minimising errors (same iff d <= t), the midpoint
// between neighbours of the best interval.
class margin_refitter {
 public:
  explicit margin_refitter(std::size_t window = 200000) : window_(std::max<std::size_t>(window, 2)) {}

  void add(double distance, bool same) {
    if (ring_.size() < window_) ring_.push_back({distance, same});
    else ring_[next_ % window_] = {distance, same};
    ++next_;
  }
  std::size_t seen() const { return next_; }
  std::size_t window() const { return window_; }
  bool due() const { return next_ > 0 && next_ % window_ == 0; }

  // The window's contents, for checkpoints (oldest first), and back.
  void snapshot(std::vector<double>& distances, std::vector<std::int64_t>& same, std::uint64_t& seen) const {
    distances.clear(), same.clear();
    const std::size_t start = ring_.size() < window_ ? 0 : next_ % window_;
    for (std::size_t k = 0; k < ring_.size(); ++k) {
      const auto& e = ring_[(start + k) % ring_.size()];
      distances.push_back(e.d), same.push_back(e.same);
    }
    seen = next_;
  }
  void restore(const std::vector<double>& distances, const std::vector<std::int64_t>& same, std::uint64_t seen) {
    if (distances.size() != same.size() || distances.size() > window_)
      throw error("margin_refitter: restored window does not fit (" + std::to_string(distances.size()) + " pairs)");
    ring_.assign(distances.size(), {});
    next_ = std::size_t(seen);
    // Oldest first in the snapshot; put entry k where add() would have.
    const std::size_t start = distances.size() < window_ ? 0 : next_ % window_;
    for (std::size_t k = 0; k < distances.size(); ++k) ring_[(start + k) % ring_.size()] = {distances[k], same[k] != 0};
  }

  double refit() const {
    if (ring_.empty()) throw error("margin_refitter: no pairs seen yet");
    auto sorted = ring_;
    std::sort(sorted.begin(), sorted.end(), [](const entry& a, const entry& b) { return a.d < b.d; });
    // Threshold below all: every pair predicted "different": errors = #same.
    std::size_t errors = 0;
    for (const auto& e : sorted) errors += e.same;
    std::size_t best = errors;
    double best_t = sorted.front().d - 1e-6;
    for (std::size_t k = 0; k < sorted.size();) {
      std::size_t j = k;
      while (j < sorted.size() && sorted[j].d == sorted[k].d) errors += sorted[j].same ? std::size_t(-1) : 1, ++j;
      if (errors < best) {
        best = errors;
        best_t = j < sorted.size() ? 0.5 * (sorted[j - 1].d + sorted[j].d) : sorted.back().d + 1e-6;
      }
      k = j;
    }
    return best_t;
  }

 private:
  struct entry {
    double d;
    bool same;
  };
  std::size_t window_, next_ = 0;
  std::vector<entry> ring_;
};

}  // namespace loss
DEEPID_NAMESPACE_END
