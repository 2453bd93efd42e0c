#pragma once
// Stochastic gradient descent with momentum and weight decay, one pass over
// a parameter arena:  v = momentum v - lr (g + decay w);  w += v.
// Learning-rate schedules: constant, step decay, and decay on a plateau of
// the validation error.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/kernels/parallel.hpp"

DEEPID_NAMESPACE_BEGIN

struct sgd {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
};

// Momentum buffers for one arena of parameters.
template <class T>
class sgd_state {
 public:
  sgd_state() = default;
  explicit sgd_state(std::size_t size) : velocity_(size, T(0)) {}

  // Applies one step; `decay_mask` (optional, same size) zeroes weight decay
  // where it is 0 (biases are usually not decayed).
  void step(const sgd& o, double lr, std::span<T> params, std::span<const T> grads) {
    if (params.size() != velocity_.size() || grads.size() != params.size())
      throw error("sgd: parameter, gradient and state sizes differ (" + std::to_string(params.size()) + ", " +
                  std::to_string(grads.size()) + ", " + std::to_string(velocity_.size()) + ")");
    const T m = T(o.momentum), step = T(lr), decay = T(o.weight_decay);
    T* v = velocity_.data();
    T* w = params.data();
    const T* g = grads.data();
    // Each element on its own: the result does not depend on the threads.
    kernels::parallel_blocks(params.size(), 1 << 14, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        v[i] = m * v[i] - step * (g[i] + decay * w[i]);
        w[i] += v[i];
      }
    });
  }

  std::span<T> velocity() { return velocity_; }
  std::span<const T> velocity() const { return velocity_; }

 private:
  std::vector<T> velocity_;
};

// Learning rate as a function of the epoch and the validation history.
struct lr_schedule {
  enum class kind { constant, step, plateau } type = kind::constant;
  double base = 0.01;
  double factor = 0.1;     // multiply by this at each decay
  int step_epochs = 10;    // step: decay every this many epochs
  int patience = 2;        // plateau: epochs without improvement before a decay
  double min_lr = 1e-6;

  static lr_schedule constant(double lr) { return {kind::constant, lr}; }
  static lr_schedule step(double lr, int every, double factor = 0.1) { return {kind::step, lr, factor, every}; }
  static lr_schedule plateau(double lr, int patience = 2, double factor = 0.1) {
    lr_schedule s{kind::plateau, lr, factor};
    s.patience = patience;
    return s;
  }
};

// Tracks a schedule through training (kept in checkpoints: current rate,
// best validation error, epochs since it improved).
struct lr_tracker {
  lr_schedule schedule;
  double lr = 0.01;
  double best_error = 1e300;
  int since_best = 0;

  explicit lr_tracker(lr_schedule s = {}) : schedule(s), lr(s.base) {}

  // Call after each epoch with the validation error (lower is better).
  void end_epoch(int epoch, double validation_error) {
    switch (schedule.type) {
      case lr_schedule::kind::constant: break;
      case lr_schedule::kind::step:
        lr = schedule.base * std::pow(schedule.factor, double((epoch + 1) / std::max(1, schedule.step_epochs)));
        break;
      case lr_schedule::kind::plateau:
        if (validation_error < best_error - 1e-12) {
          since_best = 0;
        } else if (++since_best > schedule.patience) {
          lr *= schedule.factor;
          since_best = 0;
        }
        break;
    }
    best_error = std::min(best_error, validation_error);
    lr = std::max(lr, schedule.min_lr);
  }
};

DEEPID_NAMESPACE_END
