#pragma once
// The neural-network verifier of DeepID1.
//
// Input: the features of BOTH faces. A face's feature is G blocks of B
// values (one block per ConvNet: its original and flipped 160-d vectors,
// so B = 320 in the paper); the net's input is arranged group by group,
//     in = [ a_0, b_0,  a_1, b_1,  ...,  a_{G-1}, b_{G-1} ]   (2 G B values)
// where a_g and b_g are group g's block of the first and second face.
//
//   hidden 1   locally connected: H1 ReLU units per group, each unit sees
//              only its group's 2B inputs                 (G H1 units)
//   hidden 2   fully connected, H2 ReLU units
//   output     one sigmoid unit: P(same)
//
// Dropout (inverted: kept units scaled by 1/(1-rate), so inference uses the
// weights as they are) on both hidden layers, never on the inputs. Loss:
// binary cross-entropy, averaged over the batch. Paper sizes G = 60,
// B = 320, H1 = 80, H2 = 4800 give 26,126,401 parameters; sizes are
// run-time values, so the paper's net and small ones are one type.
//
// Training (SGD with momentum, weight decay on weights not biases):
//   stage 1  G sub-networks, each  group g (2B) -> its H1 units -> a
//            private hidden-2 slice of S units (S = H2 / G by default, the
//            slice Fig. 4 highlights) -> one sigmoid output, trained
//            separately (in parallel over groups, each from its own seed);
//   stage 2  their first-layer weights and biases are copied into the full
//            net and kept fixed ("clipped"); layers 2 and 3 are trained
//            from a fresh initialisation.
// With two_stage = false all layers are trained jointly instead.
// Pairs: the `pairs` of training_data, or balanced pairs drawn from the
// identities with `seed`. With symmetrise, every pair is also shown in
// swapped order. Inputs are standardised per feature dimension with the
// training rows' mean and sd (the same statistics for both faces) [I].
// Everything is deterministic for a seed, whatever the thread count
// (dropout masks are counter-based hashes; GEMMs reduce in a fixed order).
//
// Score: the LOGIT of P(same) (w3 . h2 + b3), HIGHER = SAME. The logit keeps
// its resolution where the sigmoid saturates to exactly 0 or 1, which would
// tie scores; probability() gives P(same) itself.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/eigen.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

struct nn_verifier_sizes {
  std::size_t groups = 60;       // G: one per ConvNet
  std::size_t block = 320;       // B: one face's values per group (0: features / groups at fit)
  std::size_t hidden1 = 80;      // H1: hidden-1 units per group
  std::size_t hidden2 = 4800;    // H2
  std::size_t sub_hidden2 = 0;   // S: stage-1 sub-network hidden-2 width (0: max(1, H2 / G))

  static constexpr nn_verifier_sizes paper() { return {}; }

  constexpr std::size_t feature_size() const { return groups * block; }
  constexpr std::size_t input_size() const { return 2 * groups * block; }
  constexpr std::size_t hidden1_total() const { return groups * hidden1; }
  constexpr std::size_t stage1_width() const {
    return sub_hidden2 ? sub_hidden2 : std::max<std::size_t>(1, hidden2 / std::max<std::size_t>(1, groups));
  }
  // Weights + biases of the full net (the stage-1 sub-networks not included).
  constexpr std::size_t first_layer_parameters() const { return groups * (2 * block * hidden1 + hidden1); }
  constexpr std::size_t parameter_count() const {
    return first_layer_parameters() + hidden1_total() * hidden2 + hidden2 + hidden2 + 1;
  }
  // The stage-1 sub-network of one group: the same architecture with one group.
  constexpr nn_verifier_sizes sub_network() const { return {1, block, hidden1, stage1_width(), 0}; }

  std::string str() const {
    return "G " + std::to_string(groups) + ", B " + std::to_string(block) + ", H1 " + std::to_string(hidden1) +
           ", H2 " + std::to_string(hidden2);
  }
  void validate(const char* who) const {
    auto fail = [&](const std::string& what) { throw error(std::string(who) + ": " + what + " (" + str() + ")"); };
    if (!groups || !block || !hidden1 || !hidden2) fail("every size must be positive");
    constexpr std::size_t limit = std::size_t(1) << 24;
    if (groups > limit || block > limit || hidden1 > limit || hidden2 > limit || stage1_width() > limit)
      fail("a size is implausibly large");
    const double count = double(groups) * (2.0 * double(block) + 1) * double(hidden1) +
                         double(groups) * double(hidden1) * double(hidden2) + 2.0 * double(hidden2);
    if (count > double(std::size_t(1) << 36)) fail("the net would have more than 2^36 parameters");
  }
};

