// Alignment jitter and photometric augmentation: the perturbation against
// hand-computed sample positions and colours, deterministic copies laid out
// row i K + j, the trainer drawing among them for training samples only (the
// validation error reads originals, and K = 0 is exactly training without
// the option), the ensemble's normalisation independent of K, and bad
// options refused by name.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

#include "test_files.hpp"
#include "trainer_setup.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

namespace dp = deepid;
namespace fc = deepid::face;
namespace tr = deepid::train;

namespace {
// The trainer tests' small net on 31x31 gray patches.
using deepid_test::small_net;
constexpr std::size_t gray_type = deepid_test::synthetic_patch_type;  // nose.s1.gray, 31x31x1
constexpr std::size_t rgb_type = 0;                                  // face.s1.rgb, 39x31x3
const deepid_test::scratch_folder scratch{"augmentation"};

// Landmarks on the template's own positions: the alignment is the identity,
// so image pixels are canonical pixels.
fc::landmarks5 template_landmarks(const fc::alignment_template& t) {
  fc::landmarks5 l;
  l[fc::landmark::left_eye] = t.left_eye;
  l[fc::landmark::right_eye] = t.right_eye;
  l[fc::landmark::nose] = {48.0, 72.0};
  l[fc::landmark::left_mouth] = t.mouth_centre - fc::point2{14.6, 0};
  l[fc::landmark::right_mouth] = t.mouth_centre + fc::point2{14.6, 0};
  return l;
}

// A 31x31 RGB box of 31 template pixels on the face centre: one patch pixel
// per canonical pixel, pixel (u, v) at canonical centre + (u - 15, v - 15).
fc::patch_def unit_box(const fc::alignment_template& t) {
  fc::patch_def d{};
  d.centre = fc::anchor::face_centre;
  d.width = 31.0 / t.inter_ocular();
  d.rows = d.cols = 31;
  d.channels = fc::colour::rgb;
  return d;
}

// R = 2x and G = 2y: bilinear sampling of a linear ramp is exact, so a
// patch pixel's R and G say which image point it was sampled from.
cv::Mat ramp_image() {
  cv::Mat image(112, 96, CV_8UC3);
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x)
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(0, std::uint8_t(2 * y), std::uint8_t(2 * x));
  return image;
}

fc::point2 sampled_at(const std::vector<float>& patch, int u, int v) {
  const std::size_t i = std::size_t(v) * 31 + std::size_t(u);
  return {patch[i] * 127.5, patch[31 * 31 + i] * 127.5};
}

std::vector<float> cut(const fc::face_cutter& cutter, const fc::patch_def& d) {
  std::vector<float> out(d.shape().size());
  cutter.cut(d, out.data());
  return out;
}

fc::jitter_options all_ranges_zero(int copies) {
  fc::jitter_options j;
  j.copies = copies;
  j.shift = j.scale = j.rotation = j.colour = j.contrast = j.brightness = 0;
  return j;
}

std::span<const float> row(const dp::batch4<float>& t, std::size_t r) {
  const std::size_t size = t.shape()[1] * t.shape()[2] * t.shape()[3];
  return {t.data() + r * size, size};
}
bool same_rows(std::span<const float> a, std::span<const float> b) { return std::ranges::equal(a, b); }
bool same(const dp::batch4<float>& a, const dp::batch4<float>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

// The trainer tests' data (nose.s1.gray of 12 identities x 10 images) with
// K jittered copies, normalised by the originals' statistics.
tr::identity_patches jittered_patches(int copies, std::uint64_t seed = 1) {
  static const auto set = fc::synthetic_face_set(12, 10);
  fc::jitter_options j;
  j.copies = copies;
  j.seed = seed;
  auto batch =
      fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {gray_type}, true, fc::on_bad_item::fail, {}, j);
  const auto norm = fc::patch_normalisation::fit(batch.original[0]);
  tr::identity_patches d;
  for (auto* t : {&batch.original[0], &batch.flipped[0]}) norm.apply(*t);
  d.original = batch.original[0];
  d.flipped = batch.flipped[0];
  if (copies > 0) {
    norm.apply(batch.jittered[0]);
    norm.apply(batch.jittered_flipped[0]);
    d.copies = batch.copies;
    d.jittered = batch.jittered[0];
    d.jittered_flipped = batch.jittered_flipped[0];
  }
  for (const auto& f : set.faces) d.labels.push_back(f.identity);
  d.identities = set.identities();
  return d;
}

