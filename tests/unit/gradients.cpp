// Numerical gradient checks (double precision, central differences) of every
// layer, each wrapped in a tiny stack, and of whole DeepID1 nets, w.r.t. the
// parameters and the input; and of the softmax identification head.
//
// Runs on one thread: results do not depend on the count (kernels.cpp checks
// that bitwise), and the test machines are shared.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <span>
#include <cstdint>
#include <string>
#include <vector>

#include <deepid/deepid.hpp>

namespace dp = deepid;
using dp::input, dp::stack, dp::conv, dp::locally_shared_conv, dp::locally_connected, dp::regions,
    dp::max_pool, dp::relu, dp::fully_connected, dp::multi_scale_fc, dp::dropout, dp::tap, dp::rounding,
    dp::inception, dp::branch, dp::head;

namespace {

const bool one_thread = (dp::set_num_threads(1), true);

// Checks every parameter and input coordinate of a tiny stack. The default
// batch of 11 is odd and not a multiple of 8, so tiles and chunks of samples
// in the kernels (a locally connected tile spans samples; the convolution
// backward pass sums d(weights) per chunk of samples) end part-full.
template <class Net>
dp::gradient_check_result check_layer(std::size_t batch = 11, dp::mode pass = dp::mode::inference) {
  dp::model<Net, double> m(dp::init::seed{11});
  // Biases start at zero, which puts outputs that see only padding exactly
  // on the ReLU kink; a random offset on every parameter moves them off it.
  dp::rng gen(13);
  for (auto& p : m.parameters()) p += 0.1 * gen.normal();
  dp::gradient_check_options options;
  options.batch = batch;
  options.pass = pass;
  const auto result = dp::check_gradients(m, options);
  INFO(result.str());
  CHECK(result.ok());
  // Nothing may be left out: every coordinate is compared or skipped at a kink.
  CHECK(result.parameters.compared + result.parameters.skipped == dp::net_traits<Net>::param_count);
  CHECK(result.input.compared + result.input.skipped == batch * dp::net_traits<Net>::input_shape.size());
  return result;
}

// Names of the layers of Net, in order (tells fused from unfused ReLUs).
template <class Net>
std::vector<std::string> layer_names() {
  std::vector<std::string> names;
  for (const auto& row : dp::model<Net, double>().layers()) names.push_back(row.name);
  return names;
}

}  // namespace

// A user-defined layer with a deliberate bug: forward doubles its input,
// backward forgets the factor. The checker must catch it.
namespace {
template <class Ctx, class T>
struct buggy_double_layer : dp::detail::parameterless<T> {
  static constexpr dp::shape3 out_shape = Ctx::shape;
  static constexpr std::uint64_t flops = 0;
  static constexpr bool aliases_input = false;
  static constexpr std::size_t num_inputs = 1;
  static constexpr std::array<std::size_t, 1> inputs{Ctx::act};
  static std::string name() { return "buggy_double"; }
  void forward(const dp::pass_buffers<T, 1>& b, const T*, dp::mode) const {
    for (std::size_t i = 0; i < b.batch * out_shape.size(); ++i) b.output[i] = 2 * b.inputs[0][i];
  }
  void backward(const dp::pass_buffers<T, 1>& b, const T* dout, const std::array<T*, 1>& din, const T*, T*) const {
    if (din[0])
      for (std::size_t i = 0; i < b.batch * out_shape.size(); ++i) din[0][i] += dout[i];  // should be 2 * dout
  }
};
struct buggy_double {
  using deepid_layer_spec = void;
  template <class Ctx, class T, bool>
  struct binder {
    using type = buggy_double_layer<Ctx, T>;
  };
};
}  // namespace

