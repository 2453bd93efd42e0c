// The SIMD kernels against the scalar reference kernels (kernels/reference.hpp),
// in float and double, and the thread count's (non-)effect on results.
//
// Tolerances. A fast kernel and the reference sum the same products in
// different orders. Each result of a sum of `terms` products is within
// terms * eps * M of the exact value, where M is the same sum taken over
// absolute values (the standard bound for floating-point dot products), so
// the two may differ by 2 * terms * eps * M and no more. A wrong or missing
// term moves a result by about M / terms, far beyond that for the sizes here.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <deepid/deepid.hpp>
#include <deepid/kernels/banked_conv.hpp>
#include <deepid/kernels/dense.hpp>
#include <deepid/kernels/pool.hpp>
#include <deepid/kernels/reference.hpp>

#include "kernel_checks.hpp"

namespace dp = deepid;
namespace kn = deepid::kernels;
using kn::conv_geometry;

namespace {

const bool one_thread = (dp::set_num_threads(1), true);

using deepid_test::absolute;
using deepid_test::check_within_bound;
using deepid_test::random_values;

// ------------------------------------------------------------ convolutions

// Forward of one geometry against the reference, for several batch sizes.
// A guard region after the output checks that no kernel writes past it.
template <class T, conv_geometry G, bool Relu>
void conv_forward_matches_reference() {
  static_assert(G.out_h() % G.grid_rows == 0 && G.out_w() % G.grid_cols == 0);
  constexpr std::size_t guard = 64;
  for (const std::size_t n : {1, 3, 8, 13}) {
    dp::rng gen(n * 7 + G.cin);
    const auto in = random_values<T>(n * G.in_size(), gen);
    const auto weights = random_values<T>(G.weight_count(), gen);
    const auto bias = random_values<T>(G.banks() * G.cout, gen);
    kn::packed_conv_weights<T> packed;
    kn::pack_conv_weights(G, weights.data(), bias.data(), packed);

    std::vector<T> fast(n * G.out_size() + guard, T(-777)), reference(n * G.out_size());
    kn::conv_forward<T, G, Relu>(in.data(), fast.data(), n, packed);
    kn::reference::conv_forward(G, in.data(), reference.data(), n, weights.data(), bias.data(), Relu);
    std::vector<double> magnitude(reference.size());
    kn::reference::conv_forward(G, absolute(in).data(), magnitude.data(), n, absolute(weights).data(),
                                absolute(bias).data(), false);

    CHECK(std::all_of(fast.end() - guard, fast.end(), [](T v) { return v == T(-777); }));
    fast.resize(reference.size());
    check_within_bound(fast, reference, magnitude, G.patch() + 1, "forward, batch " + std::to_string(n));
  }
}

// Backward against the reference (all three gradients).
template <class T, conv_geometry G, bool Relu>
void conv_backward_matches_reference() {
  for (const std::size_t n : {1, 3, 13}) {
    dp::rng gen(n * 11 + G.cout);
    const auto in = random_values<T>(n * G.in_size(), gen);
    const auto weights = random_values<T>(G.weight_count(), gen);
    const auto bias = random_values<T>(G.banks() * G.cout, gen);
    const auto dout = random_values<T>(n * G.out_size(), gen);
    std::vector<T> out(n * G.out_size());
    kn::reference::conv_forward(G, in.data(), out.data(), n, weights.data(), bias.data(), Relu);

    // Both add to what is there: start from the same non-zero values.
    const auto din0 = random_values<T>(in.size(), gen), dw0 = random_values<T>(weights.size(), gen),
               db0 = random_values<T>(bias.size(), gen);
    auto din = din0, dw = dw0, db = db0, ref_din = din0, ref_dw = dw0, ref_db = db0;
    kn::conv_backward<T, G, Relu>(in.data(), out.data(), dout.data(), din.data(), n, weights.data(), dw.data(),
                                  db.data());
    kn::reference::conv_backward(G, in.data(), out.data(), dout.data(), ref_din.data(), n, weights.data(),
                                 ref_dw.data(), ref_db.data(), Relu);

    // Magnitudes: the same sums over absolute values, with the ReLU mask.
    std::vector<double> masked(dout.size());
    for (std::size_t i = 0; i < dout.size(); ++i) masked[i] = (!Relu || out[i] > T(0)) ? std::abs(double(dout[i])) : 0;
    auto mag_din = absolute(din0), mag_dw = absolute(dw0), mag_db = absolute(db0);
    kn::reference::conv_backward(G, absolute(in).data(), static_cast<const double*>(nullptr), masked.data(),
                                 mag_din.data(), n, absolute(weights).data(), mag_dw.data(), mag_db.data(), false);
    const std::size_t terms = std::max(n * G.out_h() * G.out_w(), G.patch() * G.cout) + 1;
    const std::string batch = ", batch " + std::to_string(n);
    check_within_bound(din, ref_din, mag_din, terms, "d(input)" + batch);
    check_within_bound(dw, ref_dw, mag_dw, terms, "d(weights)" + batch);
    check_within_bound(db, ref_db, mag_db, terms, "d(bias)" + batch);
  }
}

// Each geometry in float and double, one of them with the fused ReLU (the
// geometries below alternate, to keep the number of instantiations down).
template <conv_geometry G, bool FloatRelu>
void conv_matches_reference() {
  conv_forward_matches_reference<float, G, FloatRelu>();
  conv_forward_matches_reference<double, G, !FloatRelu>();
  conv_backward_matches_reference<float, G, !FloatRelu>();
  conv_backward_matches_reference<double, G, FloatRelu>();
}

// {cin, h, w, kernel, stride, pad, cout, grid rows, grid cols}
constexpr conv_geometry conv1_gray{1, 12, 10, 4, 1, 0, 20, 1, 1};              // DeepID1 conv1, gray
constexpr conv_geometry conv_rgb_strided{3, 9, 8, 3, 2, 1, 60, 1, 1};          // padding and stride
constexpr conv_geometry conv2_like{20, 8, 7, 3, 1, 0, 40, 1, 1};               // DeepID1 conv2
constexpr conv_geometry one_map{2, 6, 5, 3, 1, 1, 1, 1, 1};                    // a single output map
constexpr conv_geometry conv3_shared{40, 8, 6, 3, 1, 0, 60, 2, 2};             // DeepID1 conv3, 39x31
constexpr conv_geometry shared_strided{3, 9, 9, 3, 2, 0, 5, 2, 1};             // 4x4 output, 2x1 grid
constexpr conv_geometry conv4_connected{60, 3, 2, 2, 1, 0, 80, 2, 1};          // DeepID1 conv4, 39x31
constexpr conv_geometry connected_small{1, 5, 5, 2, 1, 0, 3, 4, 4};            // 16 banks, 3 maps
constexpr conv_geometry connected_padded{20, 4, 3, 3, 1, 1, 24, 4, 3};         // DeepID3's top layers, small
constexpr conv_geometry prime_width{12, 9, 23, 5, 1, 2, 24, 1, 1};             // 23 wide: rows end in a tail tile

// A plan whose tiles do not divide the region's rows: each row ends with a
// narrower tail tile.
template <conv_geometry G>
constexpr bool has_tail(const kn::detail::conv_plan& plan) {
  return plan.tile.samples == 1 && G.region_w() % plan.tile.cols != 0;
}
static_assert(has_tail<prime_width>(kn::detail::forward_plan<float, prime_width, 1>()));
static_assert(has_tail<prime_width>(kn::detail::input_grad_plan<float, prime_width>()));

// Tiles are compiled for what they read: the first layers of DeepID3's
// 55x47 and 47x47 nets get the same plan and tile key, hence one copy of
// the tile code.
constexpr conv_geometry deepid3_first_rectangle{3, 55, 47, 3, 1, 1, 64, 1, 1};
constexpr conv_geometry deepid3_first_square{3, 47, 47, 3, 1, 1, 64, 1, 1};
static_assert(kn::detail::forward_plan<float, deepid3_first_rectangle, 1>().tile ==
              kn::detail::forward_plan<float, deepid3_first_square, 1>().tile);
static_assert(kn::detail::tile_key(deepid3_first_rectangle, {}) == kn::detail::tile_key(deepid3_first_square, {}));
static_assert(!(deepid3_first_rectangle == deepid3_first_square));

}  // namespace