static_assert(nn_verifier_sizes::paper().parameter_count() == 26'126'401,
              "nn_verifier: the paper's 60-group net must have 26,126,401 parameters");

// One step of training or a plain forward pass.
struct nn_pass {
  double dropout = 0.0;           // rate on both hidden layers (0: none)
  std::uint64_t mask_seed = 0;    // masks are a hash of (seed, layer, index)
  bool first_layer = true;        // false: no gradient for layer 1 (stage 2)
};

// The network itself: parameters in one flat array, laid out as
//   w1  G blocks of 2B x H1 (row-major; rows 0..B-1 see face 1, B..2B-1 face 2)
//   b1  G x H1,   w2  G H1 x H2 (row-major),   b2  H2,   w3  H2,   b3  1.
template <class T>
class nn_verifier_net {
 public:
  using mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  using rvec = Eigen::Matrix<T, 1, Eigen::Dynamic>;

  nn_verifier_net() = default;
  explicit nn_verifier_net(const nn_verifier_sizes& s) : s_(s) {
    s_.validate("nn_verifier_net");
    params_.assign(s_.parameter_count(), T(0));
  }

  const nn_verifier_sizes& sizes() const { return s_; }
  std::span<T> parameters() { return params_; }
  std::span<const T> parameters() const { return params_; }

  std::size_t w1_offset(std::size_t g = 0) const { return g * 2 * s_.block * s_.hidden1; }
  std::size_t b1_offset(std::size_t g = 0) const { return s_.groups * 2 * s_.block * s_.hidden1 + g * s_.hidden1; }
  std::size_t w2_offset() const { return s_.first_layer_parameters(); }
  std::size_t b2_offset() const { return w2_offset() + s_.hidden1_total() * s_.hidden2; }
  std::size_t w3_offset() const { return b2_offset() + s_.hidden2; }
  std::size_t b3_offset() const { return w3_offset() + s_.hidden2; }
  // The first layer's weights and biases: parameters [0, first_layer_end()).
  std::size_t first_layer_end() const { return w2_offset(); }
  bool is_bias(std::size_t i) const {
    return (i >= b1_offset() && i < w2_offset()) || (i >= b2_offset() && i < w3_offset()) || i == b3_offset();
  }

  // Normal weights with sd sqrt(1 / (3 fan-in)) (the variance of PyTorch's
  // default uniform(+-1/sqrt(fan-in)) for linear layers), zero biases. Not
  // He-normal: its 2.4x larger weights left the net near chance on LFW
  // features with dropout 0.5 (PCA-150 DeepID features: AUC 0.60 after 10
  // epochs, against 0.87 with this scale; docs/results.md).
  void initialise(std::uint64_t seed) {
    rng gen(seed);
    std::fill(params_.begin(), params_.end(), T(0));
    const double s1 = std::sqrt(1.0 / (3.0 * double(2 * s_.block))),
                 s2 = std::sqrt(1.0 / (3.0 * double(s_.hidden1_total()))), s3 = std::sqrt(1.0 / (3.0 * double(s_.hidden2)));
    for (std::size_t i = 0; i < b1_offset(); ++i) params_[i] = T(s1 * gen.normal());
    for (std::size_t i = w2_offset(); i < b2_offset(); ++i) params_[i] = T(s2 * gen.normal());
    for (std::size_t i = w3_offset(); i < b3_offset(); ++i) params_[i] = T(s3 * gen.normal());
  }

  // Logits of n inputs (rows of input_size() values, layout above).
  void logits(const T* in, std::size_t n, T* out) const {
    mat h1, h2;
    forward(in, n, nn_pass{}, h1, h2);
    output(h2, out);
  }

