#pragma once
// The arithmetic of the joint signal on one supervised output, where the
// model keeps its features: the softmax classifier's loss and gradients
// (identification), the pairs' distances and losses (verification), and the
// two gradients combined. The trainer owns the order of things (margin re-fits,
// sums over ranks, SGD); this class only computes, in host memory.
// A model that keeps its outputs elsewhere names its own class with the same
// members as `Model::joint_signal` (cuda::device_model: on the GPU).
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/layers/softmax.hpp"
#include "deepid/loss/verification.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

template <class T>
class host_joint_signal {
 public:
  // Output k of the model's last forward pass, as the members below read it.
  template <class Model>
  static const T* features(Model& m, std::size_t k) {
    return m.output(k);
  }
  // The backward pass from the gradients joint_gradient() left.
  template <class Model, std::size_t N>
  static void backward(Model& m, const std::array<const T*, N>& doutputs,
                       const std::function<void(std::size_t)>& gradients_ready) {
    m.backward_outputs(doutputs, nullptr, gradients_ready);
  }

  // The classifier's mean loss over `batch` samples restricted to the rows of
  // f (one per label); keeps d/df, leaves the classifier's gradients in
  // classifier_gradients().
  double identification(softmax_classifier<T>& c, const T* f, std::span<const std::int32_t> labels,
                        std::size_t* correct, std::size_t batch) {
    dident_.resize(labels.size() * c.dim());
    return c.train_step(f, labels, dident_.data(), correct, batch);
  }
  std::span<const T> classifier_gradients(const softmax_classifier<T>& c) const { return c.gradients(); }

  // Pairs k < m: anchor row k of f, partner row m + k.
  void measures(loss::verification_kind kind, const T* f, std::size_t m, std::size_t dim, double* out) const {
    for (std::size_t k = 0; k < m; ++k) out[k] = loss::pair_measure(kind, f + k * dim, f + (m + k) * dim, dim);
  }
  // The pairs' summed loss with margins[k]; keeps d/df, adds the cosine
  // form's d/dw, d/db to dw, db.
  double verification(loss::verification_kind kind, const T* f, std::size_t m, std::size_t dim,
                      std::span<const unsigned char> same, std::span<const double> margins, double cos_w,
                      double cos_b, double& dw, double& db) {
    gv_.assign(2 * m * dim, T(0));
    double total = 0;
    for (std::size_t k = 0; k < m; ++k)
      total += loss::verification_pair(kind, f + k * dim, f + (m + k) * dim, dim, same[k] != 0, margins[k],
                                       gv_.data() + k * dim, gv_.data() + (m + k) * dim, cos_w, cos_b, &dw, &db);
    return total;
  }
  // w (2 d(Ident)/df + scale d(Verif)/df), after identification() and verification().
  const T* joint_gradient(double w, double scale) {
    dfeat_.resize(dident_.size());
    for (std::size_t i = 0; i < dfeat_.size(); ++i) dfeat_[i] = T(w * (2 * dident_[i] + scale * gv_[i]));
    return dfeat_.data();
  }

 private:
  std::vector<T> dident_, gv_, dfeat_;
};

}  // namespace train
DEEPID_NAMESPACE_END