tr::options small_options(int copies) {
  auto o = deepid_test::quick_options(2);
  o.jitter.copies = copies;
  return o;
}

struct trained {
  std::vector<float> params;
  std::vector<double> validation_errors;
};

trained train_once(const tr::identity_patches& data, const tr::options& o, int threads = 2) {
  dp::set_num_threads(threads);
  dp::model<small_net> m(dp::init::seed{3});
  tr::trainer<small_net> t(m, data.identities, o);
  const auto r = t.fit(data);
  dp::set_num_threads(2);
  trained out{{m.parameters().begin(), m.parameters().end()}, {}};
  for (const auto& e : r.epochs) out.validation_errors.push_back(e.validation_error);
  return out;
}
}  // namespace

TEST_CASE("jitter_similarity: shift, rotation and scale about the face centre, as computed by hand") {
  const fc::point2 c{48.0264, 71.941825};
  const auto near = [](fc::point2 p, fc::point2 q) { return std::abs(p.x - q.x) < 1e-9 && std::abs(p.y - q.y) < 1e-9; };
  fc::jitter_draw d;
  d.dx = 2, d.dy = -1;
  CHECK(near(fc::jitter_similarity(d, c)({10, 20}), {12, 19}));
  CHECK(near(fc::jitter_similarity(d, c)(c), c + fc::point2{2, -1}));
  d = {};
  d.degrees = 90;  // +x turns to +y
  CHECK(near(fc::jitter_similarity(d, c)(c + fc::point2{3, 0}), c + fc::point2{0, 3}));
  CHECK(near(fc::jitter_similarity(d, c)(c), c));
  d.degrees = 30, d.scale = 1.1;  // 1.1 (cos 30, sin 30) = (0.952627944, 0.55)
  CHECK(near(fc::jitter_similarity(d, c)(c + fc::point2{1, 0}), c + fc::point2{0.9526279441628825, 0.55}));
  // No perturbation is exactly the identity, so a jittered cut of it changes nothing.
  const auto identity = fc::jitter_similarity(fc::jitter_draw{}, c);
  CHECK(identity.a == 1.0);
  CHECK(identity.b == 0.0);
  CHECK(identity.tx == 0.0);
  CHECK(identity.ty == 0.0);
}

