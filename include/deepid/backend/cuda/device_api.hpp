#pragma once
// What the host code of the CUDA backend calls: device memory, and the
// kernels of each layer kind as plain functions of run-time shapes. The
// definitions are compiled once, by nvcc, from kernels.cu (the target
// deepid::cuda adds it to the programs that link it), or by the host compiler
// from emulated.cpp, which runs the same kernel bodies on the CPU so that the
// backend's index arithmetic is tested where no GPU is.
//
// The model types stay in the host compiler: nvcc's front end cannot bind the
// library's stacks (it loses the taps a multi_scale_fc reads), so the compile-
// time shapes of a net reach the kernels as the values below.
//
// Outside deepid's ABI namespace on purpose: the kernels' translation unit is
// built without the host's -march and OpenMP flags, and nothing here depends
// on them.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace deepid::cuda {
inline namespace api_v0 {

// A banked convolution (ordinary: a 1x1 grid; locally connected: one bank per
// output position) over NHWC maps. Weights [bank][ky][kx][ci][cout], then
// biases [bank][cout]: the CPU layer's arena.
struct conv_shape {
  std::size_t cin, h, w, kernel, stride, pad, cout, grid_rows, grid_cols;
  constexpr std::size_t out_h() const { return (h + 2 * pad - kernel) / stride + 1; }
  constexpr std::size_t out_w() const { return (w + 2 * pad - kernel) / stride + 1; }
  constexpr std::size_t banks() const { return grid_rows * grid_cols; }
  constexpr std::size_t region_h() const { return out_h() / grid_rows; }
  constexpr std::size_t region_w() const { return out_w() / grid_cols; }
  constexpr std::size_t region_positions() const { return region_h() * region_w(); }
  constexpr std::size_t patch() const { return kernel * kernel * cin; }
  constexpr std::size_t bank_weights() const { return patch() * cout; }
  constexpr std::size_t weight_count() const { return banks() * bank_weights(); }
};

// Max pooling over NHWC maps, windows over a border of -infinity.
struct pool_shape {
  std::size_t c, h, w, size, stride, pad;
  constexpr std::size_t out_h() const { return (h + 2 * pad - size) / stride + 1; }
  constexpr std::size_t out_w() const { return (w + 2 * pad - size) / stride + 1; }
};

// The verification losses, as loss::verification_kind numbers them.
enum class pair_loss { l2, l2_pos, l2_neg, l1, cosine };

// What a failed CUDA or cuBLAS call throws: the call and the error, in words.
struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Device memory.
void* allocate(std::size_t bytes);
void release(void* p) noexcept;
void copy_to_device(void* device, const void* host, std::size_t bytes);
void copy_to_host(void* host, const void* device, std::size_t bytes);
void copy_on_device(void* to, const void* from, std::size_t bytes);
void fill_zero(void* device, std::size_t bytes);
void synchronize();

// GPUs visible to this process (0 where there is none or no driver), and the
// first one's name, memory and compute capability.
int device_count();
std::string device_description();
// The first GPU's peak single-precision rate in FLOP/s (multiprocessors x
// clock x FP32 lanes per multiprocessor x 2 for a fused multiply-add), 0
// where it is not known (no GPU, the emulation, an architecture not listed).
double peak_fp32_flops();
// True in the build that runs the kernels on the CPU (emulated.cpp).
bool emulated();

// Scratch memory a layer keeps between passes; grows, never shrinks.
class scratch {
 public:
  scratch() = default;
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch() { release(data_); }
  void free() noexcept {
    release(data_);
    data_ = nullptr, bytes_ = 0;
  }
  void* reserve(std::size_t bytes) {
    if (bytes > bytes_) {
      release(data_);
      data_ = nullptr, bytes_ = 0;
      data_ = allocate(bytes);
      bytes_ = bytes;
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// The kernels, for T = float and double. Every pointer is device memory.
// Passes that produce a gradient add it to what `din`, `dparams` hold
// (as the CPU layers do); a null `din` skips that gradient.
template <class T>
struct ops {
  // Layout: N x C x H x W <-> N x H x W x C.
  static void nchw_to_nhwc(const T* in, T* out, std::size_t n, std::size_t c, std::size_t hw);
  static void nhwc_to_nchw(const T* in, T* out, std::size_t n, std::size_t c, std::size_t hw);
  static void fill(T* to, std::size_t count, T value);
  static void add(const T* from, T* to, std::size_t count);

  // out = [relu](conv(in)); params: weights then biases.
  static void conv_forward(const conv_shape& g, bool relu, const T* in, T* out, std::size_t n, const T* params,
                           scratch& work);
  // out is the forward output (after the ReLU when `relu`).
  static void conv_backward(const conv_shape& g, bool relu, const T* in, const T* out, const T* dout, T* din,
                            std::size_t n, const T* params, T* dparams, scratch& work);

  static void pool_forward(const pool_shape& p, const T* in, T* out, std::size_t n);
  // The gradient of a window goes to its first maximum in row-major order.
  static void pool_backward(const pool_shape& p, const T* in, const T* dout, T* din, std::size_t n);

  static void relu_forward(const T* in, T* out, std::size_t count);
  // din += out > 0 ? dout : 0
  static void relu_backward(const T* out, const T* dout, T* din, std::size_t count);
  // dz = out > 0 ? dout : 0
  static void relu_mask(const T* out, const T* dout, T* dz, std::size_t count);

  // Dense layers: weights [inputs][units] row-major, samples in rows.
  static void dense_bias(const T* bias, T* out, std::size_t n, std::size_t units);                // out = bias
  static void dense_accumulate(const T* in, std::size_t inputs, const T* weights, T* out, std::size_t n,
                               std::size_t units);                                                // out += in W
  // dbias (may be null) += dz^T ones; `ones`: n ones.
  static void dense_backward(const T* in, std::size_t inputs, const T* dz, T* din, std::size_t n, std::size_t units,
                             const T* weights, T* dweights, T* dbias, const T* ones);

  // Inception's join: a branch's channels at `offset` of each output pixel.
  static void concat_forward(const T* in, std::size_t channels, T* out, std::size_t out_channels, std::size_t offset,
                             std::size_t pixels);
  static void concat_backward(const T* dout, std::size_t out_channels, std::size_t offset, T* din,
                              std::size_t channels, std::size_t pixels);

  // Inverted dropout. The mask of value i is drawn from hash(call + index),
  // index = samples ? samples[i / size] * size + i % size : i, as the CPU
  // layer draws it; `samples` is device memory or null.
  static void dropout_forward(const T* in, T* out, T* mask, std::size_t count, std::size_t size, double rate,
                              std::uint64_t call, const std::uint64_t* samples);
  static void dropout_backward(const T* dout, const T* mask, T* din, std::size_t count);

  // The training signals, one thread per row or pair (fixed order, no atomics).
  // Softmax cross-entropy of n rows of logits: row_loss[s] = log sum exp z -
  // z[label]; dlogits = (softmax(z) - onehot(label)) / count; hits[s] = 1
  // when the row's first maximum is at its label.
  static void softmax_cross_entropy(const T* logits, const std::int32_t* labels, std::size_t n, std::size_t classes,
                                    double count, T* dlogits, double* row_loss, unsigned char* hits);
  // Pairs k < m of features f (anchors in rows [0, m), partners in [m, 2m)):
  // their distance (L2 forms: Euclidean, l1: L1; cosine: the similarity).
  static void pair_measures(pair_loss kind, const T* f, std::size_t m, std::size_t dim, double* measures);
  // The loss of each pair (same[k], margins[k]), its gradients written to
  // rows k and m + k of g, and for the cosine form the terms of d/dw, d/db.
  static void pair_losses(pair_loss kind, const T* f, std::size_t m, std::size_t dim, const unsigned char* same,
                          const double* margins, double cos_w, double cos_b, T* g, double* loss, double* dw,
                          double* db);
  // out = w (2 dident + scale gv): the joint signal's gradient of a batch.
  static void joint_gradient(const T* dident, const T* gv, T* out, std::size_t count, double w, double scale);

  // SGD with momentum and weight decay, as sgd_state::step:
  // v = momentum v - lr (g + decay w); w += v.
  static void sgd_step(T* weights, T* velocity, const T* gradients, std::size_t count, T momentum, T lr, T decay);
};

}  // namespace api_v0
}  // namespace deepid::cuda