  // Mean binary cross-entropy of n inputs with labels 0/1 under `pass`.
  // With grad non-null, writes d loss / d parameters into it (all of it;
  // layer 1 stays zero when pass.first_layer is false).
  double loss(const T* in, const T* labels, std::size_t n, const nn_pass& pass, T* grad) const {
    if (n == 0) throw error("nn_verifier_net: an empty batch");
    mat h1, h2;
    forward(in, n, pass, h1, h2);
    std::vector<T> z(n);
    output(h2, z.data());
    double total = 0;
    vec dz(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      const double zi = z[i], yi = labels[i];
      total += (zi > 0 ? zi + std::log1p(std::exp(-zi)) : std::log1p(std::exp(zi))) - yi * zi;
      dz(Eigen::Index(i)) = T((1.0 / (1.0 + std::exp(-zi)) - yi) / double(n));
    }
    if (grad) backward(in, n, pass, h1, h2, dz, grad);
    return total / double(n);
  }

 private:
  static double mask_uniform(std::uint64_t base, std::size_t i) {
    return double(mix64(base + i) >> 11) * 0x1.0p-53;
  }
  static std::uint64_t mask_base(const nn_pass& pass, std::uint64_t layer) {
    return mix64(pass.mask_seed ^ mix64(0x6e6e766572696679ull + layer));
  }
  // h = relu(h) with inverted dropout.
  static void activate(mat& h, const nn_pass& pass, std::uint64_t layer) {
    const std::size_t count = std::size_t(h.size());
    T* p = h.data();
    if (pass.dropout <= 0) {
      for (std::size_t i = 0; i < count; ++i) p[i] = std::max(p[i], T(0));
      return;
    }
    const std::uint64_t base = mask_base(pass, layer);
    const T scale = T(1.0 / (1.0 - pass.dropout));
    for (std::size_t i = 0; i < count; ++i)
      p[i] = mask_uniform(base, i) < pass.dropout ? T(0) : std::max(p[i], T(0)) * scale;
  }
  // dz = dh * d(activation)/dz: the kept scale where the unit is on, else 0.
  static void activation_gradient(const mat& h, mat& dh, const nn_pass& pass) {
    const T scale = pass.dropout > 0 ? T(1.0 / (1.0 - pass.dropout)) : T(1);
    const std::size_t count = std::size_t(h.size());
    for (std::size_t i = 0; i < count; ++i) dh.data()[i] = h.data()[i] > T(0) ? dh.data()[i] * scale : T(0);
  }

  Eigen::Map<const mat, 0, Eigen::OuterStride<>> group_input(const T* in, std::size_t n, std::size_t g) const {
    return {in + g * 2 * s_.block, Eigen::Index(n), Eigen::Index(2 * s_.block),
            Eigen::OuterStride<>(Eigen::Index(s_.input_size()))};
  }
  Eigen::Map<const mat> w1(std::size_t g) const {
    return {params_.data() + w1_offset(g), Eigen::Index(2 * s_.block), Eigen::Index(s_.hidden1)};
  }
  Eigen::Map<const mat> w2() const {
    return {params_.data() + w2_offset(), Eigen::Index(s_.hidden1_total()), Eigen::Index(s_.hidden2)};
  }

  // Threads for the per-group loops: none when already inside a parallel
  // region (stage 1 runs sub-networks in parallel, scoring runs chunks).
  int group_threads() const {
#if DEEPID_OPENMP
    return s_.groups > 1 && !omp_in_parallel() ? num_threads() : 1;
#else
    return 1;
#endif
  }

  void forward(const T* in, std::size_t n, const nn_pass& pass, mat& h1, mat& h2) const {
    const auto rows = Eigen::Index(n);
    const auto H1 = Eigen::Index(s_.hidden1);
    h1.resize(rows, Eigen::Index(s_.hidden1_total()));
    // Groups are independent GEMMs: spread them over threads when there are
    // several (Eigen stays single-threaded inside a parallel region).
    const int threads = group_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (std::ptrdiff_t gi = 0; gi < std::ptrdiff_t(s_.groups); ++gi) {
      const auto g = std::size_t(gi);
      auto block = h1.middleCols(Eigen::Index(g) * H1, H1);
      block.noalias() = group_input(in, n, g) * w1(g);
      block.rowwise() += Eigen::Map<const rvec>(params_.data() + b1_offset(g), H1);
    }
    (void)threads;
    activate(h1, pass, 1);
    h2.resize(rows, Eigen::Index(s_.hidden2));
    h2.rowwise() = Eigen::Map<const rvec>(params_.data() + b2_offset(), Eigen::Index(s_.hidden2));
    h2.noalias() += h1 * w2();
    activate(h2, pass, 2);
  }

