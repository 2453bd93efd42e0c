#pragma once
// The identification head: a run-time sized classifier (features -> n
// identity logits) and softmax cross-entropy. The identity count is data, not
// architecture, so this head is not part of a compile-time stack.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/buffer.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/kernels/dense.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/softmax.hpp"

DEEPID_NAMESPACE_BEGIN

// Mean over the batch of -log softmax(logits)[label]. Writes the gradient of
// that mean w.r.t. the logits ((p - onehot) / n) when `dlogits` is not null.
// With `batch` > 0 the rows are part of a batch of that many: the sum over
// the rows is divided by `batch` instead of n.
// Throws unless every label is in [0, classes).
inline void check_labels(std::span<const std::int32_t> labels, std::size_t classes) {
  for (std::size_t s = 0; s < labels.size(); ++s)
    if (labels[s] < 0 || std::size_t(labels[s]) >= classes)
      throw error("softmax_cross_entropy: label " + std::to_string(labels[s]) + " of sample " + std::to_string(s) +
                  " is outside [0, " + std::to_string(classes) + ")");
}

template <class T>
double softmax_cross_entropy(const T* logits, std::span<const std::int32_t> labels, std::size_t classes,
                             T* dlogits = nullptr, std::size_t* correct = nullptr, std::size_t batch = 0) {
  const std::size_t n = labels.size();
  check_labels(labels, classes);
  std::vector<unsigned char> hits(correct ? n : 0);
  const double loss = kernels::softmax_cross_entropy_rows(logits, labels.data(), n, classes, dlogits,
                                                          correct ? hits.data() : nullptr, batch);
  if (correct) *correct = std::size_t(std::count(hits.begin(), hits.end(), 1));
  return loss;
}

// features [n x dim] -> logits [n x classes]; weights [dim][classes], bias.
template <class T>
class softmax_classifier {
 public:
  softmax_classifier(std::size_t dim, std::size_t classes, std::uint64_t seed)
      : dim_(dim), classes_(classes), params_(dim * classes + classes), grads_(params_.size()) {
    rng gen(seed);
    const double sd = std::sqrt(1.0 / double(dim));
    for (std::size_t i = 0; i < dim * classes; ++i) params_[i] = T(gen.normal() * sd);
  }

  std::size_t dim() const { return dim_; }
  std::size_t classes() const { return classes_; }
  std::span<T> parameters() { return params_; }
  std::span<const T> parameters() const { return params_; }
  std::span<const T> gradients() const { return grads_; }

  // Returns the mean loss; fills dfeatures [n x dim] and the parameter
  // gradients. `batch` > 0: the n rows are part of a batch of that many, and
  // loss and gradients are those of the whole batch's mean restricted to them.
  double train_step(const T* features, std::span<const std::int32_t> labels, T* dfeatures,
                    std::size_t* correct = nullptr, std::size_t batch = 0) {
    const std::size_t n = labels.size();
    logits_.resize(n * classes_);
    dlogits_.resize(n * classes_);
    kernels::dense_forward(dim_, classes_, features, logits_.data(), n, params_.data(), bias(), false);
    const double loss = softmax_cross_entropy<T>(logits_.data(), labels, classes_, dlogits_.data(), correct, batch);
    kernels::dense_backward(dim_, classes_, features, dlogits_.data(), dfeatures, n, params_.data(), grads_.data(),
                            grads_.data() + dim_ * classes_, /*accumulate=*/false);
    return loss;
  }

  void logits(const T* features, std::size_t n, T* out) const {
    kernels::dense_forward(dim_, classes_, features, out, n, params_.data(), bias(), false);
  }

 private:
  const T* bias() const { return params_.data() + dim_ * classes_; }
  std::size_t dim_, classes_;
  buffer<T> params_, grads_, logits_, dlogits_;
};

DEEPID_NAMESPACE_END