TEST_CASE("face_cutter: a jittered copy samples the image where the perturbed frame puts each pixel") {
  const fc::alignment_template t;
  const cv::Mat image = ramp_image();
  const auto marks = template_landmarks(t);
  const auto box = unit_box(t);
  // Face centre ((30.2946 + 65.5318) / 2 + 48.1396) / 2, ((51.6963 + 51.5014) / 2 + 92.2848) / 2.
  const fc::point2 c{48.0264, 71.941825};
  const auto at = [](fc::point2 p, fc::point2 q) { return std::abs(p.x - q.x) < 1e-3 && std::abs(p.y - q.y) < 1e-3; };

  const auto plain = cut(fc::face_cutter(image, marks, t), box);
  CHECK(at(sampled_at(plain, 15, 15), c));
  CHECK(at(sampled_at(plain, 0, 0), c - fc::point2{15, 15}));
  CHECK(same_rows(cut(fc::face_cutter(image, marks, t, fc::jitter_draw{}), box), plain));

  fc::jitter_draw d;
  d.dx = 2, d.dy = -1;  // the face moves 2 px right and 1 px up: a pixel sees what lay 2 px left, 1 px down
  const auto shifted = cut(fc::face_cutter(image, marks, t, d), box);
  CHECK(at(sampled_at(shifted, 15, 15), c + fc::point2{-2, 1}));
  CHECK(at(sampled_at(shifted, 3, 27), c + fc::point2{-12 - 2, 12 + 1}));

  d = {};
  d.degrees = 10;  // pixel (20, 15) is c + (5, 0): it sees c + 5 (cos 10, -sin 10)
  const auto turned = cut(fc::face_cutter(image, marks, t, d), box);
  CHECK(at(sampled_at(turned, 20, 15), c + fc::point2{4.924038765, -0.868240888}));
  CHECK(at(sampled_at(turned, 15, 15), c));

  d = {};
  d.scale = 1.1;  // the face grows: pixel (20, 15) sees c + (5 / 1.1, 0)
  const auto grown = cut(fc::face_cutter(image, marks, t, d), box);
  CHECK(at(sampled_at(grown, 20, 15), c + fc::point2{4.545454545, 0}));

  SUBCASE("landmark-anchored boxes stay put: the shift shows in them too") {
    fc::patch_def nose = box;
    nose.centre = fc::anchor::nose;
    fc::jitter_draw s;
    s.dx = 2;
    const auto a = cut(fc::face_cutter(image, marks, t), nose), b = cut(fc::face_cutter(image, marks, t, s), nose);
    CHECK(at(sampled_at(b, 15, 15), sampled_at(a, 15, 15) - fc::point2{2, 0}));
  }
}

TEST_CASE("face_cutter: the photometric change of a constant patch, as computed by hand") {
  const fc::alignment_template t;
  const cv::Mat image(112, 96, CV_8UC3, cv::Scalar(51, 102, 153));  // B G R: R 0.6, G 0.4, B 0.2
  const auto marks = template_landmarks(t);
  auto box = unit_box(t);
  fc::jitter_draw d;
  d.light.gain = {1.1f, 0.9f, 1.0f};
  d.light.contrast = 1.2f;
  d.light.brightness = 0.05f;
  d.photometric_change = true;
  // 0.5 + 1.2 (gain v - 0.5) + 0.05: R 0.5 + 1.2 x 0.16 + 0.05, G 0.5 - 1.2 x 0.14 + 0.05, B 0.5 - 1.2 x 0.3 + 0.05.
  const auto rgb = cut(fc::face_cutter(image, marks, t, d), box);
  const std::size_t plane = 31 * 31, i = 15 * 31 + 15;
  CHECK(rgb[i] == doctest::Approx(0.742).epsilon(1e-6));
  CHECK(rgb[plane + i] == doctest::Approx(0.382).epsilon(1e-6));
  CHECK(rgb[2 * plane + i] == doctest::Approx(0.19).epsilon(1e-6));
  CHECK(std::ranges::all_of(std::span(rgb).first(plane), [&](float v) { return v == rgb[i]; }));
  // Gray is the gray of the changed colour: 0.299 x 0.742 + 0.587 x 0.382 + 0.114 x 0.19.
  box.channels = fc::colour::gray;
  const auto gray = cut(fc::face_cutter(image, marks, t, d), box);
  CHECK(gray[i] == doctest::Approx(0.467752).epsilon(1e-6));
  // Clamped to [0, 1]: R 0.5 + 0.192 + 0.5 = 1.192 -> 1; B with -0.5: 0.14 - 0.5 -> 0.
  box.channels = fc::colour::rgb;
  d.light.brightness = 0.5f;
  CHECK(cut(fc::face_cutter(image, marks, t, d), box)[i] == 1.0f);
  d.light.brightness = -0.5f;
  CHECK(cut(fc::face_cutter(image, marks, t, d), box)[2 * plane + i] == 0.0f);
  // Without photometric_change the colours are those of the plain cut, bit for bit.
  d.photometric_change = false;
  CHECK(same_rows(cut(fc::face_cutter(image, marks, t, d), box), cut(fc::face_cutter(image, marks, t), box)));
}