TEST_CASE("the checker catches a wrong backward pass") {
  dp::model<stack<input<2, 4, 4>, conv<3, 2>, buggy_double, fully_connected<2>>, double> m(dp::init::seed{3});
  const auto result = dp::check_gradients(m);
  CHECK_FALSE(result.ok());
  // conv's parameter gradients and dL/dx are all half what they should be.
  CHECK(result.parameters.max_error == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(result.input.max_error == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(result.parameters.worst.rfind("1.", 0) == 0);  // a conv tensor, not the fully connected one
  // Without the input check, only the parameters are compared.
  dp::gradient_check_options options;
  options.check_input = false;
  const auto parameters_only = dp::check_gradients(m, options);
  CHECK(parameters_only.input.compared == 0);
  CHECK_FALSE(parameters_only.ok());
}

TEST_CASE("the checker skips coordinates at a kink and fails when it skips many") {
  using net = stack<input<1, 4, 5>, relu>;
  dp::model<net, double> m;
  std::vector<double> x(20);
  dp::rng gen(5);
  for (auto& v : x) v = 0.5 + gen.uniform();  // away from the kink at 0
  x[7] = 0.0;                                   // exactly on it
  auto result = dp::check_gradients(m, std::span<const double>(x));
  CHECK(result.input.skipped == 1);
  CHECK(result.input.compared == 19);
  CHECK(result.ok());  // 1 of 20 is within max_skipped_fraction = 0.05
  x[11] = -0.0;
  result = dp::check_gradients(m, std::span<const double>(x));
  CHECK(result.input.skipped == 2);
  CHECK_FALSE(result.ok());
  CHECK(result.input.max_error < 1e-9);  // the compared coordinates were right
}

TEST_CASE("gradient check: conv") {
  SUBCASE("3x3, stride 1, no padding") { check_layer<stack<input<2, 5, 6>, conv<3, 3>>>(); }
  SUBCASE("3x3, stride 2, padding 1 (a row and a column left over)") {
    check_layer<stack<input<3, 7, 6>, conv<4, 3, 2, 1>>>();
  }
  SUBCASE("3x3, padding 2, fused relu") {
    using net = stack<input<2, 6, 6>, conv<5, 3, 1, 2>, relu>;
    CHECK(layer_names<net>() == std::vector<std::string>{"conv<5,3,1,2> + relu", "relu (fused)"});
    check_layer<net>();
  }
  SUBCASE("4x4, stride 3, 17 maps (more than one SIMD vector plus a tail)") {
    check_layer<stack<input<1, 8, 7>, conv<17, 4, 3>, relu>>();
  }
}

TEST_CASE("gradient check: locally_shared_conv") {
  SUBCASE("2x2 grid") { check_layer<stack<input<2, 6, 6>, locally_shared_conv<3, 3, regions<2, 2>>>>(); }
  SUBCASE("3x2 grid, fused relu") {
    check_layer<stack<input<3, 7, 5>, locally_shared_conv<4, 2, regions<3, 2>>, relu>>();
  }
  SUBCASE("1x5 grid") { check_layer<stack<input<2, 7, 7>, locally_shared_conv<3, 3, regions<1, 5>>>>(); }
  SUBCASE("2x1 grid, stride 2") {
    check_layer<stack<input<2, 9, 7>, locally_shared_conv<2, 3, regions<2, 1>, 2>, relu>>();
  }
  SUBCASE("1x1 grid (an ordinary convolution)") {
    check_layer<stack<input<2, 5, 5>, locally_shared_conv<3, 2, regions<1, 1>>>>();
  }
}

TEST_CASE("gradient check: locally_connected") {
  SUBCASE("2x2, one bank per output position") { check_layer<stack<input<3, 4, 5>, locally_connected<4, 2>>>(); }
  SUBCASE("3x3, stride 2, fused relu") { check_layer<stack<input<2, 5, 5>, locally_connected<3, 3, 2>, relu>>(); }
}

TEST_CASE("gradient check: max_pool") {
  SUBCASE("2x2, stride 2") { check_layer<stack<input<3, 4, 6>, max_pool<2>>>(); }
  SUBCASE("3x3, stride 2 (overlapping windows)") { check_layer<stack<input<2, 7, 7>, max_pool<3, 2>>>(); }
  SUBCASE("2x2, stride 3 (gaps between windows)") { check_layer<stack<input<2, 8, 8>, max_pool<2, 3>>>(); }
  SUBCASE("after a convolution") { check_layer<stack<input<2, 6, 6>, conv<3, 3>, relu, max_pool<2>>>(); }
}

TEST_CASE("gradient check: max_pool with padding or floor rounding") {
  SUBCASE("3x3, stride 1, pad 1 (Inception's pool branch)") {
    check_layer<stack<input<3, 5, 4>, max_pool<3, 1, 1>>>();
  }
  SUBCASE("3x3, stride 2, pad 1, floor") {
    check_layer<stack<input<2, 6, 7>, max_pool<3, 2, 1, rounding::floor>>>();
  }
  SUBCASE("2x2 floor on an odd map (DeepID3)") {
    check_layer<stack<input<3, 7, 5>, conv<4, 3, 1, 1>, relu, max_pool<2, 2, 0, rounding::floor>>>();
  }
}

TEST_CASE("gradient check: locally_connected with padding (DeepID3's top layers)") {
  check_layer<stack<input<3, 4, 3>, locally_connected<4, 3, 1, 1>, relu, locally_connected<5, 3, 1, 1>>>();
}

TEST_CASE("gradient check: inception") {
  SUBCASE("the four branch kinds of a module, then a convolution") {
    using module = inception<branch<conv<3, 1>, relu>, branch<conv<2, 1>, relu, conv<3, 3, 1, 1>, relu>,
                             branch<conv<2, 1>, relu, conv<2, 5, 1, 2>, relu>, branch<max_pool<3, 1, 1>, conv<2, 1>>>;
    check_layer<stack<input<3, 5, 6>, module, conv<3, 2>>>();
  }
  SUBCASE("two modules in a row, a branch that is only a pool") {
    using module = inception<branch<conv<2, 1>, relu>, branch<max_pool<3, 1, 1>>>;
    check_layer<stack<input<2, 4, 5>, module, module, max_pool<2, 2, 0, rounding::floor>>>();
  }
}

TEST_CASE("gradient check: heads") {
  SUBCASE("a head after a pool, the main path goes on (every output in the loss)") {
    using net = stack<input<2, 6, 6>, conv<3, 3>, relu, max_pool<2>, tap<"pool1">,
                      head<"fc1", "pool1", fully_connected<4>, relu>, conv<4, 2>, relu, tap<"conv2">,
                      multi_scale_fc<5, "pool1", "conv2">>;
    check_layer<net>();
  }
  SUBCASE("with dropout in training, two heads on one tap") {
    using net = stack<input<2, 5, 5>, conv<3, 2>, relu, tap<"c">, head<"a", "c", fully_connected<3>, relu, dropout<0.5>>,
                      head<"b", "c", conv<2, 2>, relu, fully_connected<2>>, fully_connected<4>>;
    check_layer<net>(11, dp::mode::training);
  }
}

TEST_CASE("gradient check: relu, unfused") {
  SUBCASE("after max_pool") {
    using net = stack<input<2, 4, 4>, max_pool<2>, relu>;
    CHECK(layer_names<net>().back() == "relu");
    check_layer<net>();
  }
  SUBCASE("after a tap") {
    using net = stack<input<2, 5, 5>, conv<3, 2>, tap<"c">, relu>;
    CHECK(layer_names<net>() == std::vector<std::string>{"conv<3,2>", "tap<\"c\">", "relu"});
    check_layer<net>();
  }
  SUBCASE("on the input") { check_layer<stack<input<3, 3, 3>, relu>>(); }
}

TEST_CASE("gradient check: fully_connected") {
  SUBCASE("on a map (flattened)") { check_layer<stack<input<3, 2, 2>, fully_connected<5>>>(); }
  SUBCASE("fused relu, after a convolution") {
    using net = stack<input<2, 4, 4>, conv<3, 2>, relu, fully_connected<4>, relu>;
    CHECK(layer_names<net>()[2] == "fully_connected<4> + relu");
    check_layer<net>();
  }
}

TEST_CASE("gradient check: multi_scale_fc") {
  SUBCASE("one tag") { check_layer<stack<input<2, 4, 4>, conv<3, 2>, relu, tap<"a">, multi_scale_fc<5, "a">>>(); }
  SUBCASE("two tags, the DeepID layer's shape") {
    check_layer<stack<input<2, 6, 6>, conv<3, 3>, relu, max_pool<2>, tap<"pool">, conv<4, 2>, relu, tap<"conv">,
                      multi_scale_fc<6, "pool", "conv">, relu>>();
  }
  SUBCASE("three tags out of order, one of them the input") {
    // The input feeds the layer directly and through the convolutions, so
    // its gradient is the sum of both paths.
    check_layer<stack<input<2, 4, 4>, tap<"x">, conv<3, 2>, relu, tap<"a">, max_pool<3>, tap<"b">,
                      multi_scale_fc<4, "b", "x", "a">>>();
  }
}

TEST_CASE("gradient check: dropout") {
  using net = stack<input<2, 4, 4>, conv<3, 2>, relu, dropout<0.5>, fully_connected<4>>;
  SUBCASE("training, one fixed mask") { check_layer<net>(11, dp::mode::training); }
  SUBCASE("inference") { check_layer<net>(3, dp::mode::inference); }
}

TEST_CASE("gradient check: tap") { check_layer<stack<input<2, 4, 4>, tap<"t">, conv<3, 2>, tap<"u">>>(); }

TEST_CASE("backward without dL/dx gives the same parameter gradients") {
  // The input feeds a padded convolution and, through a tap, the dense layer:
  // both skip their d(input) work when no input gradient is asked for.
  using net = stack<input<2, 5, 5>, tap<"x">, conv<3, 2, 1, 1>, relu, tap<"c">, multi_scale_fc<4, "x", "c">>;
  dp::model<net, double> m(dp::init::seed{2});
  dp::rng gen(4);
  std::vector<double> x(11 * 50), dout(11 * 4), dx(x.size());
  for (auto& v : x) v = gen.normal();
  for (auto& v : dout) v = gen.normal();
  m.forward(x.data(), 11, dp::mode::inference);
  m.backward(dout.data(), dx.data());
  const std::vector<double> with_input(m.gradients().begin(), m.gradients().end());
  m.backward(dout.data(), nullptr);
  const std::vector<double> without_input(m.gradients().begin(), m.gradients().end());
  CHECK(with_input == without_input);
}

TEST_CASE("backward says which parameter gradients are final as it goes (a data-parallel trainer sums them early)") {
  using net = stack<input<2, 5, 5>, conv<3, 2>, relu, tap<"c">, head<"a", "c", fully_connected<3>, relu, dropout<0.5>>,
                    head<"b", "c", conv<2, 2>, relu, fully_connected<2>>, fully_connected<4>>;
  using model = dp::model<net, double>;
  model m(dp::init::seed{2});
  dp::rng gen(6);
  constexpr std::size_t n = 7;
  std::vector<double> x(n * 50);
  for (auto& v : x) v = gen.normal();
  m.forward(x.data(), n, dp::mode::training, dp::head_pass::run);
  std::array<std::vector<double>, model::output_count> douts;
  std::array<const double*, model::output_count> d{};
  for (std::size_t k = 0; k < model::output_count; ++k) {
    douts[k].resize(n * model::output_shape_of(k).size());
    for (auto& v : douts[k]) v = gen.normal();
    d[k] = douts[k].data();
  }
  std::vector<std::size_t> offsets;
  std::vector<std::vector<double>> seen;  // the gradients from each offset on, when it was reported
  m.backward_outputs(d, nullptr, [&](std::size_t final_from) {
    offsets.push_back(final_from);
    seen.emplace_back(m.gradients().begin() + std::ptrdiff_t(final_from), m.gradients().end());
  });
  std::size_t with_parameters = 0;
  for (const auto& layer : m.layers()) with_parameters += layer.params > 0;
  REQUIRE(offsets.size() == with_parameters);  // conv, fc (a), conv and fc (b), fc
  CHECK(offsets.back() == 0);
  for (std::size_t i = 1; i < offsets.size(); ++i) CHECK(offsets[i] < offsets[i - 1]);
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::vector<double> final_values(m.gradients().begin() + std::ptrdiff_t(offsets[i]), m.gradients().end());
    CHECK(seen[i] == final_values);
  }
  // The same gradients as a pass that reports nothing.
  const std::vector<double> reported(m.gradients().begin(), m.gradients().end());
  m.backward_outputs(d);
  CHECK(reported == std::vector<double>(m.gradients().begin(), m.gradients().end()));
}

// Whole nets: every parameter tensor (a sample of its coordinates) and a
// sample of the input.
template <class Net>
void check_net(std::size_t batch) {
  dp::model<Net, double> m(dp::init::seed{5});
  dp::gradient_check_options options;
  options.batch = batch;
  options.max_per_tensor = 10;
  options.max_inputs = 24;
  const auto result = dp::check_gradients(m, options);
  INFO(result.str());
  CHECK(result.ok());
  CHECK(result.parameters.compared + result.parameters.skipped == 10 * m.parameter_tensors().size());
  CHECK(result.input.compared + result.input.skipped == 24);
}

TEST_CASE("gradient check: DeepID1 nets") {
  using gray_square = dp::patch_shape<1, 31, 31>;
  using rgb_rectangle = dp::patch_shape<3, 39, 31>;
  SUBCASE("deepid1 31x31x1, batch 10") { check_net<dp::deepid1<gray_square>>(10); }
  SUBCASE("deepid1_plain 31x31x1") { check_net<dp::deepid1_plain<gray_square>>(3); }
  SUBCASE("deepid1 39x31x3") { check_net<dp::deepid1<rgb_rectangle>>(3); }
  SUBCASE("deepid1_plain 39x31x3") { check_net<dp::deepid1_plain<rgb_rectangle>>(2); }
}

// The identification head is smooth, so plain central differences apply.
namespace {
template <class F>
double central_difference(double& v, F&& f, double h = 1e-5) {
  const double saved = v;
  v = saved + h;
  const double up = f();
  v = saved - h;
  const double down = f();
  v = saved;
  return (up - down) / (2 * h);
}
// Central differences at h = 1e-5 carry ~1e-10 of rounding noise (the losses
// are O(1)); gradients below 1e-3 are therefore compared absolutely.
double relative_error(double a, double b) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-3}); }
}  // namespace