TEST_CASE("conv kernels match the reference") {
  SUBCASE("conv 4x4, 1 -> 20 maps") { conv_matches_reference<conv1_gray, true>(); }
  SUBCASE("conv 3x3, stride 2, padding 1, 3 -> 60 maps") { conv_matches_reference<conv_rgb_strided, false>(); }
  SUBCASE("conv 3x3, 20 -> 40 maps") { conv_matches_reference<conv2_like, true>(); }
  SUBCASE("conv 3x3, padding 1, 2 -> 1 map") { conv_matches_reference<one_map, false>(); }
  SUBCASE("locally shared 2x2 grid, 40 -> 60 maps") { conv_matches_reference<conv3_shared, true>(); }
  SUBCASE("locally shared 2x1 grid, stride 2, 3 -> 5 maps") { conv_matches_reference<shared_strided, false>(); }
  SUBCASE("locally connected, 60 -> 80 maps") { conv_matches_reference<conv4_connected, true>(); }
  SUBCASE("locally connected 4x4, 1 -> 3 maps") { conv_matches_reference<connected_small, false>(); }
  SUBCASE("locally connected 3x3, padding 1, 12 banks, 20 -> 24 maps") {
    conv_matches_reference<connected_padded, true>();
  }
  SUBCASE("conv 5x5, padding 2, 12 -> 24 maps, 23 wide: tail tiles") { conv_matches_reference<prime_width, false>(); }
}

