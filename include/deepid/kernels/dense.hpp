#pragma once
// Fully connected kernels as Eigen GEMMs on row-major maps. Eigen splits a
// GEMM over output blocks, each reduced over K in the same order, so results
// do not depend on the thread count.
#include <cstddef>

#include "deepid/core/threads.hpp"
#include "deepid/kernels/detail/eigen.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

template <class T>
using row_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using row_vector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

inline void use_eigen_threads() {
  if (Eigen::nbThreads() != num_threads()) Eigen::setNbThreads(num_threads());
}

// out[n x O] (+)= in[n x I] * weights[I x O]; with `accumulate` false the bias
// (may be null) initialises out.
template <class T>
void dense_forward(std::size_t in_size, std::size_t out_size, const T* in, T* out, std::size_t n,
                   const T* weights, const T* bias, bool accumulate) {
  use_eigen_threads();
  Eigen::Map<const row_matrix<T>> x(in, n, in_size), w(weights, in_size, out_size);
  Eigen::Map<row_matrix<T>> y(out, n, out_size);
  if (!accumulate) {
    if (bias)
      y.rowwise() = Eigen::Map<const row_vector<T>>(bias, out_size);
    else
      y.setZero();
  }
  y.noalias() += x * w;
}

// Adds dweights += in^T dz, dbias += colsum(dz), din += dz weights^T.
template <class T>
void dense_backward(std::size_t in_size, std::size_t out_size, const T* in, const T* dz, T* din,
                    std::size_t n, const T* weights, T* dweights, T* dbias) {
  use_eigen_threads();
  Eigen::Map<const row_matrix<T>> x(in, n, in_size), w(weights, in_size, out_size), d(dz, n, out_size);
  Eigen::Map<row_matrix<T>>(dweights, in_size, out_size).noalias() += x.transpose() * d;
  if (dbias) Eigen::Map<row_vector<T>>(dbias, out_size) += d.colwise().sum();
  if (din) Eigen::Map<row_matrix<T>>(din, n, in_size).noalias() += d * w.transpose();
}

}  // namespace kernels
DEEPID_NAMESPACE_END
