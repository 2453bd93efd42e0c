// The Winograd F(2x2, 3x3) convolution kernels against the scalar reference
// (kernels/reference.hpp), in float and double, and the thread count's
// (non-)effect on their results.
//
// Tolerances. The Winograd kernels sum other terms than a direct sum: the
// transforms add input values of a 4x4 tile that cancel exactly in exact
// arithmetic. So the error bound of a result is terms * eps * Mw, where Mw
// is the same computation with every transform coefficient and every value
// replaced by its absolute value (winograd_magnitude below), and terms the
// length of its longest chain of sums (the channel sum plus the transforms'
// adds). Mw is at least the direct sum's magnitude, so kernel and reference
// may differ by 2 * terms * eps * Mw and no more. A wrong or missing term
// moves a result by about Mw / terms.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <deepid/deepid.hpp>
#include <deepid/kernels/reference.hpp>
#include <deepid/kernels/winograd_conv.hpp>

#include "kernel_checks.hpp"

namespace dp = deepid;
namespace kn = deepid::kernels;
using kn::conv_geometry;

namespace {

const bool one_thread = (dp::set_num_threads(1), true);

using deepid_test::absolute;
using deepid_test::check_within_bound;
using deepid_test::random_values;

// The Winograd computation on absolute values with absolute coefficients
// (the magnitudes of the tolerance above), in double.
using mat4 = std::array<std::array<double, 4>, 4>;
constexpr double BT[4][4] = {{1, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}};
constexpr double Gm[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, .5, .5}, {0, 0, 1}};
constexpr double AT[2][4] = {{1, 1, 1, 0}, {0, 1, 1, 1}};

struct winograd_magnitude {
  conv_geometry g;
  std::size_t tile_cols() const { return (g.out_w() + 1) / 2; }
  std::size_t tiles() const { return (g.out_h() + 1) / 2 * tile_cols(); }