// Convolution with the ReLU and a Pool x Pool max pool done in its registers
// (inference), against the reference convolution then the reference pool.
// Pooling is exact, so each pooled value is within the bound of the largest
// magnitude in its window.
namespace {

template <class T, conv_geometry G, std::size_t Pool>
void pooled_conv_matches_reference() {
  static_assert(kn::can_pool_in_epilogue<T, G, Pool>, "this geometry should take the pooled path");
  constexpr std::size_t ho = G.out_h() / Pool, wo = G.out_w() / Pool;
  for (const std::size_t n : {1, 3, 13}) {
    dp::rng gen(n * 5 + G.cout);
    const auto in = random_values<T>(n * G.in_size(), gen);
    const auto weights = random_values<T>(G.weight_count(), gen);
    const auto bias = random_values<T>(G.banks() * G.cout, gen);
    kn::packed_conv_weights<T> packed;
    kn::pack_conv_weights(G, weights.data(), bias.data(), packed);
    std::vector<T> fast(n * ho * wo * G.cout), conv(n * G.out_size()), reference(fast.size());
    kn::conv_forward_pooled<T, G, true, Pool>(in.data(), fast.data(), n, packed);
    kn::reference::conv_forward(G, in.data(), conv.data(), n, weights.data(), bias.data(), true);
    kn::reference::max_pool_forward(G.cout, G.out_h(), G.out_w(), Pool, Pool, conv.data(), reference.data(), n);
    std::vector<double> magnitude(conv.size()), pooled_magnitude(fast.size());
    kn::reference::conv_forward(G, absolute(in).data(), magnitude.data(), n, absolute(weights).data(),
                                absolute(bias).data(), false);
    kn::reference::max_pool_forward(G.cout, G.out_h(), G.out_w(), Pool, Pool, magnitude.data(),
                                    pooled_magnitude.data(), n);
    check_within_bound(fast, reference, pooled_magnitude, G.patch() + 1, "pooled, batch " + std::to_string(n));
  }
}

}  // namespace

TEST_CASE("conv kernels with max pooling in the epilogue match the reference") {
  pooled_conv_matches_reference<float, conv_geometry{3, 9, 9, 4, 1, 0, 20, 1, 1}, 2>();    // 6x6 -> 3x3
  pooled_conv_matches_reference<double, conv_geometry{3, 9, 9, 4, 1, 0, 20, 1, 1}, 2>();
  pooled_conv_matches_reference<float, conv_geometry{20, 10, 10, 3, 1, 0, 40, 2, 2}, 2>();  // regions of 4x4
  pooled_conv_matches_reference<float, conv_geometry{5, 8, 8, 3, 1, 1, 3, 1, 1}, 2>();      // padded, 3 maps
  constexpr conv_geometry wide{3, 2, 46, 3, 1, 1, 24, 1, 1};                                // 2x46: tail tiles
  static_assert(has_tail<wide>(kn::detail::forward_plan<float, wide, 2>()));
  pooled_conv_matches_reference<float, wide, 2>();
}

// ------------------------------------------------------------ pooling