  // Plain loops for the vector operations and column sums below: Eigen's
  // reductions peel by the address's alignment, so their rounding would
  // depend on where the allocator put the buffers (GEMMs pack their operands
  // and do not). These loops sum in one fixed order.
  void output(const mat& h2, T* out) const {
    const T* w3 = params_.data() + w3_offset();
    const std::size_t H2 = s_.hidden2;
    for (Eigen::Index i = 0; i < h2.rows(); ++i) {
      const T* row = h2.data() + std::size_t(i) * H2;
      T z = 0;
      for (std::size_t j = 0; j < H2; ++j) z += row[j] * w3[j];
      out[i] = z + params_[b3_offset()];
    }
  }
  // out[j] = sum_i m(i, col0 + j) for j < cols, rows in order.
  static void column_sums(const mat& m, Eigen::Index col0, Eigen::Index cols, T* out) {
    std::fill(out, out + cols, T(0));
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      const T* row = m.data() + i * m.cols() + col0;
      for (Eigen::Index j = 0; j < cols; ++j) out[j] += row[j];
    }
  }

  void backward(const T* in, std::size_t n, const nn_pass& pass, const mat& h1, const mat& h2, const vec& dz,
                T* grad) const {
    std::fill(grad, grad + params_.size(), T(0));
    const auto H1 = Eigen::Index(s_.hidden1), H2 = Eigen::Index(s_.hidden2);
    T* gw3 = grad + w3_offset();
    for (Eigen::Index i = 0; i < h2.rows(); ++i) {
      const T* row = h2.data() + i * H2;
      for (Eigen::Index j = 0; j < H2; ++j) gw3[j] += row[j] * dz(i);
      grad[b3_offset()] += dz(i);
    }
    mat d2 = dz * Eigen::Map<const rvec>(params_.data() + w3_offset(), H2);
    activation_gradient(h2, d2, pass);
    Eigen::Map<mat>(grad + w2_offset(), Eigen::Index(s_.hidden1_total()), H2).noalias() = h1.transpose() * d2;
    column_sums(d2, 0, H2, grad + b2_offset());
    if (!pass.first_layer) return;
    mat d1 = d2 * w2().transpose();
    activation_gradient(h1, d1, pass);
    const int threads = group_threads();
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
    for (std::ptrdiff_t gi = 0; gi < std::ptrdiff_t(s_.groups); ++gi) {
      const auto g = std::size_t(gi);
      const auto block = d1.middleCols(Eigen::Index(g) * H1, H1);
      Eigen::Map<mat>(grad + w1_offset(g), Eigen::Index(2 * s_.block), H1).noalias() =
          group_input(in, n, g).transpose() * block;
      column_sums(d1, Eigen::Index(g) * H1, H1, grad + b1_offset(g));
    }
    (void)threads;
  }

  nn_verifier_sizes s_{1, 1, 1, 1, 1};
  std::vector<T> params_;
};

struct nn_verifier_options {
  nn_verifier_sizes sizes{};
  double dropout = 0.5;              // on hidden units only (rate not in the paper [I])
  bool two_stage = true;             // the paper's training trick; false: joint training
  std::size_t stage1_epochs = 10;    // passes over the (symmetrised) pairs per sub-network
  std::size_t stage2_epochs = 10;    // passes for layers 2 and 3 (or all layers, joint)
  std::size_t batch = 64;
  double learning_rate = 0.01;
  double lr_decay = 0.95;            // learning rate *= lr_decay after each epoch
  double momentum = 0.9;
  double weight_decay = 5e-4;        // L2 on weights, not biases
  bool standardise = true;           // per-dimension mean/sd of the training rows
  bool symmetrise = true;            // also train on (second, first)
  std::size_t sampled_pairs = 20000; // drawn when fit() gets identities only
  // Also train on sampled_pairs balanced pairs drawn from the identity labels
  // when fit() gets both pairs and identities (LFW's unrestricted setting):
  // a net that compares raw features needs more than a few thousand pairs.
  bool add_identity_pairs = false;
  std::uint64_t seed = 1;
};