  // |B^T| |d| |B| of tile t, channel ci.
  mat4 input(const std::vector<double>& in, std::size_t s, std::size_t t, std::size_t ci) const {
    const long y0 = long(t / tile_cols()) * 2 - long(g.pad), x0 = long(t % tile_cols()) * 2 - long(g.pad);
    mat4 d{}, r{};
    for (long a = 0; a < 4; ++a)
      for (long b = 0; b < 4; ++b) {
        const long y = y0 + a, x = x0 + b;
        if (y >= 0 && x >= 0 && y < long(g.h) && x < long(g.w)) d[a][b] = in[((s * g.h + y) * g.w + x) * g.cin + ci];
      }
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) r[a][b] += BT[a][i] * d[i][j] * BT[b][j];
    return r;
  }
  // |G| |w| |G^T| of (ci, co).
  mat4 weight(const std::vector<double>& w, std::size_t ci, std::size_t co) const {
    mat4 r{};
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) r[a][b] += Gm[a][i] * w[((i * 3 + j) * g.cin + ci) * g.cout + co] * Gm[b][j];
    return r;
  }
  // |A| |dz| |A^T| of tile t, channel co (dz: masked |d(output)|).
  mat4 output_gradient(const std::vector<double>& dz, std::size_t s, std::size_t t, std::size_t co) const {
    const std::size_t y0 = t / tile_cols() * 2, x0 = t % tile_cols() * 2;
    mat4 r{};
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 2; ++j) {
        if (y0 + i >= g.out_h() || x0 + j >= g.out_w()) continue;
        const double z = dz[((s * g.out_h() + y0 + i) * g.out_w() + x0 + j) * g.cout + co];
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b) r[a][b] += AT[i][a] * z * AT[j][b];
      }
    return r;
  }

  std::vector<double> forward(const std::vector<double>& in, const std::vector<double>& w,
                              const std::vector<double>& bias, std::size_t n) const {
    std::vector<double> out(n * g.out_size());
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t t = 0; t < tiles(); ++t)
        for (std::size_t co = 0; co < g.cout; ++co) {
          mat4 m{};
          for (std::size_t ci = 0; ci < g.cin; ++ci) {
            const mat4 v = input(in, s, t, ci), u = weight(w, ci, co);
            for (int a = 0; a < 4; ++a)
              for (int b = 0; b < 4; ++b) m[a][b] += u[a][b] * v[a][b];
          }
          const std::size_t y0 = t / tile_cols() * 2, x0 = t % tile_cols() * 2;
          for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 2; ++j) {
              if (y0 + i >= g.out_h() || x0 + j >= g.out_w()) continue;
              double y = bias[co];
              for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) y += AT[i][a] * m[a][b] * AT[j][b];
              out[((s * g.out_h() + y0 + i) * g.out_w() + x0 + j) * g.cout + co] = y;
            }
        }
    return out;
  }

  // Adds the magnitudes of d(input) and d(weights) to din and dw.
  void backward(const std::vector<double>& in, const std::vector<double>& w, const std::vector<double>& dz,
                std::size_t n, std::vector<double>& din, std::vector<double>& dw) const {
    std::vector<mat4> du(g.cin * g.cout, mat4{});
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t t = 0; t < tiles(); ++t) {
        std::vector<mat4> dm(g.cout);
        for (std::size_t co = 0; co < g.cout; ++co) dm[co] = output_gradient(dz, s, t, co);
        const long y0 = long(t / tile_cols()) * 2 - long(g.pad), x0 = long(t % tile_cols()) * 2 - long(g.pad);
        for (std::size_t ci = 0; ci < g.cin; ++ci) {
          const mat4 v = input(in, s, t, ci);
          mat4 dv{};
          for (std::size_t co = 0; co < g.cout; ++co) {
            const mat4 u = weight(w, ci, co);
            for (int a = 0; a < 4; ++a)
              for (int b = 0; b < 4; ++b) {
                du[ci * g.cout + co][a][b] += dm[co][a][b] * v[a][b];
                dv[a][b] += u[a][b] * dm[co][a][b];
              }
          }
          for (long i = 0; i < 4; ++i)
            for (long j = 0; j < 4; ++j) {
              const long y = y0 + i, x = x0 + j;
              if (y < 0 || x < 0 || y >= long(g.h) || x >= long(g.w)) continue;
              double sum = 0;
              for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) sum += BT[a][i] * dv[a][b] * BT[b][j];
              din[((s * g.h + y) * g.w + x) * g.cin + ci] += sum;
            }
        }
      }
    for (std::size_t ci = 0; ci < g.cin; ++ci)
      for (std::size_t co = 0; co < g.cout; ++co)
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) {
            double sum = 0;
            for (int a = 0; a < 4; ++a)
              for (int b = 0; b < 4; ++b) sum += Gm[a][i] * du[ci * g.cout + co][a][b] * Gm[b][j];
            dw[((i * 3 + j) * g.cin + ci) * g.cout + co] += sum;
          }
  }
};

// Chains of adds in the transforms (input 4, weights 4, output 4, bias 1).
constexpr std::size_t transform_terms = 13;

template <class T, conv_geometry G, bool Relu>
void forward_matches_reference() {
  static_assert(kn::winograd_geometry<G>);
  constexpr std::size_t guard = 64;
  const winograd_magnitude mag{G};
  for (const std::size_t n : {1, 3, 8}) {
    dp::rng gen(n * 7 + G.cin + G.h);
    const auto in = random_values<T>(n * G.in_size(), gen);
    const auto weights = random_values<T>(G.weight_count(), gen);
    const auto bias = random_values<T>(G.cout, gen);
    kn::winograd_weights<T> packed;
    kn::pack_winograd_weights(G, weights.data(), bias.data(), packed);
    std::vector<T> fast(n * G.out_size() + guard, T(-777)), reference(n * G.out_size());
    kn::winograd_forward<T, G, Relu>(in.data(), fast.data(), n, packed);
    kn::reference::conv_forward(G, in.data(), reference.data(), n, weights.data(), bias.data(), Relu);
    CHECK(std::all_of(fast.end() - guard, fast.end(), [](T v) { return v == T(-777); }));
    fast.resize(reference.size());
    const auto magnitude = mag.forward(absolute(in), absolute(weights), absolute(bias), n);
    check_within_bound(fast, reference, magnitude, std::max(G.cin + transform_terms, G.patch() + 1),
                       "forward, batch " + std::to_string(n));
  }
}

