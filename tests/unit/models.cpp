// The papers' nets: parameter counts and shapes against hand-computed tables.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

namespace dp = deepid;

template <std::size_t C, std::size_t H, std::size_t W>
using patch = dp::patch_shape<C, H, W>;

// Reference sections 1.3, 1.4, 4.1 (reading B: conv3 on a 2x2 region grid).
static_assert(dp::net_traits<dp::deepid1<patch<3, 39, 31>>>::param_count == 216'780);
static_assert(dp::net_traits<dp::deepid1<patch<1, 39, 31>>>::param_count == 216'140);
static_assert(dp::net_traits<dp::deepid1<patch<3, 31, 31>>>::param_count == 165'500);
static_assert(dp::net_traits<dp::deepid1<patch<1, 31, 31>>>::param_count == 164'860);
static_assert(dp::net_traits<dp::deepid2<patch<3, 55, 47>>>::param_count == 671'980);
static_assert(dp::net_traits<dp::deepid2<patch<3, 47, 47>>>::param_count == 537'340);
static_assert(dp::net_traits<dp::deepid2<patch<1, 47, 47>>>::param_count == 537'340 - 640);
// Reading A (one bank per 2x2 block of conv3 outputs) from the same template.
static_assert(dp::net_traits<dp::deepid1<patch<1, 39, 31>, dp::regions<3, 2>>>::param_count == 259'460);
static_assert(dp::net_traits<dp::deepid2<patch<3, 55, 47>, dp::regions<5, 4>>>::param_count == 1'018'540);
// 5.98 MFLOP forward to the DeepID layer.
static_assert(dp::net_traits<dp::deepid1_plain<patch<3, 39, 31>>>::flops == 5'980'160);
static_assert(dp::net_traits<dp::deepid1<patch<3, 39, 31>>>::output_shape == dp::shape3{160, 1, 1});

TEST_CASE("DeepID1 39x31x3 layer table matches the paper's map sizes") {
  dp::model<dp::deepid1<patch<3, 39, 31>>> m(dp::init::seed{1});
  std::vector<dp::shape3> shapes;
  for (const auto& row : m.layers())
    if (row.name.find("fused") == std::string::npos && row.name.find("tap") == std::string::npos)
      shapes.push_back(row.out_shape);
  const std::vector<dp::shape3> expected{{20, 36, 28}, {20, 18, 14}, {40, 16, 12}, {40, 8, 6},
                                         {60, 6, 4},   {60, 3, 2},   {80, 2, 1},   {160, 1, 1}};
  CHECK(shapes == expected);
}

TEST_CASE("DeepID2 55x47x3 map sizes match the paper's Fig. 1") {
  dp::model<dp::deepid2<patch<3, 55, 47>>> m(dp::init::seed{1});
  std::vector<dp::shape3> shapes;
  for (const auto& row : m.layers())
    if (row.name.find("fused") == std::string::npos && row.name.find("tap") == std::string::npos)
      shapes.push_back(row.out_shape);
  const std::vector<dp::shape3> expected{{20, 52, 44}, {20, 26, 22}, {40, 24, 20}, {40, 12, 10},
                                         {60, 10, 8},  {60, 5, 4},   {80, 4, 3},   {160, 1, 1}};
  CHECK(shapes == expected);
}

TEST_CASE("release_buffers frees the activations; the next forward gives the same features") {
  dp::model<dp::deepid1<patch<3, 39, 31>>> m(dp::init::seed{3});
  std::vector<float> x(4 * 3 * 39 * 31);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 13) - 6) / 6.0f;
  const float* f = m.forward(x.data(), 4, dp::mode::inference);
  const std::vector<float> before(f, f + 4 * 160);
  m.release_buffers();
  std::vector<float> dout(4 * 160, 1.0f);
  CHECK_THROWS_AS(m.backward(dout.data()), dp::error);  // nothing left to differentiate
  f = m.forward(x.data(), 4, dp::mode::inference);
  CHECK(std::vector<float>(f, f + 4 * 160) == before);
}
