#pragma once
// dropout<Rate>: in training, zeroes each value with probability Rate and
// scales the rest by 1/(1-Rate) (inverted dropout), so inference is the
// identity. Masks come from a counter-based hash of (seed, call, index):
// the same seed gives the same masks whatever the thread count, and
// set_random_stream replaces the seed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/buffer.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/layers/detail/parameterless.hpp"

DEEPID_NAMESPACE_BEGIN

namespace check {
template <int RatePercentTimes1000>
struct dropout_rate_in_range {
  static_assert(RatePercentTimes1000 >= 0 && RatePercentTimes1000 < 100000,
                "dropout: the rate must lie in [0, 1)");
  static constexpr bool ok = RatePercentTimes1000 >= 0 && RatePercentTimes1000 < 100000;
};
}  // namespace check

namespace detail {

template <class Spec, class Ctx, class T, double Rate>
class dropout_layer : public parameterless<T> {
 public:
  static constexpr shape3 in_shape = Ctx::shape, out_shape = Ctx::shape;
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static std::string name() { return Spec::name(); }

  void init(T*, rng& gen) { seed_ = gen.next(); }
  // The masks of the next training passes follow from `key` alone (not the
  // initialisation seed, which a checkpoint does not hold): a trainer keys
  // them by its position so that a resumed run draws the same masks.
  // `samples` (optional, one per sample of the next batches) numbers the
  // samples within a larger batch, so a process of a data-parallel run that
  // holds part of a batch draws the masks a single process would.
  void set_random_stream(std::uint64_t key, std::span<const std::size_t> samples = {}) {
    seed_ = key, calls_ = 0;
    samples_.assign(samples.begin(), samples.end());
  }

  void forward(const pass_buffers<T, 1>& b, const T*, mode m) {
    const std::size_t count = b.batch * out_shape.size();
    if (m == mode::inference || Rate == 0.0) {
      std::copy_n(b.inputs[0], count, b.output);
      last_training_ = false;
      return;
    }
    const T scale = T(1.0 / (1.0 - Rate));
    const std::uint64_t call = mix64(seed_ ^ ++calls_);
    mask_.resize(count);
    if (!samples_.empty() && samples_.size() != b.batch)
      throw error(name() + ": " + std::to_string(b.batch) + " samples in the batch but " +
                  std::to_string(samples_.size()) + " sample numbers were set");
    const std::size_t size = out_shape.size();
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t index = samples_.empty() ? i : samples_[i / size] * size + i % size;
      const double u = double(mix64(call + index) >> 11) * 0x1.0p-53;
      mask_[i] = u < Rate ? T(0) : scale;
      b.output[i] = b.inputs[0][i] * mask_[i];
    }
    last_training_ = true;
  }

  void backward(const pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T*, T*) const {
    if (!din[0]) return;
    const std::size_t count = b.batch * out_shape.size();
    for (std::size_t i = 0; i < count; ++i) din[0][i] += last_training_ ? dout[i] * mask_[i] : dout[i];
  }

 private:
  std::uint64_t seed_ = 0, calls_ = 0;
  std::vector<std::size_t> samples_;
  buffer<T> mask_;
  bool last_training_ = false;
};

}  // namespace detail

template <double Rate>
struct dropout {
  using deepid_layer_spec = void;
  static std::string name() { return "dropout<" + std::to_string(Rate).substr(0, 4) + ">"; }
  template <class Ctx, class T, bool>
  struct binder {
    static_assert(check::dropout_rate_in_range<int(Rate * 100000)>::ok);
    using type = detail::dropout_layer<dropout, Ctx, T, (Rate >= 0.0 && Rate < 1.0) ? Rate : 0.0>;
  };
};

DEEPID_NAMESPACE_END