template <class T, conv_geometry G, bool Relu>
void backward_matches_reference() {
  const winograd_magnitude mag{G};
  for (const std::size_t n : {1, 3, 11}) {
    dp::rng gen(n * 11 + G.cout + G.w);
    const auto in = random_values<T>(n * G.in_size(), gen);
    const auto weights = random_values<T>(G.weight_count(), gen);
    const auto bias = random_values<T>(G.cout, gen);
    const auto dout = random_values<T>(n * G.out_size(), gen);
    std::vector<T> out(n * G.out_size());
    kn::reference::conv_forward(G, in.data(), out.data(), n, weights.data(), bias.data(), Relu);

    // Both add to what is there: start from the same non-zero values.
    const auto din0 = random_values<T>(in.size(), gen), dw0 = random_values<T>(weights.size(), gen),
               db0 = random_values<T>(bias.size(), gen);
    auto din = din0, dw = dw0, db = db0, ref_din = din0, ref_dw = dw0, ref_db = db0;
    kn::winograd_workspace<T> ws;
    kn::winograd_backward<T, G, Relu>(in.data(), out.data(), dout.data(), din.data(), n, weights.data(), dw.data(),
                                      db.data(), ws);
    kn::reference::conv_backward(G, in.data(), out.data(), dout.data(), ref_din.data(), n, weights.data(),
                                 ref_dw.data(), ref_db.data(), Relu);

    std::vector<double> masked(dout.size());
    for (std::size_t i = 0; i < dout.size(); ++i) masked[i] = (!Relu || out[i] > T(0)) ? std::abs(double(dout[i])) : 0;
    auto mag_din = absolute(din0), mag_dw = absolute(dw0), mag_db = absolute(db0);
    mag.backward(absolute(in), absolute(weights), masked, n, mag_din, mag_dw);
    for (std::size_t i = 0; i < masked.size(); ++i) mag_db[i % G.cout] += masked[i];
    const std::size_t tiles = n * mag.tiles();
    const std::size_t terms = std::max({G.cout + transform_terms, 4 * tiles + transform_terms,
                                        n * G.out_h() * G.out_w(), G.patch() * G.cout}) + 1;
    const std::string batch = ", batch " + std::to_string(n);
    check_within_bound(din, ref_din, mag_din, terms, "d(input)" + batch);
    check_within_bound(dw, ref_dw, mag_dw, terms, "d(weights)" + batch);
    check_within_bound(db, ref_db, mag_db, terms, "d(bias)" + batch);

    // Without d(input): the same weight gradients, din untouched.
    auto dw2 = dw0, db2 = db0;
    kn::winograd_backward<T, G, Relu>(in.data(), out.data(), dout.data(), nullptr, n, weights.data(), dw2.data(),
                                      db2.data(), ws);
    CHECK(dw2 == dw);
    CHECK(db2 == db);
  }
}

template <conv_geometry G, bool FloatRelu>
void matches_reference() {
  forward_matches_reference<float, G, FloatRelu>();
  forward_matches_reference<double, G, !FloatRelu>();
  backward_matches_reference<float, G, !FloatRelu>();
  backward_matches_reference<double, G, FloatRelu>();
}