TEST_CASE("draw_jitter: every value within its range, fixed by (seed, face, copy)") {
  fc::jitter_options o;
  o.copies = 3;
  o.shift = 1.5, o.scale = 0.1, o.rotation = 8, o.colour = 0.2, o.contrast = 0.3, o.brightness = 0.05;
  double max_dx = 0, max_degrees = 0;
  for (std::size_t face = 0; face < 200; ++face)
    for (std::size_t copy = 0; copy < 3; ++copy) {
      const auto d = fc::draw_jitter(o, face, copy);
      CHECK(std::abs(d.dx) <= 1.5);
      CHECK(std::abs(d.dy) <= 1.5);
      CHECK(std::abs(d.scale - 1) <= 0.1);
      CHECK(std::abs(d.degrees) <= 8);
      for (float g : d.light.gain) CHECK(std::abs(g - 1) <= 0.2f + 1e-6f);
      CHECK(std::abs(d.light.contrast - 1) <= 0.3f + 1e-6f);
      CHECK(std::abs(d.light.brightness) <= 0.05f + 1e-6f);
      CHECK(d.photometric_change);
      max_dx = std::max(max_dx, std::abs(d.dx));
      max_degrees = std::max(max_degrees, std::abs(d.degrees));
    }
  // The ranges are used, not only respected.
  CHECK(max_dx > 1.4);
  CHECK(max_degrees > 7.5);
  const auto a = fc::draw_jitter(o, 7, 1), b = fc::draw_jitter(o, 7, 1);
  CHECK(a.dx == b.dx);
  CHECK(a.degrees == b.degrees);
  CHECK(fc::draw_jitter(o, 7, 2).dx != a.dx);
  CHECK(fc::draw_jitter(o, 8, 1).dx != a.dx);
  auto other = o;
  other.seed = 2;
  CHECK(fc::draw_jitter(other, 7, 1).dx != a.dx);
  // One range changed leaves the other draws as they were.
  other = o;
  other.rotation = 0;
  CHECK(fc::draw_jitter(other, 7, 1).dx == a.dx);
  CHECK(fc::draw_jitter(other, 7, 1).degrees == 0.0);
  CHECK(!fc::draw_jitter(all_ranges_zero(1), 0, 0).photometric_change);
}

