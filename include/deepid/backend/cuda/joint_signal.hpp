#pragma once
// cuda::joint_signal<T>: the trainer's joint signal (train/joint_signal.hpp)
// on a device_model's outputs without copying them to the host: the softmax
// classifier's logits and gradients by cuBLAS, the cross-entropy, the pairs'
// distances and losses and the combined gradient by kernels. What crosses to
// the host per output and batch is small: the classifier's parameters (up),
// its gradients, the per-row losses and hits, the pair distances (the margin
// is re-fitted on the host, in batch order) and per-pair losses (down). The
// host sums them in the CPU trainer's order.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "deepid/backend/cuda/device_api.hpp"
#include "deepid/backend/cuda/device_buffer.hpp"
#include "deepid/core/error.hpp"
#include "deepid/layers/softmax.hpp"
#include "deepid/loss/verification.hpp"

namespace deepid::cuda {
inline namespace api_v0 {

template <class T>
class joint_signal {
  using kernels = ops<T>;

 public:
  // Output k of the device model's last forward pass, on the device.
  template <class Model>
  static const T* features(Model& m, std::size_t k) {
    return m.output_device(k);
  }
  // The backward pass from device gradients; the parameters' gradients stay
  // on the device (the host copy is refreshed if read, e.g. to sum them over
  // ranks).
  template <class Model, std::size_t N>
  static void backward(Model& m, const std::array<const T*, N>& doutputs,
                       const std::function<void(std::size_t)>& gradients_ready) {
    m.backward_outputs_device(doutputs);
    if (gradients_ready) gradients_ready(0);
  }

  double identification(const deepid::softmax_classifier<T>& c, const T* f, std::span<const std::int32_t> labels,
                        std::size_t* correct, std::size_t batch) {
    const std::size_t n = labels.size(), dim = c.dim(), classes = c.classes();
    deepid::check_labels(labels, classes);  // before the kernels index with them
    params_.resize(c.parameters().size());
    params_.upload(c.parameters());
    labels_.resize(n);
    labels_.upload(labels);
    logits_.resize(n * classes);
    dlogits_.resize(n * classes);
    const T* weights = params_.data();
    const T* bias = weights + dim * classes;
    kernels::dense_bias(bias, logits_.data(), n, classes);
    kernels::dense_accumulate(f, dim, weights, logits_.data(), n, classes);
    const double count = double(batch ? batch : n);
    row_loss_.resize(n);
    hits_.resize(n);
    kernels::softmax_cross_entropy(logits_.data(), labels_.data(), n, classes, count, dlogits_.data(),
                                   row_loss_.data(), hits_.data());
    // d/df is overwritten, the classifier's gradients too: both start at zero.
    dident_.resize(n * dim);
    dident_.zero();
    grads_.resize(params_.size());
    grads_.zero();
    if (ones_.size() != n) {
      ones_.resize(n);
      kernels::fill(ones_.data(), n, T(1));
    }
    kernels::dense_backward(f, dim, dlogits_.data(), dident_.data(), n, classes, weights, grads_.data(),
                            grads_.data() + dim * classes, ones_.data());
    host_grads_.resize(grads_.size());
    grads_.download(host_grads_);
    const std::vector<double> losses = row_loss_.to_host();
    double loss = 0;
    for (double l : losses) loss += l;
    if (correct) {
      const std::vector<unsigned char> hits = hits_.to_host();
      *correct = 0;
      for (unsigned char h : hits) *correct += h;
    }
    return n ? loss / count : 0.0;
  }
  std::span<const T> classifier_gradients(const deepid::softmax_classifier<T>&) const { return host_grads_; }

  void measures(deepid::loss::verification_kind kind, const T* f, std::size_t m, std::size_t dim, double* out) {
    pair_values_.resize(m);
    kernels::pair_measures(pair_loss(int(kind)), f, m, dim, pair_values_.data());
    if (m) copy_to_host(out, pair_values_.data(), m * sizeof(double));
  }

  double verification(deepid::loss::verification_kind kind, const T* f, std::size_t m, std::size_t dim,
                      std::span<const unsigned char> same, std::span<const double> margins, double cos_w,
                      double cos_b, double& dw, double& db) {
    same_.resize(m);
    same_.upload(same.first(m));
    margins_.resize(m);
    margins_.upload(margins.first(m));
    gv_.resize(2 * m * dim);
    pair_values_.resize(m);
    dw_.resize(m);
    db_.resize(m);
    kernels::pair_losses(pair_loss(int(kind)), f, m, dim, same_.data(), margins_.data(), cos_w, cos_b, gv_.data(),
                         pair_values_.data(), dw_.data(), db_.data());
    const std::vector<double> losses = pair_values_.to_host();
    double total = 0;
    for (double l : losses) total += l;
    if (kind == deepid::loss::verification_kind::cosine) {
      const std::vector<double> w = dw_.to_host(), b = db_.to_host();
      for (std::size_t k = 0; k < m; ++k) dw += w[k], db += b[k];
    }
    return total;
  }

  // On the device: backward_outputs_device reads it there.
  const T* joint_gradient(double w, double scale) {
    dfeat_.resize(dident_.size());
    kernels::joint_gradient(dident_.data(), gv_.data(), dfeat_.data(), dfeat_.size(), w, scale);
    return dfeat_.data();
  }

 private:
  static_assert(int(deepid::loss::verification_kind::l2) == int(pair_loss::l2) &&
                    int(deepid::loss::verification_kind::l2_pos) == int(pair_loss::l2_pos) &&
                    int(deepid::loss::verification_kind::l2_neg) == int(pair_loss::l2_neg) &&
                    int(deepid::loss::verification_kind::l1) == int(pair_loss::l1) &&
                    int(deepid::loss::verification_kind::cosine) == int(pair_loss::cosine),
                "cuda::pair_loss numbers the verification losses as loss::verification_kind does");

  device_buffer<T> params_, grads_, logits_, dlogits_, dident_, gv_, dfeat_, ones_;
  device_buffer<std::int32_t> labels_;
  device_buffer<double> row_loss_, pair_values_, margins_, dw_, db_;
  device_buffer<unsigned char> hits_, same_;
  std::vector<T> host_grads_;
};

}  // namespace api_v0
}  // namespace deepid::cuda
