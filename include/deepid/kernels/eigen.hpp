#pragma once
// Eigen for the code that calls it directly (verify/): the library itself,
// and control of its thread count, which is one setting for the whole
// process. use_eigen_threads keeps it equal to deepid's; eigen_threads sets
// it for a scope and puts the previous count back after.
#include "deepid/core/config.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/detail/eigen.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

// Makes Eigen's thread count deepid's (num_threads()) and leaves it so.
inline void use_eigen_threads() {
  if (Eigen::nbThreads() != num_threads()) Eigen::setNbThreads(num_threads());
}

// Sets Eigen's thread count for a scope and restores it after.
class eigen_threads {
 public:
  explicit eigen_threads(int n) : saved_(Eigen::nbThreads()) { Eigen::setNbThreads(n); }
  eigen_threads(const eigen_threads&) = delete;
  eigen_threads& operator=(const eigen_threads&) = delete;
  ~eigen_threads() { Eigen::setNbThreads(saved_); }

 private:
  int saved_;
};

}  // namespace kernels
DEEPID_NAMESPACE_END