TEST_CASE("extract_patches: K copies per face, row i K + j, the same for a seed and any thread count") {
  const auto set = fc::synthetic_face_set(4, 3);
  const std::vector<std::size_t> types{rgb_type, gray_type};
  fc::jitter_options j;
  j.copies = 2;
  j.seed = 5;
  const auto plain = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), types);
  dp::set_num_threads(1);
  const auto one = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), types, true, fc::on_bad_item::fail, {}, j);
  dp::set_num_threads(2);
  const auto two = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), types, true, fc::on_bad_item::fail, {}, j);
  REQUIRE(one.copies == 2);
  REQUIRE(one.jittered.size() == 2);
  REQUIRE(one.jittered_flipped.size() == 2);
  CHECK(plain.copies == 0);
  CHECK(plain.jittered.empty());
  for (std::size_t k = 0; k < types.size(); ++k) {
    CHECK(one.jittered[k].shape()[0] == 2 * set.faces.size());
    // The originals are untouched by the copies, and the copies repeat.
    CHECK(same(one.original[k], plain.original[k]));
    CHECK(same(one.flipped[k], plain.flipped[k]));
    CHECK(same(one.jittered[k], two.jittered[k]));
    CHECK(same(one.jittered_flipped[k], two.jittered_flipped[k]));
    // Every copy differs from its original and from the other copy.
    for (std::size_t i = 0; i < set.faces.size(); ++i) {
      CHECK(!same_rows(row(one.jittered[k], 2 * i), row(one.original[k], i)));
      CHECK(!same_rows(row(one.jittered[k], 2 * i + 1), row(one.jittered[k], 2 * i)));
      CHECK(!same_rows(row(one.jittered_flipped[k], 2 * i), row(one.flipped[k], i)));
    }
  }
  auto reseeded = j;
  reseeded.seed = 6;
  const auto other =
      fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), types, true, fc::on_bad_item::fail, {}, reseeded);
  CHECK(!same(other.jittered[0], one.jittered[0]));

  SUBCASE("with every range zero, each copy is its original bit for bit (flips included)") {
    const auto zero = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), types, true, fc::on_bad_item::fail,
                                                              {}, all_ranges_zero(3));
    for (std::size_t k = 0; k < types.size(); ++k)
      for (std::size_t i = 0; i < set.faces.size(); ++i)
        for (std::size_t c = 0; c < 3; ++c) {
          CHECK(same_rows(row(zero.jittered[k], 3 * i + c), row(plain.original[k], i)));
          CHECK(same_rows(row(zero.jittered_flipped[k], 3 * i + c), row(plain.flipped[k], i)));
        }
  }

  SUBCASE("a face left out takes its copies with it; the others keep theirs") {
    auto source = fc::faces_of(set);
    const auto load = source.load;
    source.load = [load](std::size_t i) {
      if (i == 4) throw dp::error("face 4: unreadable");
      return load(i);
    };
    const auto some = fc::extract_patches<fc::deepid1_scheme>(source, types, true, fc::on_bad_item::skip, {}, j);
    REQUIRE(some.faces.size() == set.faces.size() - 1);
    CHECK(some.problems == std::vector<std::string>{"face 4: unreadable"});
    for (std::size_t k = 0; k < types.size(); ++k) {
      CHECK(some.jittered[k].shape()[0] == 2 * some.faces.size());
      for (std::size_t r = 0; r < some.faces.size(); ++r) {
        const std::size_t i = some.faces[r];
        CHECK(same_rows(row(some.original[k], r), row(one.original[k], i)));
        CHECK(same_rows(row(some.flipped[k], r), row(one.flipped[k], i)));
        for (std::size_t c = 0; c < 2; ++c) {
          CHECK(same_rows(row(some.jittered[k], 2 * r + c), row(one.jittered[k], 2 * i + c)));
          CHECK(same_rows(row(some.jittered_flipped[k], 2 * r + c), row(one.jittered_flipped[k], 2 * i + c)));
        }
      }
    }
  }
}

TEST_CASE("trainer: K = 0 is exactly training without the option") {
  const auto today = train_once(deepid_test::synthetic_patches(), small_options(0));
  // Other ranges set, no copies asked for: nothing changes.
  auto o = small_options(0);
  o.jitter.shift = 3, o.jitter.rotation = 10, o.jitter.seed = 77;
  CHECK(train_once(deepid_test::synthetic_patches(), o).params == today.params);
  // The originals of a run that also cut copies, without the copies: the same batches.
  auto originals = jittered_patches(2);
  originals.copies = 0;
  originals.jittered = {};
  originals.jittered_flipped = {};
  const auto again = train_once(originals, small_options(0));
  CHECK(again.params == today.params);
  CHECK(again.validation_errors == today.validation_errors);
}

TEST_CASE("trainer: training samples are drawn among the copies, validation reads only the originals") {
  const auto data = jittered_patches(2);
  const auto o = small_options(2);
  const auto with = train_once(data, o, 2);
  CHECK(train_once(data, o, 1).params == with.params);  // any thread count, bitwise
  CHECK(with.params != train_once(deepid_test::synthetic_patches(), small_options(0)).params);

  std::vector<std::size_t> train_rows, validation_rows;
  tr::split_validation(data.labels, o.validation_fraction, o.seed, train_rows, validation_rows);
  REQUIRE(!validation_rows.empty());
  const auto overwrite = [](tr::identity_patches d, const std::vector<std::size_t>& rows) {
    const std::size_t size = 31 * 31;
    for (auto r : rows)
      for (auto* t : {&d.jittered, &d.jittered_flipped})
        std::fill_n(t->data() + r * d.copies * size, d.copies * size, 3.0f);
    return d;
  };
  // The copies of validation faces are never read: neither trained on nor validated.
  const auto blanked = train_once(overwrite(data, validation_rows), o);
  CHECK(blanked.params == with.params);
  CHECK(blanked.validation_errors == with.validation_errors);
  // The copies of training faces are: the same change to them changes the run.
  CHECK(train_once(overwrite(data, train_rows), o).params != with.params);
}

