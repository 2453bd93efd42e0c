// An ensemble of DeepID2+ nets: trained through the ensemble with every head
// supervised, features from any output (each net's patch and its flip), the
// same features after a save and load, and a clear error for an unknown
// output.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>
#include <deepid/features/net_families.hpp>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "test_files.hpp"

namespace dp = deepid;
namespace fc = deepid::face;
namespace ft = deepid::features;

namespace {
// One gray 47x47 patch of the whole face: the smallest DeepID2+ net.
struct one_square {
  static constexpr std::array<fc::patch_def, 1> patches{
      {{"face.gray", fc::anchor::face_centre, 0, 0, 2.6, 47, 47, fc::colour::gray, 0, 0, 0}}};
};
using ensemble = ft::ensemble<one_square, ft::deepid2plus_nets>;
const deepid_test::scratch_folder scratch{"ensemble_heads"};
}  // namespace

TEST_CASE("ensemble of DeepID2+ nets: training every head, features of any output, save and load") {
  const auto set = fc::synthetic_face_set(6, 6);
  ensemble e({0}, 7);
  CHECK(e.net(0).architecture() == "deepid2plus-47x47x1");
  REQUIRE(e.output_names() == std::vector<std::string>{"fc1", "fc2", "fc3", "fc4"});
  CHECK(e.main_output() == 3);
  CHECK(e.dim(e.output_index("fc2")) == 2 * 512);
  CHECK_THROWS_WITH(e.output_index("fc9"), doctest::Contains("no output 'fc9' (they have fc1, fc2, fc3, fc4)"));

  dp::train::options o;
  o.epochs = 1;
  o.batch_pairs = 8;
  o.optimiser.lr = 0.001;
  o.schedule = dp::lr_schedule::constant(0.001);
  o.progress = dp::progress_style::silent;
  std::vector<dp::train::result> results;
  REQUIRE(ft::train_ensemble(e, set, o, [&](std::size_t, const dp::train::result& r) { results.push_back(r); }));
  REQUIRE(results.size() == 1);
  REQUIRE(results[0].epochs.size() == 1);
  CHECK(results[0].epochs[0].heads.size() == 3);  // fc1..fc3 supervised besides fc4

  dp::matrix<float> fc2, fc4, main;
  e.extract(fc::faces_of(set), fc2, fc::on_bad_item::fail, e.output_index("fc2"));
  e.extract(fc::faces_of(set), fc4, fc::on_bad_item::fail, e.output_index("fc4"));
  e.extract(fc::faces_of(set), main);
  REQUIRE(fc2.shape()[0] == 36);
  REQUIRE(fc2.shape()[1] == 1024);
  CHECK(fc4.shape() == fc2.shape());
  CHECK(std::equal(fc4.data(), fc4.data() + fc4.size(), main.data()));  // the main output is fc4
  std::size_t positive = 0, either = 0, differ = 0, negative = 0;
  for (std::size_t i = 0; i < fc2.size(); ++i) {
    negative += fc2.data()[i] < 0.0f;  // ReLU outputs; dropout is off in inference
    positive += fc2.data()[i] > 0;
    if (fc2.data()[i] > 0 || fc4.data()[i] > 0) either += 1, differ += fc2.data()[i] != fc4.data()[i];
  }
  CHECK(negative == 0);
  CHECK(positive > fc2.size() / 20);
  CHECK(differ == either);  // two different layers: where either is active, they differ

  // All outputs from one forward pass per net: the same values, output by output.
  std::vector<dp::matrix<float>> all;
  e.extract_outputs(fc::faces_of(set), all);
  REQUIRE(all.size() == 4);
  CHECK(all[1].shape() == fc2.shape());
  CHECK(std::equal(fc2.data(), fc2.data() + fc2.size(), all[1].data()));
  CHECK(std::equal(fc4.data(), fc4.data() + fc4.size(), all[3].data()));
  dp::matrix<float> fc1;
  e.extract(fc::faces_of(set), fc1, fc::on_bad_item::fail, 0);
  CHECK(std::equal(fc1.data(), fc1.data() + fc1.size(), all[0].data()));

  const auto dir = scratch("save_load") / "ensemble";  // made by save
  e.save(dir);
  auto loaded = ensemble::load(dir);
  dp::matrix<float> again;
  loaded.extract(fc::faces_of(set), again, fc::on_bad_item::fail, loaded.output_index("fc2"));
  CHECK(std::equal(again.data(), again.data() + again.size(), fc2.data()));
}

namespace {
// A family built for RGB patches only.
struct rgb_only_nets {
  static constexpr std::string_view name = "rgb-only";
  template <class Patch>
  using net = dp::deepid1<Patch>;
  template <class Patch>
  static constexpr bool supports = Patch::value.c == 3;
  static std::string architecture(dp::shape3 s) { return "rgb-only-" + ft::shape_label(s); }
};
}  // namespace

TEST_CASE("ensemble: a patch the family has no net for is refused by name") {
  CHECK_THROWS_WITH((ft::ensemble<one_square, rgb_only_nets>({0}, 1)),
                    doctest::Contains("patch face.gray (47x47x1) has no rgb-only net"));
  CHECK_THROWS_WITH((ft::ensemble<one_square, rgb_only_nets>({1}, 1)), doctest::Contains("outside the scheme"));
}
