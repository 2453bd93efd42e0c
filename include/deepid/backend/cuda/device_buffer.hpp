#pragma once
// device_buffer<T>: an owned array in device memory, sized at run time.
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/backend/cuda/device_api.hpp"

namespace deepid::cuda {
inline namespace api_v0 {

template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t size) { resize(size); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& other) noexcept { swap(other); }
  device_buffer& operator=(device_buffer&& other) noexcept {
    device_buffer(std::move(other)).swap(*this);
    return *this;
  }
  ~device_buffer() { release(data_); }

  // A new size gets new storage, zeroed (old contents are not kept); the
  // same size keeps the storage and its contents.
  void resize(std::size_t size) {
    if (size == size_) return;
    release(data_);
    data_ = nullptr, size_ = 0;
    data_ = static_cast<T*>(allocate(size * sizeof(T)));
    size_ = size;
    zero();
  }
  void zero() { fill_zero(data_, size_ * sizeof(T)); }

  void upload(std::span<const T> host) {
    check_size(host.size(), "upload");
    copy_to_device(data_, host.data(), host.size() * sizeof(T));
  }
  void download(std::span<T> host) const {
    check_size(host.size(), "download");
    copy_to_host(host.data(), data_, host.size() * sizeof(T));
  }
  std::vector<T> to_host() const {
    std::vector<T> host(size_);
    download(host);
    return host;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  void swap(device_buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

 private:
  void check_size(std::size_t host, const char* what) const {
    if (host != size_)
      throw failure("device_buffer::" + std::string(what) + ": " + std::to_string(host) + " host values for " +
                    std::to_string(size_) + " on the device");
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace api_v0
}  // namespace deepid::cuda