class nn_verifier : public threshold_holder {
 public:
  using net_type = nn_verifier_net<float>;

  explicit nn_verifier(nn_verifier_options o = {}) : opt_(std::move(o)) {}

  static std::string kind() { return "nn"; }
  const nn_verifier_options& options() const { return opt_; }
  bool fitted() const { return fitted_; }
  // Parameters of the full net for the configured sizes (nothing allocated).
  std::size_t parameter_count() const { return opt_.sizes.parameter_count(); }
  const net_type& net() const { return net_; }
  // Mean training loss per epoch: of stage 2 (or joint training), and of
  // each stage-1 sub-network's last epoch.
  const std::vector<double>& stage2_losses() const { return stage2_losses_; }
  const std::vector<double>& stage1_final_losses() const { return stage1_losses_; }

  // Both stages (or joint training), then the threshold on the training pairs.
  void fit(const training_data& data) {
    kernels::use_eigen_threads();
    if (opt_.two_stage) {
      fit_stage1(data);
      fit_stage2(data);
    } else {
      prepare(data);
      train_full(data, true);
      finish(data);
    }
  }

  // Stage 1 only: sub-networks trained, first layer copied into the full
  // net. The verifier is not fitted until fit_stage2.
  void fit_stage1(const training_data& data) {
    kernels::use_eigen_threads();
    prepare(data);
    train_stage1(data);
    stage1_done_ = true;
  }
  // Stage 2: layers 2 and 3 trained with the first layer fixed.
  void fit_stage2(const training_data& data) {
    if (!stage1_done_) throw error("nn verifier: fit_stage2 before fit_stage1");
    kernels::use_eigen_threads();
    check_features(data.features, "fit");
    train_full(data, false);
    finish(data);
  }