// {cin, h, w, kernel, stride, pad, cout, grid rows, grid cols}
constexpr conv_geometry even_padded{16, 8, 6, 3, 1, 1, 16, 1, 1};       // whole tiles
constexpr conv_geometry odd_padded{20, 7, 5, 3, 1, 1, 40, 1, 1};        // a half tile at both edges
constexpr conv_geometry odd_unpadded{24, 9, 8, 3, 1, 0, 17, 1, 1};      // 7x6 out, channel tails
constexpr conv_geometry small_map{33, 2, 3, 3, 1, 1, 20, 1, 1};         // one row of tiles, 2x3
constexpr conv_geometry wide{64, 13, 11, 3, 1, 1, 96, 1, 1};            // DeepID3's 13x11 stage

}  // namespace

TEST_CASE("Winograd F(2x2, 3x3) convolution matches the direct reference") {
  SUBCASE("8x6, padding 1, 16 -> 16 maps") { matches_reference<even_padded, true>(); }
  SUBCASE("7x5, padding 1, 20 -> 40 maps") { matches_reference<odd_padded, false>(); }
  SUBCASE("9x8, no padding, 24 -> 17 maps") { matches_reference<odd_unpadded, true>(); }
  SUBCASE("2x3, padding 1, 33 -> 20 maps") { matches_reference<small_map, false>(); }
  SUBCASE("13x11, padding 1, 64 -> 96 maps") {
    forward_matches_reference<float, wide, true>();
    backward_matches_reference<float, wide, true>();
  }
}

TEST_CASE("Winograd kernels do not depend on the thread count (bitwise)") {
  constexpr conv_geometry g = wide;
  for (const std::size_t n : {1, 5, 19}) {
    INFO("batch " << n);
    dp::rng gen(n);
    const auto in = random_values<float>(n * g.in_size(), gen);
    const auto weights = random_values<float>(g.weight_count(), gen);
    const auto bias = random_values<float>(g.cout, gen);
    const auto dout = random_values<float>(n * g.out_size(), gen);
    kn::winograd_weights<float> packed;
    kn::pack_winograd_weights(g, weights.data(), bias.data(), packed);
    const auto run = [&](int threads) {
      dp::set_num_threads(threads);
      std::vector<float> out(n * g.out_size()), din(n * g.in_size()), dw(g.weight_count()), db(g.cout);
      kn::winograd_forward<float, g, true>(in.data(), out.data(), n, packed);
      kn::winograd_workspace<float> ws;
      kn::winograd_backward<float, g, true>(in.data(), out.data(), dout.data(), din.data(), n, weights.data(),
                                            dw.data(), db.data(), ws);
      dp::set_num_threads(1);
      return std::array<std::vector<float>, 4>{out, din, dw, db};
    };
    CHECK(run(1) == run(2));
  }
}

// Which layers take the Winograd path: float, one bank, 3x3, stride 1,
// padding 0 or 1, at least 16 maps in and out.
static_assert(kn::winograd_suits<float, conv_geometry{16, 27, 23, 3, 1, 1, 24, 1, 1}>);
static_assert(kn::winograd_suits<float, conv_geometry{20, 16, 12, 3, 1, 0, 40, 1, 1}>);    // DeepID1 conv2
static_assert(!kn::winograd_suits<double, conv_geometry{16, 27, 23, 3, 1, 1, 24, 1, 1}>);  // double: direct
static_assert(!kn::winograd_suits<float, conv_geometry{3, 55, 47, 3, 1, 1, 64, 1, 1}>);    // 3 channels in
static_assert(!kn::winograd_suits<float, conv_geometry{16, 27, 23, 3, 2, 1, 24, 1, 1}>);   // stride 2
static_assert(!kn::winograd_suits<float, conv_geometry{16, 13, 11, 5, 1, 2, 24, 1, 1}>);   // 5x5
static_assert(!kn::winograd_suits<float, conv_geometry{16, 6, 6, 3, 1, 1, 24, 3, 3}>);     // locally connected