namespace {

// Max pooling is exact, so fast and reference agree bit for bit, ties
// included (inputs on a coarse grid of values make ties common).
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t Size, std::size_t Stride,
          std::size_t Pad = 0>
void pool_matches_reference() {
  constexpr std::size_t ho = (H + 2 * Pad - Size) / Stride + 1, wo = (W + 2 * Pad - Size) / Stride + 1;
  for (const std::size_t n : {1, 3, 13}) {
    dp::rng gen(n + C);
    std::vector<T> in(n * C * H * W);
    for (auto& v : in) v = T(std::round(gen.normal() * 2) / 2);
    std::vector<T> out(n * C * ho * wo), ref_out(out.size());
    kn::max_pool_forward<T, C, H, W, Size, Stride, Pad>(in.data(), out.data(), n);
    kn::reference::max_pool_forward(C, H, W, Size, Stride, in.data(), ref_out.data(), n, Pad);
    CHECK(out == ref_out);
    const auto dout = random_values<T>(out.size(), gen);
    std::vector<T> din(in.size(), T(0)), ref_din(in.size(), T(0));
    kn::max_pool_backward<T, C, H, W, Size, Stride, Pad>(in.data(), dout.data(), din.data(), n);
    kn::reference::max_pool_backward(C, H, W, Size, Stride, in.data(), dout.data(), ref_din.data(), n, Pad);
    CHECK(din == ref_din);
  }
}

}  // namespace

TEST_CASE("max pooling kernels match the reference exactly") {
  pool_matches_reference<float, 20, 6, 8, 2, 2>();
  pool_matches_reference<double, 20, 6, 8, 2, 2>();
  pool_matches_reference<float, 3, 7, 7, 3, 2>();    // overlapping windows
  pool_matches_reference<double, 60, 4, 4, 2, 2>();
  pool_matches_reference<float, 1, 8, 8, 2, 3>();    // gaps between windows
  pool_matches_reference<double, 17, 5, 5, 3, 1>();
  pool_matches_reference<float, 40, 16, 12, 2, 2>();
  pool_matches_reference<float, 19, 7, 5, 2, 2>();      // floor: the last row is left over
  pool_matches_reference<double, 3, 13, 11, 2, 2>();    // floor on both sides
  pool_matches_reference<float, 20, 6, 5, 3, 1, 1>();   // Inception's pool branch: 3x3, stride 1, pad 1
  pool_matches_reference<double, 9, 6, 5, 3, 1, 1>();
  pool_matches_reference<float, 40, 6, 5, 3, 1, 1>();   // several vectors and a tail
  pool_matches_reference<float, 8, 7, 6, 3, 2, 1>();    // padded and strided
  pool_matches_reference<double, 2, 4, 4, 2, 2, 1>();   // windows of one pixel at the corners
}

// ------------------------------------------------------------ dense

namespace {

template <class T>
void dense_matches_reference(std::size_t in_size, std::size_t out_size,
                             std::initializer_list<std::size_t> batches = {1, 3, 13}) {
  for (const std::size_t n : batches) {
    dp::rng gen(n + in_size);
    const auto in = random_values<T>(n * in_size, gen);
    const auto weights = random_values<T>(in_size * out_size, gen);
    const auto bias = random_values<T>(out_size, gen);
    const std::string what = std::to_string(in_size) + " -> " + std::to_string(out_size) + ", batch " +
                             std::to_string(n);
    std::vector<double> magnitude(n * out_size);
    kn::reference::dense_forward(in_size, out_size, absolute(in).data(), magnitude.data(), n,
                                 absolute(weights).data(), absolute(bias).data(), false);

    std::vector<T> out(n * out_size), ref(n * out_size);
    kn::dense_forward(in_size, out_size, in.data(), out.data(), n, weights.data(), bias.data(), false);
    kn::reference::dense_forward(in_size, out_size, in.data(), ref.data(), n, weights.data(), bias.data(), false);
    check_within_bound(out, ref, magnitude, in_size + 1, "forward " + what);

    // accumulate: out starts as the bias rows, so the result is the same.
    for (std::size_t s = 0; s < n; ++s) std::copy(bias.begin(), bias.end(), out.begin() + s * out_size);
    kn::dense_forward(in_size, out_size, in.data(), out.data(), n, weights.data(), static_cast<const T*>(nullptr),
                      true);
    check_within_bound(out, ref, magnitude, in_size + 1, "accumulating forward " + what);

    const auto dz = random_values<T>(n * out_size, gen);
    std::vector<T> din(in.size(), T(0)), dw(weights.size(), T(0)), db(out_size, T(0));
    auto ref_din = din, ref_dw = dw, ref_db = db;
    kn::dense_backward(in_size, out_size, in.data(), dz.data(), din.data(), n, weights.data(), dw.data(), db.data());
    kn::reference::dense_backward(in_size, out_size, in.data(), dz.data(), ref_din.data(), n, weights.data(),
                                  ref_dw.data(), ref_db.data());
    std::vector<double> mag_din(din.size()), mag_dw(dw.size()), mag_db(db.size());
    kn::reference::dense_backward(in_size, out_size, absolute(in).data(), absolute(dz).data(), mag_din.data(), n,
                                  absolute(weights).data(), mag_dw.data(), mag_db.data());
    const std::size_t terms = std::max(n, out_size);
    check_within_bound(din, ref_din, mag_din, terms, "d(input) " + what);
    check_within_bound(dw, ref_dw, mag_dw, terms, "d(weights) " + what);
    check_within_bound(db, ref_db, mag_db, terms, "d(bias) " + what);
  }
}

}  // namespace

