#pragma once
// cuda::sgd_state<T>: SGD's momentum buffers for a device_model, kept on the
// device where the step runs (device_model::descend), with deepid::sgd_state's
// host view for checkpoints: velocity() copies them to the host when the
// device has newer values, and a write through velocity() reaches the device
// before the next step.
#include <cstddef>
#include <span>
#include <vector>

#include "deepid/backend/cuda/device_buffer.hpp"

namespace deepid::cuda {
inline namespace api_v0 {

template <class T>
class sgd_state {
 public:
  sgd_state() = default;
  explicit sgd_state(std::size_t size) : host_(size, T(0)), device_(size) {}

  std::span<T> velocity() {
    refresh_host();
    host_newer_ = true;
    return host_;
  }
  std::span<const T> velocity() const {
    refresh_host();
    return host_;
  }
  // The buffers on the device, for a step that writes them.
  T* device_velocity() {
    if (host_newer_) device_.upload(host_);
    host_newer_ = false;
    device_newer_ = true;
    return device_.data();
  }
  std::size_t size() const { return host_.size(); }

 private:
  void refresh_host() const {
    if (!device_newer_) return;
    device_.download(host_);
    device_newer_ = false;
  }

  mutable std::vector<T> host_;
  mutable bool device_newer_ = false;
  bool host_newer_ = false;
  device_buffer<T> device_;
};

}  // namespace api_v0
}  // namespace deepid::cuda
