// Small cases per layer, computed by hand. Parameters are set through the
// PyTorch layout (set_parameter), inputs and outputs are NCHW.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include <deepid/deepid.hpp>

namespace dp = deepid;
using dp::input, dp::stack, dp::conv, dp::locally_shared_conv, dp::locally_connected, dp::regions,
    dp::max_pool, dp::relu, dp::fully_connected, dp::multi_scale_fc, dp::dropout, dp::tap, dp::rounding,
    dp::inception, dp::branch, dp::head, dp::head_pass;
using values = std::vector<double>;

namespace {

// Forward through the public API: `x` holds n samples NCHW; the result is
// the N x D output flattened (NCHW order per sample).
template <class Net>
values forward(dp::model<Net, double>& m, const values& x, std::size_t n = 1) {
  constexpr dp::shape3 s = dp::model<Net, double>::input_shape;
  dp::batch4<double> batch(std::array<std::size_t, 4>{n, s.c, s.h, s.w});
  REQUIRE(x.size() == batch.size());
  std::copy(x.begin(), x.end(), batch.data());
  const auto out = m.forward(batch);
  return values(out.data(), out.data() + out.size());
}

// Backward after forward(): `dout` in the layout forward returned (here
// always H = W = 1 or one map, where NHWC and NCHW agree); returns dL/dx.
template <class Net>
values backward(dp::model<Net, double>& m, const values& dout) {
  values dx(m.batch() * dp::model<Net, double>::input_shape.size());
  m.backward(dout.data(), dx.data());
  return dx;
}

values iota(std::size_t n, double first = 1.0) {
  values v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

}  // namespace

TEST_CASE("conv: a 1-channel 3x3 input with 2x2 kernels, by hand") {
  // x = 1 2 3     map 0: kernel 1 2, bias 0.5    map 1: kernel 0  0, bias 1
  //     4 5 6                  3 4                             0 -1
  //     7 8 9
  const values x = iota(9), weight{1, 2, 3, 4, 0, 0, 0, -1}, bias{0.5, 1};
  SUBCASE("linear") {
    dp::model<stack<input<1, 3, 3>, conv<2, 2>>, double> m;
    m.set_parameter("1.weight", weight);
    m.set_parameter("1.bias", bias);
    // map 0: 1*1+2*2+4*3+5*4 = 37, 47, 67, 77 (+0.5); map 1: 1 - x[y+1][x+1].
    CHECK(forward(m, x) == values{37.5, 47.5, 67.5, 77.5, -4, -5, -7, -8});
  }
  SUBCASE("fused relu") {
    dp::model<stack<input<1, 3, 3>, conv<2, 2>, relu>, double> m;
    m.set_parameter("1.weight", weight);
    m.set_parameter("1.bias", bias);
    CHECK(forward(m, x) == values{37.5, 47.5, 67.5, 77.5, 0, 0, 0, 0});
  }
  SUBCASE("two samples are independent") {
    dp::model<stack<input<1, 3, 3>, conv<2, 2>>, double> m;
    m.set_parameter("1.weight", weight);
    m.set_parameter("1.bias", bias);
    values two = x;
    for (double v : x) two.push_back(2 * v);
    CHECK(forward(m, two, 2) ==
          values{37.5, 47.5, 67.5, 77.5, -4, -5, -7, -8, 74.5, 94.5, 134.5, 154.5, -9, -11, -15, -17});
  }
  SUBCASE("gradients of L = sum of the outputs") {
    dp::model<stack<input<1, 3, 3>, conv<1, 2>>, double> m;
    m.set_parameter("1.weight", values{1, 2, 3, 4});
    forward(m, x);
    // dL/dw[ky][kx] = sum of the inputs the tap sees; dL/db = 4 outputs;
    // dL/dx = sum of the weights that see the pixel.
    CHECK(backward(m, values(4, 1.0)) == values{1, 3, 2, 4, 10, 6, 3, 7, 4});
    CHECK(m.get_gradient("1.weight") == values{12, 16, 24, 28});
    CHECK(m.get_gradient("1.bias") == values{4});
  }
}

TEST_CASE("conv: channels are summed") {
  dp::model<stack<input<2, 2, 2>, conv<1, 2>>, double> m;
  m.set_parameter("1.weight", values{1, 1, 1, 1, 0, 0, 0, -0.5});  // OIHW: channel 0 all ones
  CHECK(forward(m, values{1, 2, 3, 4, 10, 20, 30, 40}) == values{10 - 20.0});
}

TEST_CASE("conv: padding and stride") {
  const values x{1, 2, 3, 4}, ones(4, 1.0);
  SUBCASE("padding 1: each output sums the pixels its window covers") {
    dp::model<stack<input<1, 2, 2>, conv<1, 2, 1, 1>>, double> m;
    m.set_parameter("1.weight", ones);
    CHECK(forward(m, x) == values{1, 3, 2, 4, 10, 6, 3, 7, 4});
  }
  SUBCASE("padding 1, stride 2: every window holds one pixel") {
    dp::model<stack<input<1, 2, 2>, conv<1, 2, 2, 1>>, double> m;
    m.set_parameter("1.weight", ones);
    CHECK(forward(m, x) == values{1, 2, 3, 4});
  }
}

TEST_CASE("locally_shared_conv: each region has its own weights") {
  SUBCASE("1x2 grid, 2x2 kernels") {
    // x[y][x] = 5y + x + 1 on 3x5; output 2x4, left region picks the window's
    // top-left pixel, right region its bottom-right pixel plus 100.
    dp::model<stack<input<1, 3, 5>, locally_shared_conv<1, 2, regions<1, 2>>>, double> m;
    const auto tensors = m.parameter_tensors();
    CHECK(tensors[0].shape == std::vector<std::size_t>{1, 2, 1, 1, 2, 2});  // grid rows, cols, O, I, kH, kW
    CHECK(tensors[1].shape == std::vector<std::size_t>{1, 2, 1});
    m.set_parameter("1.weight", values{1, 0, 0, 0, 0, 0, 0, 1});
    m.set_parameter("1.bias", values{0, 100});
    CHECK(forward(m, iota(15)) == values{1, 2, 109, 110, 6, 7, 114, 115});
  }
  SUBCASE("2x2 grid: each quarter of the map gets its region's bias") {
    dp::model<stack<input<1, 5, 5>, locally_shared_conv<1, 2, regions<2, 2>>>, double> m;
    m.set_parameter("1.weight", values(16, 0.0));
    m.set_parameter("1.bias", values{1, 2, 3, 4});
    CHECK(forward(m, iota(25)) == values{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  }
}

TEST_CASE("locally_connected: one weight per output position") {
  dp::model<stack<input<1, 2, 2>, locally_connected<1, 1>>, double> m;
  static_assert(decltype(m)::param_count == 8);
  m.set_parameter("1.weight", values{1, 2, 3, 4});
  m.set_parameter("1.bias", values{0, 0, 0, 10});
  CHECK(forward(m, values{5, 6, 7, 8}) == values{5, 12, 21, 42});
}

TEST_CASE("max_pool") {
  SUBCASE("ties: the gradient goes to the first maximum in row-major order") {
    dp::model<stack<input<1, 2, 4>, max_pool<2>>, double> m;
    CHECK(forward(m, values{1, 3, 3, 0, 3, 2, -1, -1}) == values{3, 3});
    CHECK(backward(m, values{10, 20}) == values{0, 10, 20, 0, 0, 0, 0, 0});
    CHECK(forward(m, values{5, 5, -2, -3, 5, 5, -4, -5}) == values{5, -2});
    CHECK(backward(m, values{1, 2}) == values{1, 0, 2, 0, 0, 0, 0, 0});
  }
  SUBCASE("channels are pooled separately") {
    dp::model<stack<input<2, 2, 2>, max_pool<2>>, double> m;
    CHECK(forward(m, values{1, 2, 3, 4, 8, 7, 6, 5}) == values{4, 8});
  }
  SUBCASE("overlapping windows share a maximum and add its gradients") {
    // x[y][x] = -(|y - 2| + |x - 2|): the centre is every window's maximum.
    dp::model<stack<input<1, 5, 5>, max_pool<3, 2>>, double> m;
    values x(25);
    for (int y = 0; y < 5; ++y)
      for (int c = 0; c < 5; ++c) x[y * 5 + c] = -(std::abs(y - 2) + std::abs(c - 2));
    CHECK(forward(m, x) == values{0, 0, 0, 0});
    values expected(25, 0.0);
    expected[12] = 1 + 2 + 3 + 4;
    CHECK(backward(m, values{1, 2, 3, 4}) == expected);
  }
  SUBCASE("stride larger than the window skips pixels") {
    dp::model<stack<input<1, 5, 5>, max_pool<2, 3>>, double> m;
    // windows at rows/cols {0,1} and {3,4}: maxima x[1][1], x[1][4], x[4][1], x[4][4]
    CHECK(forward(m, iota(25)) == values{7, 10, 22, 25});
  }
}

TEST_CASE("max_pool: padding and floor rounding") {
  // x = 1 2 3
  //     4 5 6   (one channel, 2x3)
  const values x = iota(6);
  SUBCASE("3x3, stride 1, pad 1: each output is the maximum of its neighbourhood") {
    dp::model<stack<input<1, 2, 3>, max_pool<3, 1, 1>>, double> m;
    CHECK(forward(m, x) == values{5, 6, 6, 5, 6, 6});
    // Gradients: 5 is the maximum of windows 0 and 3, 6 of the other four.
    CHECK(backward(m, values{1, 2, 3, 4, 5, 6}) == values{0, 0, 0, 0, 1 + 4, 2 + 3 + 5 + 6});
  }
  SUBCASE("padding never wins, even over negative values") {
    dp::model<stack<input<1, 2, 3>, max_pool<3, 1, 1>>, double> m;
    values negative(6);
    for (std::size_t i = 0; i < 6; ++i) negative[i] = -x[i];
    CHECK(forward(m, negative) == values{-1, -1, -2, -1, -1, -2});
  }
  SUBCASE("2x2, stride 2, pad 1: corner windows hold one pixel") {
    dp::model<stack<input<1, 2, 3>, max_pool<2, 2, 1, rounding::floor>>, double> m;
    // padded rows -1..2, cols -1..3: windows {-1,0}x{-1,0}, {-1,0}x{1,2}, {1,2}x{-1,0}, {1,2}x{1,2}
    CHECK(forward(m, x) == values{1, 3, 4, 6});
  }
  SUBCASE("floor: the last row and column are left over") {
    dp::model<stack<input<1, 3, 3>, max_pool<2, 2, 0, rounding::floor>>, double> m;
    static_assert(decltype(m)::output_shape == dp::shape3{1, 1, 1});
    CHECK(forward(m, values{1, 9, 100, 3, 4, 100, 100, 100, 100}) == values{9});
    CHECK(backward(m, values{1}) == values{0, 1, 0, 0, 0, 0, 0, 0, 0});
  }
  SUBCASE("DeepID3's pools on 55x47: 27x23, 13x11, 6x5, 3x2") {
    using pool = max_pool<2, 2, 0, rounding::floor>;
    using net = stack<input<1, 55, 47>, pool, pool, pool, pool>;
    dp::model<net, double> m;
    std::vector<dp::shape3> shapes;
    for (const auto& row : m.layers()) shapes.push_back(row.out_shape);
    CHECK(shapes == std::vector<dp::shape3>{{1, 27, 23}, {1, 13, 11}, {1, 6, 5}, {1, 3, 2}});
  }
}

TEST_CASE("locally_connected with padding: each position has its own weights over the padded input") {
  // A 3x3 kernel over a 1x2 map padded by 1 (3x4): a 1x2 output.
  dp::model<stack<input<1, 1, 2>, locally_connected<1, 3, 1, 1>>, double> m;
  CHECK(m.parameter_tensors()[0].shape == std::vector<std::size_t>{1, 2, 1, 1, 3, 3});
  // Position 0 takes its window's centre (x0), position 1 its centre-left (x0) plus 10 x centre (x1).
  values weight(18, 0.0);
  weight[4] = 1;
  weight[9 + 3] = 1;
  weight[9 + 4] = 10;
  m.set_parameter("1.weight", weight);
  m.set_parameter("1.bias", values{0, 0.5});
  CHECK(forward(m, values{2, 3}) == values{2, 2 + 30 + 0.5});
  CHECK(backward(m, values{1, 1}) == values{2, 10});
}

TEST_CASE("inception: branches concatenated along channels, in order") {
  // x: 1 channel 2x2 = {1, 2, 3, 4}. Branch 1: conv 1x1 (2 maps: 10x, -x);
  // branch 2: 3x3 max pool (pad 1) = 4 everywhere; branch 3: 2x2 conv pad 1
  // would change the size, so it is a padded 3x3 conv summing the window.
  using module = inception<branch<conv<2, 1>>, branch<max_pool<3, 1, 1>>, branch<conv<1, 3, 1, 1>>>;
  dp::model<stack<input<1, 2, 2>, module>, double> m;
  static_assert(decltype(m)::output_shape == dp::shape3{4, 2, 2});
  const auto rows = m.layers();
  REQUIRE(rows.size() == 4);
  CHECK(rows[3].name == "concat (3 branches)");
  CHECK((rows[0].branch == 1 && rows[1].branch == 2 && rows[2].branch == 3 && rows[3].branch == 0));
  m.set_parameter("1.weight", values{10, -1});
  m.set_parameter("1.bias", values{0, 0});
  m.set_parameter("3.weight", values(9, 1.0));
  m.set_parameter("3.bias", values{100});
  const values x = iota(4);
  CHECK(forward(m, x) == values{10, 20, 30, 40, -1, -2, -3, -4, 4, 4, 4, 4, 110, 110, 110, 110});
  // dL/dx of L = sum of all outputs: 10 - 1 (branch 1), the pool's winner
  // (x = 4, four windows) and 4 windows of the padded conv each.
  CHECK(backward(m, values(16, 1.0)) == values{9 + 4, 9 + 4, 9 + 4, 9 + 4 + 4});
}

TEST_CASE("heads: a side output from a tap; the main path goes on") {
  // x (3 values) -> tap "x" -> head "h": fc 1 unit (sum of x), main: fc 2 units.
  using net = stack<input<3, 1, 1>, tap<"x">, head<"h", "x", fully_connected<1>>, fully_connected<2>, tap<"main">>;
  dp::model<net, double> m;
  static_assert(decltype(m)::output_count == 2 && decltype(m)::head_count == 1);
  CHECK(decltype(m)::output_name(0) == "h");
  CHECK(decltype(m)::output_name(1) == "main");
  CHECK(decltype(m)::output_index("main") == 1);
  CHECK_THROWS_AS(decltype(m)::output_index("fc9"), dp::error);
  CHECK(m.layers()[1].head == "h");
  CHECK(m.layers()[2].head.empty());
  m.set_parameter("2.weight", values{1, 1, 1});
  m.set_parameter("2.bias", values{0.5});
  m.set_parameter("3.weight", values{1, 0, 0, 0, 0, 2});
  m.set_parameter("3.bias", values{0, 0});
  dp::batch4<double> x(std::array<std::size_t, 4>{1, 3, 1, 1});
  x.data()[0] = 1, x.data()[1] = 2, x.data()[2] = 3;
  SUBCASE("forward_outputs computes both") {
    const auto out = m.forward_outputs(x);
    REQUIRE(out.size() == 2);
    CHECK(out[0](0, 0) == 6.5);
    CHECK((out[1](0, 0) == 1 && out[1](0, 1) == 6));
  }
  SUBCASE("forward skips the head unless asked") {
    m.forward(x);
    CHECK_THROWS_AS(m.output(0), dp::error);
    CHECK(m.output(1)[1] == 6);
    const values dhead{1};
    std::array<const double*, 2> d{dhead.data(), nullptr};
    CHECK_THROWS_AS(m.backward_outputs(d), dp::error);
  }
  SUBCASE("the gradients of both outputs add up at the tap") {
    m.forward(x.data(), 1, dp::mode::inference, head_pass::run);
    const values dhead{2}, dmain{1, 1};
    values dx(3);
    m.backward_outputs({dhead.data(), dmain.data()}, dx.data());
    CHECK(dx == values{2 + 1, 2, 2 + 2});
    CHECK(m.get_gradient("2.weight") == values{2, 4, 6});
  }
}

TEST_CASE("a convolution followed by another branch's pool is not pooled in its epilogue") {
  // Layer list: conv (branch 1), its fused relu, max_pool<1> (branch 2, on
  // the module's input), concat. The pool follows the convolution two places
  // on, as in conv -> relu -> pool, but reads another activation, so the
  // fused conv + pool path must not stand for it.
  using net = stack<input<8, 4, 4>, inception<branch<conv<8, 3, 1, 1>, relu>, branch<max_pool<1>>>,
                    fully_connected<4>>;
  dp::model<net, float> m(dp::init::seed{4});
  dp::model<net, float> reference = m;
  std::vector<float> x(2 * 128);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(double(i)));
  const float* out = m.forward(x.data(), 2, dp::mode::inference);
  const float* expected = reference.forward_reference(x.data(), 2);
  for (std::size_t i = 0; i < 8; ++i) CHECK(out[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("relu") {
  dp::model<stack<input<1, 2, 2>, relu>, double> m;
  CHECK(forward(m, values{-1, 2, 0, -3}) == values{0, 2, 0, 0});
  CHECK(backward(m, values{1, 1, 1, 1}) == values{0, 1, 0, 0});
}

TEST_CASE("tap is the identity") {
  dp::model<stack<input<2, 3, 3>, tap<"t">>, double> m;
  CHECK(forward(m, iota(18, -4)) == iota(18, -4));
}

TEST_CASE("fully_connected") {
  SUBCASE("by hand, with and without relu") {
    const values weight{1, 0, -1, 2, 1, 0}, bias{0.5, -1};  // PyTorch [out][in]
    dp::model<stack<input<3, 1, 1>, fully_connected<2>>, double> linear;
    linear.set_parameter("1.weight", weight);
    linear.set_parameter("1.bias", bias);
    CHECK(forward(linear, values{1, 2, 3}) == values{-1.5, 3});
    dp::model<stack<input<3, 1, 1>, fully_connected<2>, relu>, double> rectified;
    rectified.set_parameter("1.weight", weight);
    rectified.set_parameter("1.bias", bias);
    CHECK(forward(rectified, values{1, 2, 3}) == values{0, 3});
  }
  SUBCASE("input j is PyTorch's flatten index j (C, H, W order)") {
    dp::model<stack<input<2, 3, 2>, fully_connected<1>>, double> m;
    const values x = iota(12, 10);
    for (std::size_t j = 0; j < 12; ++j) {
      values weight(12, 0.0);
      weight[j] = 1;
      m.set_parameter("1.weight", weight);
      CHECK(forward(m, x) == values{x[j]});
    }
  }
}

TEST_CASE("multi_scale_fc concatenates its taps in tag order, each flattened as PyTorch does") {
  // torch.cat([pool.flatten(1), x.flatten(1)], 1): 2 pooled values, then x.
  dp::model<stack<input<2, 2, 2>, tap<"in">, max_pool<2>, tap<"pool">, multi_scale_fc<1, "pool", "in">>, double> m;
  CHECK(m.parameter_tensors()[0].shape == std::vector<std::size_t>{1, 10});
  const values x{1, 5, 2, 3, -1, -2, -3, -4};
  const values concatenated{5, -1, 1, 5, 2, 3, -1, -2, -3, -4};
  for (std::size_t j = 0; j < 10; ++j) {
    values weight(10, 0.0);
    weight[j] = 1;
    m.set_parameter("4.weight", weight);  // layers: 1 tap, 2 max_pool, 3 tap, 4 multi_scale_fc
    m.set_parameter("4.bias", values{0.25});
    CHECK(forward(m, x) == values{concatenated[j] + 0.25});
  }
}

TEST_CASE("softmax_cross_entropy of known logits") {
  const std::vector<std::int32_t> label3{3};
  SUBCASE("uniform logits give log(classes)") {
    const values logits(5, 2.5);
    values dlogits(5);
    CHECK(dp::softmax_cross_entropy<double>(logits.data(), label3, 5, dlogits.data()) ==
          doctest::Approx(std::log(5.0)).epsilon(1e-14));
    for (std::size_t k = 0; k < 5; ++k) CHECK(dlogits[k] == doctest::Approx(k == 3 ? -0.8 : 0.2).epsilon(1e-14));
  }
  SUBCASE("a batch: the mean loss, and gradients divided by the batch size") {
    const values logits{1, 2, 3, 1, 2, 3};
    const std::vector<std::int32_t> labels{2, 0};
    values dlogits(6);
    std::size_t correct = 0;
    const double loss2 = std::log(1 + std::exp(-1.0) + std::exp(-2.0));  // -log p(3 | 1, 2, 3)
    const double loss0 = loss2 + 2;                                       // -log p(1 | 1, 2, 3)
    CHECK(dp::softmax_cross_entropy<double>(logits.data(), labels, 3, dlogits.data(), &correct) ==
          doctest::Approx((loss0 + loss2) / 2).epsilon(1e-14));
    CHECK(correct == 1);
    const double sum = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(dlogits[2] == doctest::Approx((std::exp(3.0) / sum - 1) / 2).epsilon(1e-14));
    CHECK(dlogits[3] == doctest::Approx((std::exp(1.0) / sum - 1) / 2).epsilon(1e-14));
  }
  SUBCASE("rows that are part of a larger batch: the parts' results sum to the whole batch's") {
    const values logits{1, 2, 3, 1, 2, 3, 0, 5, 1};
    const std::vector<std::int32_t> labels{2, 0, 1};
    values whole(9), first(9), second(9);
    const double all = dp::softmax_cross_entropy<double>(logits.data(), labels, 3, whole.data());
    const double a = dp::softmax_cross_entropy<double>(logits.data(), std::span(labels).first(1), 3, first.data(),
                                                       nullptr, 3);
    const double b = dp::softmax_cross_entropy<double>(logits.data() + 3, std::span(labels).last(2), 3,
                                                       second.data() + 3, nullptr, 3);
    CHECK(a + b == doctest::Approx(all).epsilon(1e-14));
    for (std::size_t k = 0; k < 9; ++k) CHECK((k < 3 ? first[k] : second[k]) == doctest::Approx(whole[k]).epsilon(1e-14));
  }
  SUBCASE("large logits do not overflow") {
    const values logits{1000, 0};
    CHECK(dp::softmax_cross_entropy<double>(logits.data(), std::vector<std::int32_t>{1}, 2) == 1000.0);
    CHECK(dp::softmax_cross_entropy<double>(logits.data(), std::vector<std::int32_t>{0}, 2) == 0.0);
  }
  SUBCASE("a label outside the classes is an error") {
    const values logits(3, 0.0);
    CHECK_THROWS_AS(dp::softmax_cross_entropy<double>(logits.data(), label3, 3), dp::error);
    CHECK_THROWS_AS(dp::softmax_cross_entropy<double>(logits.data(), std::vector<std::int32_t>{-1}, 3), dp::error);
  }
}

TEST_CASE("softmax_classifier by hand") {
  dp::softmax_classifier<double> head(2, 3, 1);
  const values params{1, 0, -1, 0, 2, 1, 0.5, 0, 0};  // weights [dim][classes], then bias
  std::copy(params.begin(), params.end(), head.parameters().begin());
  const values features{1, 2};
  values logits(3), dfeatures(2);
  head.logits(features.data(), 1, logits.data());
  CHECK(logits == values{1.5, 4, 1});
  const double loss = head.train_step(features.data(), std::vector<std::int32_t>{1}, dfeatures.data());
  CHECK(loss == doctest::Approx(std::log(std::exp(1.5) + std::exp(4.0) + std::exp(1.0)) - 4).epsilon(1e-14));
}

TEST_CASE("dropout") {
  using net = stack<input<1, 50, 40>, dropout<0.3>>;
  constexpr std::size_t n = 5, count = n * 2000;
  values x(count);
  dp::rng gen(3);
  for (auto& v : x) v = 0.5 + gen.uniform();  // no zeros of its own
  const auto run = [&](dp::model<net, double>& m, dp::mode pass) {
    const double* out = m.forward(x.data(), n, pass);
    return values(out, out + count);
  };

  SUBCASE("inference is the identity") {
    dp::model<net, double> m(dp::init::seed{9});
    CHECK(run(m, dp::mode::inference) == x);
  }
  SUBCASE("training zeroes about Rate of the values and scales the rest by 1/(1-Rate)") {
    dp::model<net, double> m(dp::init::seed{9});
    const values y = run(m, dp::mode::training);
    const double scale = 1.0 / (1.0 - 0.3);
    std::size_t zeros = 0, scaled = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (y[i] == 0.0) ++zeros;
      else if (y[i] == x[i] * scale) ++scaled;
    }
    CHECK(zeros + scaled == count);
    CHECK(double(zeros) / count == doctest::Approx(0.3).epsilon(0.1));  // 0.3 +- 0.03, ~6 sigma
    // Backward: the same mask and scale.
    const values dout(count, 1.0);
    values dx(count);
    m.backward(dout.data(), dx.data());
    values expected(count);
    for (std::size_t i = 0; i < count; ++i) expected[i] = y[i] == 0.0 ? 0.0 : scale;
    CHECK(dx == expected);
  }
  SUBCASE("the same seed gives the same masks; another seed or the next call another mask") {
    dp::model<net, double> a(dp::init::seed{9}), b(dp::init::seed{9}), c(dp::init::seed{10});
    const values first = run(a, dp::mode::training);
    CHECK(run(b, dp::mode::training) == first);
    CHECK(run(c, dp::mode::training) != first);
    const values second = run(a, dp::mode::training);
    CHECK(second != first);
    CHECK(run(b, dp::mode::training) == second);
  }
  SUBCASE("numbered samples draw the masks they have in the larger batch (a data-parallel share)") {
    dp::model<net, double> whole(dp::init::seed{9}), part(dp::init::seed{9});
    whole.set_random_stream(77);
    const values all = run(whole, dp::mode::training);
    const std::vector<std::size_t> numbers{1, 4};  // samples 1 and 4 of the batch of 5
    part.set_random_stream(77, numbers);
    const std::size_t size = count / n;
    values share(2 * size);
    std::copy_n(x.begin() + 1 * size, size, share.begin());
    std::copy_n(x.begin() + 4 * size, size, share.begin() + size);
    const double* out = part.forward(share.data(), 2, dp::mode::training);
    CHECK(values(out, out + size) == values(all.begin() + 1 * size, all.begin() + 2 * size));
    CHECK(values(out + size, out + 2 * size) == values(all.begin() + 4 * size, all.begin() + 5 * size));
    // Unnumbered, the same two samples draw the masks of samples 0 and 1.
    part.set_random_stream(77);
    const double* plain = part.forward(share.data(), 2, dp::mode::training);
    CHECK(values(plain, plain + size) != values(all.begin() + 1 * size, all.begin() + 2 * size));
    part.set_random_stream(77, numbers);
    CHECK_THROWS_WITH_AS(part.forward(share.data(), 1, dp::mode::training),
                         doctest::Contains("1 samples in the batch but 2 sample numbers"), dp::error);
  }
}