TEST_CASE("dense kernels match the reference") {
  dense_matches_reference<float>(520, 160);  // the DeepID layer, 39x31 patches
  dense_matches_reference<double>(520, 160);
  dense_matches_reference<float>(7, 3);
  dense_matches_reference<double>(33, 17);
  // Several blocks of K and of rows, ragged last blocks, a tail of columns
  // past the last vector in every pass (d(input)'s columns are the 1,300
  // inputs), and batches that split the rows into groups.
  dense_matches_reference<float>(1300, 700, {2, 70});
  dense_matches_reference<double>(300, 45, {50});
  // d(weights) with in^T past gemm_transposed_a_limit: packed per row group
  // instead of copied whole.
  dense_matches_reference<float>(32800, 20, {128});
}

TEST_CASE("dense backward without accumulate overwrites: bitwise what adding to zeros gives") {
  for (const auto& [I, O, n] : {std::array<std::size_t, 3>{1300, 700, 70}, std::array<std::size_t, 3>{33, 17, 5}}) {
    dp::rng gen(I + O);
    const auto in = random_values<float>(n * I, gen), weights = random_values<float>(I * O, gen);
    const auto dz = random_values<float>(n * O, gen);
    std::vector<float> din(n * I, 0.f), dw(I * O, 0.f), db(O, 0.f);
    kn::dense_backward(I, O, in.data(), dz.data(), din.data(), n, weights.data(), dw.data(), db.data());
    std::vector<float> din2(n * I, 7.f), dw2(I * O, -3.f), db2(O, 5.f);  // stale values to overwrite
    kn::dense_backward(I, O, in.data(), dz.data(), din2.data(), n, weights.data(), dw2.data(), db2.data(), false);
    CHECK(din2 == din);
    CHECK(dw2 == dw);
    CHECK(db2 == db);
  }
}

TEST_CASE("dense kernels do not depend on the thread count (bitwise)") {
  const std::size_t I = 1300, O = 700, n = 70;
  dp::rng gen(3);
  const auto in = random_values<float>(n * I, gen), weights = random_values<float>(I * O, gen);
  const auto bias = random_values<float>(O, gen), dz = random_values<float>(n * O, gen);
  const auto run = [&](int threads) {
    const int before = dp::num_threads();
    dp::set_num_threads(threads);
    std::vector<float> out(n * O), din(n * I, 0.5f), dw(I * O, 0.25f), db(O, 0.0f);
    kn::dense_forward(I, O, in.data(), out.data(), n, weights.data(), bias.data(), false);
    kn::dense_backward(I, O, in.data(), dz.data(), din.data(), n, weights.data(), dw.data(), db.data());
    dp::set_num_threads(before);
    return std::vector<std::vector<float>>{out, din, dw, db};
  };
  CHECK(run(1) == run(2));
  CHECK(run(1) == run(3));
}

// ------------------------------------------------------------ whole nets

