// DeepID2+ and DeepID3: parameter counts against hand-computed tables,
// layer tables, and numerical gradient checks of whole nets with every head
// in the loss (double, central differences, a sample of each tensor).
//
// Runs on one thread: the test machines are shared.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <deepid/deepid.hpp>

namespace dp = deepid;

namespace {

const bool one_thread = (dp::set_num_threads(1), true);

template <std::size_t C, std::size_t H, std::size_t W>
using patch = dp::patch_shape<C, H, W>;
using rgb_rectangle = patch<3, 55, 47>;
using rgb_square = patch<3, 47, 47>;
using gray_square = patch<1, 47, 47>;

// Every parameter tensor (`per_tensor` coordinates of each) and `inputs`
// input coordinates, against central differences, with all outputs in the
// loss. Dropout runs in training mode with one fixed mask.
//
// A perturbation of an early weight moves every activation after it, and
// these nets have about a million ReLU and pooling kinks per sample; the
// step of 1e-5 (not the default 1e-4) crosses fewer of them. In double
// precision the rounding of a difference is still ~1e-9 of the slope.
template <class Net>
void check_net(std::size_t per_tensor, std::size_t inputs, dp::mode pass = dp::mode::inference) {
  dp::model<Net, double> m(dp::init::seed{5});
  dp::gradient_check_options options;
  options.step = 1e-5;
  options.batch = 2;
  options.max_per_tensor = per_tensor;
  options.max_inputs = inputs;
  options.pass = pass;
  const auto result = dp::check_gradients(m, options);
  INFO(result.str());
  CHECK(result.ok());
  CHECK(result.parameters.compared + result.parameters.skipped == per_tensor * m.parameter_tensors().size());
  CHECK(result.input.compared + result.input.skipped == inputs);
}

// Layer output shapes, without the aliases (fused relus, taps).
template <class Net>
std::vector<dp::shape3> computing_layer_shapes(const std::string& head = "") {
  std::vector<dp::shape3> shapes;
  for (const auto& row : dp::model<Net>(dp::init::seed{1}).layers())
    if (row.head == head && row.name.find("fused") == std::string::npos && row.name.find("tap") == std::string::npos)
      shapes.push_back(row.out_shape);
  return shapes;
}

}  // namespace

// DeepID2+ parameters, readings A and B.
using d2p_rect = dp::net_traits<dp::deepid2plus<rgb_rectangle>>;
using d2p_square = dp::net_traits<dp::deepid2plus<rgb_square>>;
using d2p_square_a = dp::net_traits<dp::deepid2plus_a<rgb_square>>;
static_assert(d2p_square::feature_param_count == 2'974'080);
static_assert(d2p_square_a::feature_param_count == 4'745'088);
static_assert(d2p_rect::feature_param_count == 6'272 + 147'584 + 590'336 + 787'968 + 2'097'664);
static_assert(dp::net_traits<dp::deepid2plus_a<rgb_rectangle>>::feature_param_count ==
              6'272 + 147'584 + 2'951'680 + 787'968 + 2'097'664);
static_assert(d2p_rect::param_count == d2p_rect::feature_param_count + 37'487'104 + 7'864'832 + 1'311'232);
static_assert(d2p_rect::head_count == 3 && d2p_rect::output_shape == dp::shape3{512, 1, 1});
// FC-4 from conv4 only: the pool3 rows of its weight are gone.
static_assert(dp::net_traits<dp::deepid2plus<rgb_rectangle, dp::regions<2, 2>, false>>::feature_param_count ==
              d2p_rect::feature_param_count - 2'560 * 512);
// Gray input: conv1 has a third of its weights.
static_assert(dp::net_traits<dp::deepid2plus<gray_square>>::feature_param_count == 2'974'080 - 2 * 16 * 128);

TEST_CASE("DeepID2+ 55x47x3: the map sizes, a 512-d head after each pool") {
  using net = dp::deepid2plus<rgb_rectangle>;
  CHECK(computing_layer_shapes<net>() ==
        std::vector<dp::shape3>{{128, 52, 44}, {128, 26, 22}, {128, 24, 20}, {128, 12, 10}, {128, 10, 8},
                                {128, 5, 4}, {128, 4, 3}, {512, 1, 1}, {512, 1, 1}});
  for (const char* head : {"fc1", "fc2", "fc3"})
    CHECK(computing_layer_shapes<net>(head) == std::vector<dp::shape3>{{512, 1, 1}, {512, 1, 1}});
  using model = dp::model<net>;
  CHECK(std::vector<std::string_view>{model::output_name(0), model::output_name(1), model::output_name(2),
                                      model::output_name(3)} == std::vector<std::string_view>{"fc1", "fc2", "fc3", "fc4"});
}

TEST_CASE("DeepID3 net1 and net2: floor pools to 3x2, heads after pool1-3, FC-4 after pool4") {
  using net1 = dp::deepid3_net1<rgb_rectangle>;
  const auto shapes = computing_layer_shapes<net1>();
  const std::vector<dp::shape3> expected{{64, 55, 47}, {64, 55, 47}, {64, 27, 23},  {96, 27, 23},
                                         {96, 27, 23}, {96, 13, 11}, {192, 13, 11}, {192, 13, 11},
                                         {192, 6, 5},  {256, 6, 5},  {256, 6, 5},   {256, 3, 2},
                                         {512, 1, 1},  {512, 1, 1}};
  CHECK(shapes == expected);
  using net2 = dp::deepid3_net2<rgb_rectangle>;
  const auto rows = dp::model<net2>(dp::init::seed{1}).layers();
  std::size_t concats = 0;
  for (const auto& row : rows)
    if (row.name.rfind("concat", 0) == 0) {
      ++concats;
      CHECK(row.out_shape.c == (concats <= 3 ? 192u : 256u));
      CHECK(row.out_shape.h == (concats <= 3 ? 13u : 6u));
    }
  CHECK(concats == 5);
  static_assert(dp::net_traits<net1>::head_count == 3 && dp::net_traits<net2>::head_count == 3);
  static_assert(dp::net_traits<net2>::output_shape == dp::shape3{512, 1, 1});
}

TEST_CASE("gradient check: DeepID2+ (every head)") {
  SUBCASE("55x47x3, reading B") { check_net<dp::deepid2plus<rgb_rectangle>>(3, 12); }
  SUBCASE("47x47x1, reading A, FC-4 from conv4 only, dropout on") {
    check_net<dp::deepid2plus_a<gray_square, false>>(3, 12, dp::mode::training);
  }
}

TEST_CASE("gradient check: DeepID3 (every head)") {
  using reduced = dp::deepid3_reduced_widths;
  SUBCASE("net1, reduced widths, 55x47x3") { check_net<dp::deepid3_net1<rgb_rectangle, reduced>>(4, 16); }
  SUBCASE("net2, reduced widths, 47x47x1, dropout on") {
    check_net<dp::deepid3_net2<gray_square, reduced>>(3, 12, dp::mode::training);
  }
  SUBCASE("net2, paper widths, 55x47x3") { check_net<dp::deepid3_net2<rgb_rectangle>>(1, 6); }
}