TEST_CASE("gradient check: softmax_cross_entropy") {
  constexpr std::size_t n = 5, classes = 7;
  dp::rng gen(17);
  std::vector<double> logits(n * classes), dlogits(n * classes);
  for (auto& z : logits) z = 3 * gen.normal();
  const std::vector<std::int32_t> labels{0, 6, 3, 3, 1};
  dp::softmax_cross_entropy<double>(logits.data(), labels, classes, dlogits.data());
  const auto loss = [&] { return dp::softmax_cross_entropy<double>(logits.data(), labels, classes); };
  for (std::size_t i = 0; i < logits.size(); ++i) {
    INFO("logit " << i);
    CHECK(relative_error(dlogits[i], central_difference(logits[i], loss)) < 1e-6);
  }
}

TEST_CASE("gradient check: softmax_classifier") {
  constexpr std::size_t n = 6, dim = 5, classes = 4;
  dp::softmax_classifier<double> head(dim, classes, 23);
  dp::rng gen(29);
  for (auto& p : head.parameters()) p += 0.1 * gen.normal();  // non-zero biases too
  std::vector<double> features(n * dim), dfeatures(n * dim), scratch(n * dim);
  for (auto& f : features) f = gen.normal();
  const std::vector<std::int32_t> labels{3, 0, 1, 3, 2, 0};
  head.train_step(features.data(), labels, dfeatures.data());
  const std::vector<double> dparams(head.gradients().begin(), head.gradients().end());
  const auto loss = [&] { return head.train_step(features.data(), labels, scratch.data()); };
  auto params = head.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(relative_error(dparams[i], central_difference(params[i], loss)) < 1e-6);
  }
  for (std::size_t i = 0; i < features.size(); ++i) {
    INFO("feature " << i);
    CHECK(relative_error(dfeatures[i], central_difference(features[i], loss)) < 1e-6);
  }
}