  // Logit of P(same).
  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted();
    if (a.size() != dim() || b.size() != dim())
      throw error(kind() + ": features have " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                  " dimensions, the net takes " + std::to_string(dim()));
    check_finite_features(a, kind());
    check_finite_features(b, kind());
    std::vector<float> in(net_.sizes().input_size());
    arrange(a.data(), b.data(), in.data());
    float z = 0;
    net_.logits(in.data(), 1, &z);
    return z;
  }
  double probability(std::span<const float> a, std::span<const float> b) const {
    return 1.0 / (1.0 + std::exp(-score(a, b)));
  }

  // Logits of the pairs: fixed chunks of pairs, chunks in parallel.
  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted();
    check_features(x, "scores");
    check_pairs(pairs, x.shape()[0], "nn verifier");
    kernels::use_eigen_threads();
    return logits_of(x.data(), pairs);
  }

  io::record_writer record() const {
    require_fitted();
    const auto& s = net_.sizes();
    io::record_writer w("verifier/" + kind(), 1);
    const std::vector<std::int64_t> sizes{std::int64_t(s.groups), std::int64_t(s.block), std::int64_t(s.hidden1),
                                          std::int64_t(s.hidden2), std::int64_t(s.stage1_width())};
    w.add("sizes", std::span<const std::int64_t>(sizes));
    w.add_scalar("dropout", opt_.dropout);
    w.add_scalar("two_stage", opt_.two_stage ? 1.0 : 0.0);
    const std::vector<std::int64_t> seed{std::int64_t(opt_.seed)};
    w.add("seed", std::span<const std::int64_t>(seed));
    w.add("mean", std::span<const float>(mean_));
    w.add("inv_sd", std::span<const float>(inv_sd_));
    w.add("parameters", net_.parameters());
    save_threshold(w);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }
  static nn_verifier load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static nn_verifier from_record(const io::record_reader& r) {
    const auto sizes = r.i64("sizes", 5);
    for (auto v : sizes)
      if (v <= 0) throw error(r.path() + ": corrupt net sizes");
    nn_verifier_options o;
    o.sizes = {std::size_t(sizes[0]), std::size_t(sizes[1]), std::size_t(sizes[2]), std::size_t(sizes[3]),
               std::size_t(sizes[4])};
    o.sizes.validate(r.path().c_str());
    o.dropout = r.scalar("dropout");
    o.two_stage = r.scalar("two_stage") != 0;
    o.seed = std::uint64_t(r.i64("seed", 1)[0]);
    nn_verifier v(o);
    // The parameters first: the file must hold them all, which bounds the
    // sizes before the net is allocated from them.
    const auto p = r.f32("parameters", o.sizes.parameter_count());
    v.net_ = net_type(o.sizes);
    std::copy(p.begin(), p.end(), v.net_.parameters().begin());
    v.mean_ = r.f32("mean", o.sizes.feature_size());
    v.inv_sd_ = r.f32("inv_sd", o.sizes.feature_size());
    v.load_threshold(r);
    v.fitted_ = v.stage1_done_ = true;
    return v;
  }

 private:
  static constexpr std::size_t score_chunk = 128;

  std::size_t dim() const { return net_.sizes().feature_size(); }
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": the verifier is not fitted (call fit first)");
  }
  void check_features(const matrix<float>& x, const char* what) const {
    if (x.shape()[1] != dim())
      throw error(kind() + " " + what + ": features have " + std::to_string(x.shape()[1]) +
                  " dimensions, the net takes " + std::to_string(dim()) + " (" + net_.sizes().str() + ")");
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!std::isfinite(x.data()[i]))
        throw error(kind() + " " + what + ": feature " + std::to_string(i % dim()) + " of row " +
                    std::to_string(i / dim()) + " is not finite");
  }

  // The net's input for the pair (a, b), standardised, group by group.
  void arrange(const float* a, const float* b, float* in) const {
    const std::size_t G = net_.sizes().groups, B = net_.sizes().block;
    for (std::size_t g = 0; g < G; ++g) {
      const std::size_t at = g * B;
      for (std::size_t j = 0; j < B; ++j) {
        in[2 * at + j] = (a[at + j] - mean_[at + j]) * inv_sd_[at + j];
        in[2 * at + B + j] = (b[at + j] - mean_[at + j]) * inv_sd_[at + j];
      }
    }
  }

  std::vector<double> logits_of(const float* x, std::span<const labelled_pair> pairs) const {
    const std::size_t D = dim(), I = net_.sizes().input_size();
    std::vector<double> out(pairs.size());
    const std::size_t chunks = (pairs.size() + score_chunk - 1) / score_chunk;
#if DEEPID_OPENMP
#pragma omp parallel num_threads(num_threads()) if (chunks > 1)
#endif
    {
      std::vector<float> in(score_chunk * I), z(score_chunk);
#if DEEPID_OPENMP
#pragma omp for schedule(static)
#endif
      for (std::ptrdiff_t c = 0; c < std::ptrdiff_t(chunks); ++c) {
        const std::size_t begin = std::size_t(c) * score_chunk, n = std::min(score_chunk, pairs.size() - begin);
        for (std::size_t i = 0; i < n; ++i)
          arrange(x + pairs[begin + i].first * D, x + pairs[begin + i].second * D, in.data() + i * I);
        net_.logits(in.data(), n, z.data());
        for (std::size_t i = 0; i < n; ++i) out[begin + i] = z[i];
      }
    }
    return out;
  }

  // Sizes, standardisation and a freshly initialised full net.
  void prepare(const training_data& data) {
    fitted_ = stage1_done_ = false;
    nn_verifier_sizes s = opt_.sizes;
    const std::size_t d = data.features.shape()[1];
    if (s.groups == 0) throw error("nn verifier: groups must be positive");
    if (s.block == 0) {
      if (d % s.groups != 0)
        throw error("nn verifier: " + std::to_string(d) + " feature dimensions do not split into " +
                    std::to_string(s.groups) + " groups");
      s.block = d / s.groups;
    }
    s.validate("nn verifier");
    if (!(opt_.dropout >= 0 && opt_.dropout < 1))
      throw error("nn verifier: the dropout rate must lie in [0, 1), found " + std::to_string(opt_.dropout));
    if (opt_.batch == 0) throw error("nn verifier: the batch size must be positive");
    net_ = net_type(s);
    check_features(data.features, "fit");
    const std::size_t n = data.features.shape()[0];
    mean_.assign(d, 0.0f);
    inv_sd_.assign(d, 1.0f);
    if (opt_.standardise && n > 0) {
      std::vector<double> m(d, 0.0), v(d, 0.0);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) m[j] += data.features.data()[i * d + j];
      for (std::size_t j = 0; j < d; ++j) m[j] /= double(n);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
          const double c = data.features.data()[i * d + j] - m[j];
          v[j] += c * c;
        }
      for (std::size_t j = 0; j < d; ++j) {
        mean_[j] = float(m[j]);
        const double sd = std::sqrt(v[j] / double(n));
        inv_sd_[j] = sd > 1e-12 ? float(1.0 / sd) : 1.0f;
      }
    }
    net_.initialise(mix64(opt_.seed ^ 0x66756c6cull));
    stage1_losses_.clear();
    stage2_losses_.clear();
  }

  std::vector<labelled_pair> ordered_pairs(const training_data& data) const {
    auto pairs = detail::pairwise::training_pairs(data, opt_.sampled_pairs, opt_.seed, "nn verifier");
    if (opt_.add_identity_pairs && !data.pairs.empty() && !data.identities.empty()) {
      if (data.identities.size() != data.features.shape()[0])
        throw error("nn verifier: " + std::to_string(data.identities.size()) + " identity labels for " +
                    std::to_string(data.features.shape()[0]) + " feature rows");
      const auto more = sample_balanced_pairs(data.identities, opt_.sampled_pairs, opt_.seed);
      pairs.insert(pairs.end(), more.begin(), more.end());
    }
    detail::pairwise::require_both_labels(pairs, "nn verifier");
    if (opt_.symmetrise) {
      const std::size_t n = pairs.size();
      for (std::size_t i = 0; i < n; ++i) pairs.push_back({pairs[i].second, pairs[i].first, pairs[i].same});
    }
    return pairs;
  }

  // SGD with momentum over the pairs for `epochs`, updating parameters
  // [update_begin, end). fill(order, n, in, labels) builds a batch.
  template <class Fill>
  static std::vector<double> train(net_type& net, std::size_t pair_count, std::size_t epochs, std::size_t update_begin,
                                   const nn_verifier_options& o, std::uint64_t seed, bool first_layer, Fill fill) {
    rng gen(seed);
    const std::size_t P = net.parameters().size(), I = net.sizes().input_size();
    const std::size_t batch = std::min(o.batch, pair_count);
    // Eigen runs each product on an OpenMP team. A small net's per-batch
    // products (64 x a few hundred units) cost less than the team's barriers,
    // which on a busy machine made 2 threads far slower than 1, so they run
    // on one thread. The results are the same: each thread of a product
    // computes whole blocks of it.
    // (Inside a parallel region, as in stage 1, Eigen is serial already and
    // its global setting is left alone.)
    std::optional<kernels::eigen_threads> one_thread;
#if DEEPID_OPENMP
    if (!omp_in_parallel() && double(batch) * double(net.sizes().hidden1_total()) * double(net.sizes().hidden2) < 2e7)
      one_thread.emplace(1);
#endif
    std::vector<float> grad(P), velocity(P, 0.0f), in(batch * I), labels(batch);
    std::vector<std::size_t> order(pair_count);
    for (std::size_t i = 0; i < pair_count; ++i) order[i] = i;
    std::vector<double> losses;
    double lr = o.learning_rate;
    auto params = net.parameters();
    // Weight decay applies to weights only: precompute which are biases.
    std::vector<char> decays(P);
    for (std::size_t i = update_begin; i < P; ++i) decays[i] = !net.is_bias(i);
    for (std::size_t e = 0; e < epochs; ++e) {
      for (std::size_t i = pair_count; i > 1; --i) std::swap(order[i - 1], order[std::size_t(gen.next() % i)]);
      double sum = 0;
      std::size_t batches = 0;
      for (std::size_t begin = 0; begin < pair_count; begin += batch) {
        const std::size_t n = std::min(batch, pair_count - begin);
        fill(std::span<const std::size_t>(order.data() + begin, n), in.data(), labels.data());
        const nn_pass pass{o.dropout, gen.next(), first_layer};
        sum += net.loss(in.data(), labels.data(), n, pass, grad.data());
        ++batches;
        const float mu = float(o.momentum), step = float(lr), wd = float(o.weight_decay);
        for (std::size_t i = update_begin; i < P; ++i) {
          const float g = grad[i] + (decays[i] ? wd * params[i] : 0.0f);
          velocity[i] = mu * velocity[i] - step * g;
          params[i] += velocity[i];
        }
      }
      losses.push_back(sum / double(batches));
      lr *= o.lr_decay;
    }
    return losses;
  }

  void train_stage1(const training_data& data) {
    const auto pairs = ordered_pairs(data);
    const auto& s = net_.sizes();
    const nn_verifier_sizes sub = s.sub_network();
    const std::size_t D = dim(), B = s.block, H1 = s.hidden1;
    const float* x = data.features.data();
    stage1_losses_.assign(s.groups, 0.0);
    const int threads = num_threads();
    (void)threads;
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::ptrdiff_t gi = 0; gi < std::ptrdiff_t(s.groups); ++gi) {
      const auto g = std::size_t(gi);
      net_type subnet(sub);
      const std::uint64_t seed = mix64(opt_.seed ^ mix64(0x7375626e6574ull + g));
      subnet.initialise(seed);
      const std::size_t at = g * B;
      auto fill = [&](std::span<const std::size_t> idx, float* in, float* labels) {
        for (std::size_t i = 0; i < idx.size(); ++i) {
          const auto& p = pairs[idx[i]];
          const float* a = x + p.first * D + at;
          const float* b = x + p.second * D + at;
          for (std::size_t j = 0; j < B; ++j) {
            in[i * 2 * B + j] = (a[j] - mean_[at + j]) * inv_sd_[at + j];
            in[i * 2 * B + B + j] = (b[j] - mean_[at + j]) * inv_sd_[at + j];
          }
          labels[i] = p.same ? 1.0f : 0.0f;
        }
      };
      const auto losses = train(subnet, pairs.size(), opt_.stage1_epochs, 0, opt_, mix64(seed), true, fill);
      stage1_losses_[g] = losses.empty() ? 0.0 : losses.back();
      // Copy the sub-network's first layer into group g of the full net.
      const auto from = subnet.parameters();
      auto to = net_.parameters();
      std::copy_n(from.begin() + std::ptrdiff_t(subnet.w1_offset(0)), 2 * B * H1,
                  to.begin() + std::ptrdiff_t(net_.w1_offset(g)));
      std::copy_n(from.begin() + std::ptrdiff_t(subnet.b1_offset(0)), H1, to.begin() + std::ptrdiff_t(net_.b1_offset(g)));
    }
  }

  void train_full(const training_data& data, bool first_layer) {
    const auto pairs = ordered_pairs(data);
    const std::size_t D = dim(), I = net_.sizes().input_size();
    const float* x = data.features.data();
    auto fill = [&](std::span<const std::size_t> idx, float* in, float* labels) {
      for (std::size_t i = 0; i < idx.size(); ++i) {
        const auto& p = pairs[idx[i]];
        arrange(x + p.first * D, x + p.second * D, in + i * I);
        labels[i] = p.same ? 1.0f : 0.0f;
      }
    };
    stage2_losses_ = train(net_, pairs.size(), opt_.stage2_epochs, first_layer ? 0 : net_.first_layer_end(), opt_,
                           mix64(opt_.seed ^ 0x737461676532ull), first_layer, fill);
  }

  void finish(const training_data& data) {
    fitted_ = true;
    auto pairs = detail::pairwise::training_pairs(data, opt_.sampled_pairs, opt_.seed, "nn verifier");
    learn_threshold(logits_of(data.features.data(), pairs), pairs);
  }

  nn_verifier_options opt_;
  net_type net_;
  std::vector<float> mean_, inv_sd_;
  std::vector<double> stage1_losses_, stage2_losses_;
  bool fitted_ = false, stage1_done_ = false;
};

static_assert(verifier<nn_verifier>);

}  // namespace verify
DEEPID_NAMESPACE_END