TEST_CASE("train_ensemble: copies reach the trainer; the normalisation is fitted on the originals") {
  const auto set = fc::synthetic_face_set(12, 6);
  const auto dir = scratch("train_ensemble");
  std::vector<std::vector<float>> params;
  for (const int copies : {0, 2}) {
    dp::features::ensemble<fc::deepid1_scheme> e({gray_type}, 4);
    auto o = small_options(copies);
    o.epochs = 1;
    REQUIRE(dp::features::train_ensemble(e, set, o, [](std::size_t, const tr::result&) {}));
    e.save(dir / std::to_string(copies));
    params.push_back(e.net(0).parameters());
  }
  CHECK(params[0] != params[1]);
  const auto file = "patch_" + std::to_string(gray_type) + ".net";
  const dp::io::record_reader k0(dir / "0" / file, "patch_net", 1), k2(dir / "2" / file, "patch_net", 1);
  CHECK(k0.f32("norm_mean") == k2.f32("norm_mean"));
  CHECK(k0.scalar("norm_scale") == k2.scalar("norm_scale"));
}

TEST_CASE("jitter options: bad values are refused with what is wrong") {
  const auto refused = [](auto change, const char* text) {
    fc::jitter_options j;
    j.copies = 2;
    change(j);
    CHECK_THROWS_WITH(j.validate(fc::alignment_template{}.inter_ocular()), doctest::Contains(text));
  };
  refused([](auto& j) { j.copies = -1; }, "jitter: -1 copies per face");
  refused([](auto& j) { j.copies = 33; }, "33 copies per face; at most 32");
  refused([](auto& j) { j.shift = 18; }, "the shift of 18.000000 px is not under half the template's inter-ocular");
  refused([](auto& j) { j.shift = -1; }, "the shift -1.000000 px is negative");
  refused([](auto& j) { j.scale = 0.5; }, "the scale range 0.500000 is outside [0, 0.500000)");
  refused([](auto& j) { j.rotation = std::nan(""); }, "the rotation (degrees) range nan");
  refused([](auto& j) { j.colour = 1; }, "the colour gain range 1.000000 is outside [0, 1.000000)");
  refused([](auto& j) { j.contrast = -0.1; }, "the contrast range -0.100000");
  refused([](auto& j) { j.brightness = 2; }, "the brightness range 2.000000");

  const auto set = fc::synthetic_face_set(2, 2);
  fc::jitter_options far;
  far.copies = 1;
  far.shift = 20;
  CHECK_THROWS_WITH(
      fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {gray_type}, true, fc::on_bad_item::fail, {}, far),
      doctest::Contains("jitter: the shift of 20.000000 px"));

  dp::model<small_net> m;
  auto negative = small_options(-2);
  CHECK_THROWS_WITH(tr::trainer<small_net>(m, 12, negative), doctest::Contains("jitter: -2 copies per face"));
  tr::trainer<small_net> asks(m, 12, small_options(2));
  CHECK_THROWS_WITH(asks.fit(deepid_test::synthetic_patches()),
                    doctest::Contains("the options ask for 2 jittered copies of each face, the patches hold 0"));
  auto bad = jittered_patches(2);
  bad.jittered = {};
  CHECK_THROWS_WITH(asks.fit(bad), doctest::Contains("trainer: the jittered copies are"));
  bad = jittered_patches(2);
  bad.jittered_flipped = {};
  CHECK_THROWS_WITH(asks.fit(bad), doctest::Contains("no flipped counterparts"));
  bad = jittered_patches(2);
  bad.jittered.data()[(3 * 2 + 1) * 31 * 31 + 5] = std::nanf("");
  CHECK_THROWS_WITH(asks.fit(bad), doctest::Contains("jittered copy 1 of patch 3 holds a value that is not finite"));
}