namespace {

template <class T>
std::vector<T> random_batch(std::size_t count, std::uint64_t seed) {
  dp::rng gen(seed);
  return random_values<T>(count, gen);
}

// model::forward (SIMD kernels, fusions) against model::forward_reference
// (scalar kernels, layer by layer). Errors compound over the layers, so the
// bound is on the largest error relative to the largest output.
template <class Net, class T>
void model_matches_reference(std::size_t n, double tolerance) {
  dp::model<Net, T> m(dp::init::seed{21});
  constexpr std::size_t out_size = dp::model<Net, T>::output_shape.size();
  const auto x = random_batch<T>(n * dp::model<Net, T>::input_shape.size(), 5);
  const T* fast_out = m.forward(x.data(), n, dp::mode::inference);
  const std::vector<T> fast(fast_out, fast_out + n * out_size);
  const T* ref_out = m.forward_reference(x.data(), n);
  const std::vector<T> ref(ref_out, ref_out + n * out_size);
  double largest = 0.0, error = 0.0;
  std::size_t positive = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    largest = std::max(largest, std::abs(double(ref[i])));
    error = std::max(error, std::abs(double(fast[i]) - double(ref[i])));
    positive += ref[i] > T(0);
  }
  INFO("largest output " << largest << ", largest error " << error);
  CHECK(positive > ref.size() / 10);  // the features are not all cut off by the ReLU
  CHECK(error <= tolerance * largest);
}

}  // namespace

TEST_CASE("model forward matches forward_reference on the DeepID nets") {
  using rgb_rectangle = dp::patch_shape<3, 39, 31>;
  using gray_square = dp::patch_shape<1, 31, 31>;
  model_matches_reference<dp::deepid1<rgb_rectangle>, float>(3, 5e-6);
  model_matches_reference<dp::deepid1_plain<gray_square>, float>(13, 5e-6);
  model_matches_reference<dp::deepid2<dp::patch_shape<3, 55, 47>>, float>(2, 5e-6);
  // 3x3 convolutions by Winograd in float (all but the first of each net).
  using reduced = dp::deepid3_reduced_widths;
  model_matches_reference<dp::deepid3_net1<dp::patch_shape<3, 55, 47>, reduced>, float>(2, 5e-6);
  model_matches_reference<dp::deepid3_net2<dp::patch_shape<1, 47, 47>, reduced>, float>(3, 5e-6);
}

// ------------------------------------------------------------ threads

namespace {

struct pass_result {
  std::vector<float> features, output, gradients, dinput;
  bool operator==(const pass_result&) const = default;  // bitwise for non-NaN values
};

template <class Net>
pass_result forward_backward(int threads, std::size_t n) {
  dp::set_num_threads(threads);
  dp::model<Net, float> m(dp::init::seed{8});
  constexpr std::size_t in_size = dp::model<Net, float>::input_shape.size(),
                        out_size = dp::model<Net, float>::output_shape.size();
  const auto x = random_batch<float>(n * in_size, 3);
  const auto dout = random_batch<float>(n * out_size, 4);
  pass_result r;
  const float* features = m.forward(x.data(), n, dp::mode::inference);
  r.features.assign(features, features + n * out_size);
  const float* out = m.forward(x.data(), n, dp::mode::training);
  r.output.assign(out, out + n * out_size);
  r.dinput.resize(n * in_size);
  m.backward(dout.data(), r.dinput.data());
  r.gradients.assign(m.gradients().begin(), m.gradients().end());
  dp::set_num_threads(1);
  return r;
}

}  // namespace

TEST_CASE("results do not depend on the thread count (bitwise)") {
  using net = dp::deepid1<dp::patch_shape<3, 39, 31>>;
  for (const std::size_t n : {5, 13, 40}) {
    INFO("batch " << n);
    const pass_result one = forward_backward<net>(1, n), two = forward_backward<net>(2, n);
    CHECK(one.features == two.features);
    CHECK(one.output == two.output);
    CHECK(one.gradients == two.gradients);
    CHECK(one.dinput == two.dinput);
  }
  using plain = dp::deepid1_plain<dp::patch_shape<1, 31, 31>>;
  CHECK(forward_backward<plain>(1, 9) == forward_backward<plain>(2, 9));
  // conv4 locally connected on a 4x3 grid: d(weights) per bank over all
  // samples, d(input) in tiles of several samples.
  using deepid2 = dp::deepid2<dp::patch_shape<1, 55, 47>>;
  for (const std::size_t n : {7, 21}) {
    INFO("DeepID2, batch " << n);
    CHECK(forward_backward<deepid2>(1, n) == forward_backward<deepid2>(2, n));
  }
}
