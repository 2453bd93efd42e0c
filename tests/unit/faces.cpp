// Landmarks, similarity alignment, patch schemes, patch cutting, synthetic
// identities and bad input, on data made here (no outside files).
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_files.hpp"

namespace dp = deepid;
namespace fc = deepid::face;

namespace {
const deepid_test::scratch_folder scratch{"faces"};
using deepid_test::write_bytes;
double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
  return m;
}
}  // namespace

TEST_CASE("least-squares similarity recovers a known transform exactly") {
  const fc::similarity truth{1.7 * std::cos(0.3), 1.7 * std::sin(0.3), 12.5, -4.0};
  const std::vector<fc::point2> from{{10, 20}, {40, 22}, {26, 60}, {5, 5}};
  std::vector<fc::point2> to;
  for (auto p : from) to.push_back(truth(p));
  const auto fit = fc::fit_similarity(from, to);
  CHECK(fit.a == doctest::Approx(truth.a).epsilon(1e-12));
  CHECK(fit.b == doctest::Approx(truth.b).epsilon(1e-12));
  CHECK(fit.tx == doctest::Approx(truth.tx).epsilon(1e-10));
  CHECK(fit.ty == doctest::Approx(truth.ty).epsilon(1e-10));
  // The inverse round-trips every point.
  for (auto p : from) {
    const auto back = fit.inverse()(fit(p));
    CHECK(back.x == doctest::Approx(p.x).epsilon(1e-12));
    CHECK(back.y == doctest::Approx(p.y).epsilon(1e-12));
  }
}

TEST_CASE("similarity fit on three points matches the closed form") {
  // Hand computation: from (0,0), (2,0), (1,2) to (1,1), (1,3), (-1,2):
  // means (1, 2/3) and (1/3, 2); D = 1+1+0 + (4/9+4/9+16/9) = 14/3;
  // a = sum(u.v)/D, b = sum(u x v)/D.
  const std::vector<fc::point2> p{{0, 0}, {2, 0}, {1, 2}}, q{{1, 1}, {1, 3}, {-1, 2}};
  double a = 0, b = 0, d = 0;
  const fc::point2 pm{1, 2.0 / 3}, qm{1.0 / 3, 2};
  for (int i = 0; i < 3; ++i) {
    const auto u = p[i] - pm, v = q[i] - qm;
    d += u.x * u.x + u.y * u.y;
    a += u.x * v.x + u.y * v.y;
    b += u.x * v.y - u.y * v.x;
  }
  CHECK(d == doctest::Approx(14.0 / 3));
  const auto s = fc::fit_similarity(p, q);
  CHECK(s.a == doctest::Approx(a / d));
  CHECK(s.b == doctest::Approx(b / d));
}

TEST_CASE("alignment maps the three anchors of synthetic faces onto the template within 0.5 px") {
  fc::synthetic_faces gen;
  const fc::alignment_template t;
  double worst = 0;
  for (int id = 0; id < 10; ++id)
    for (int s = 0; s < 5; ++s) {
      const auto face = gen.render(id, s);
      // A face drawn to the template's own proportions must land on it: make
      // the landmarks an exact similarity image of the template.
      const fc::similarity pose{0.9 * std::cos(0.1 * s), 0.9 * std::sin(0.1 * s), 3.0 * id, 2.0};
      fc::landmarks5 l;
      l[fc::landmark::left_eye] = pose(t.left_eye);
      l[fc::landmark::right_eye] = pose(t.right_eye);
      l[fc::landmark::left_mouth] = pose(t.mouth_centre + fc::point2{-14, 0});
      l[fc::landmark::right_mouth] = pose(t.mouth_centre + fc::point2{14, 0});
      l[fc::landmark::nose] = pose({48, 72});
      worst = std::max(worst, fc::alignment_residual(l, t));
      // Real synthetic faces: the fit is least squares, so the residual is
      // small but not zero; aligned eyes must be level.
      const auto aligned = fc::alignment_transform(face.points, t).apply(face.points);
      CHECK(std::abs(aligned[fc::landmark::left_eye].y - aligned[fc::landmark::right_eye].y) < 6.0);
    }
  CHECK(worst < 0.5);
}

TEST_CASE("DeepID1 scheme: 60 patches, shapes, order and flip-swap pairs") {
  using S = fc::deepid1_scheme;
  static_assert(fc::patch_count<S> == 60);
  static_assert(fc::patch_count<fc::deepid1_scheme_100> == 100);
  static_assert(fc::patch_count<fc::deepid2_candidates> == 200);
  // The scheme's patch types and the nets check each other at compile time.
  static_assert(dp::require_patch_input<dp::deepid1<dp::patch_shape<3, 39, 31>>, S, 0>());
  static_assert(dp::require_patch_input<dp::deepid1<dp::patch_shape<1, 39, 31>>, S, 1>());
  static_assert(dp::require_patch_input<dp::deepid1<dp::patch_shape<3, 31, 31>>, S, 6>());
  static_assert(dp::require_patch_input<dp::deepid2<dp::patch_shape<3, 55, 47>>, fc::deepid2_candidates, 0>());

  std::size_t rect = 0, square = 0, rgb = 0;
  std::set<std::string> names;
  for (const auto& p : S::patches) {
    names.insert(std::string(p.label()));
    if (p.rows == 39 && p.cols == 31) ++rect;
    if (p.rows == 31 && p.cols == 31) ++square;
    if (p.channels == fc::colour::rgb) ++rgb;
  }
  CHECK(names.size() == 60);
  CHECK(rect == 6);     // one rectangle region x 3 scales x 2 colours
  CHECK(square == 54);  // nine square regions
  CHECK(rgb == 30);
  auto index = [](const char* name) {
    for (std::size_t i = 0; i < S::patches.size(); ++i)
      if (S::patches[i].label() == name) return i;
    return std::size_t(999);
  };
  CHECK(S::patches[index("left_eye.s1.rgb")].flip_partner == index("right_eye.s1.rgb"));
  CHECK(S::patches[index("right_eye.s2.gray")].flip_partner == index("left_eye.s2.gray"));
  CHECK(S::patches[index("left_mouth.s0.rgb")].flip_partner == index("right_mouth.s0.rgb"));
  CHECK(S::patches[index("nose.s0.rgb")].flip_partner == index("nose.s0.rgb"));
  CHECK(S::patches[index("face.s2.gray")].flip_partner == index("face.s2.gray"));
  CHECK(S::patches[index("eyes_nose.s1.rgb")].flip_partner == index("eyes_nose.s1.rgb"));
}

TEST_CASE("a patch's flipped counterpart is the mirror of its partner, and of the mirrored face") {
  using S = fc::deepid1_scheme;
  fc::synthetic_faces gen;
  const auto face = gen.render(3, 1);
  const fc::face_cutter cutter(face.image, face.points);
  for (std::size_t i : {std::size_t(0), std::size_t(31), std::size_t(30), std::size_t(42)}) {
    const auto& d = S::patches[i];
    std::vector<float> flipped(d.shape().size()), partner(d.shape().size());
    cutter.cut<S>(i, flipped.data(), true);
    cutter.cut(S::patches[d.flip_partner], partner.data(), false);
    // Mirror the partner by hand.
    std::vector<float> mirrored(partner.size());
    for (std::size_t c = 0; c < d.channel_count(); ++c)
      for (std::size_t y = 0; y < d.rows; ++y)
        for (std::size_t x = 0; x < d.cols; ++x)
          mirrored[(c * d.rows + y) * d.cols + x] = partner[(c * d.rows + y) * d.cols + d.cols - 1 - x];
    CHECK(max_abs(flipped, mirrored) == 0.0);
    // Cutting patch i from the mirrored image (landmarks relabelled by image
    // side) gives the same picture up to resampling.
    cv::Mat mirror_image;
    cv::flip(face.image, mirror_image, 1);
    const fc::face_cutter mirror_cutter(mirror_image, face.points.mirrored(face.image.cols - 1));
    std::vector<float> from_mirror(d.shape().size());
    mirror_cutter.cut(d, from_mirror.data(), false);
    double mean_diff = 0;
    for (std::size_t k = 0; k < from_mirror.size(); ++k) mean_diff += std::abs(from_mirror[k] - flipped[k]);
    CHECK(mean_diff / double(from_mirror.size()) < 0.03);
  }
}

TEST_CASE("patch cutting: gray is the luminance of RGB, values in [0, 1]") {
  using S = fc::deepid1_scheme;
  fc::synthetic_faces gen;
  const auto face = gen.render(1, 0);
  const fc::face_cutter cutter(face.image, face.points);
  std::vector<float> rgb(3 * 39 * 31), gray(39 * 31);
  cutter.cut<S>(0, rgb.data(), false);  // face.s0.rgb
  cutter.cut<S>(1, gray.data(), false);  // face.s0.gray
  double worst = 0;
  for (std::size_t i = 0; i < gray.size(); ++i) {
    const float r = rgb[i], g = rgb[gray.size() + i], b = rgb[2 * gray.size() + i];
    worst = std::max(worst, double(std::abs(gray[i] - (0.299f * r + 0.587f * g + 0.114f * b))));
    CHECK(rgb[i] >= 0.0f);
    CHECK(rgb[i] <= 1.0f);
  }
  CHECK(worst < 1e-5);
}

TEST_CASE("the synthetic generator is deterministic for a seed and differs across seeds") {
  fc::synthetic_faces a({.seed = 5}), b({.seed = 5}), c({.seed = 6});
  const auto fa = a.render(7, 2), fb = b.render(7, 2), fc2 = c.render(7, 2);
  CHECK(cv::norm(fa.image, fb.image, cv::NORM_INF) == 0);
  CHECK(fa.points.points == fb.points.points);
  CHECK(cv::norm(fa.image, fc2.image, cv::NORM_L1) > 0);
  // Landmarks are inside the image and eyes are apart.
  for (auto p : fa.points.points) {
    CHECK(p.x > 0);
    CHECK(p.y > 0);
    CHECK(p.x < fa.image.cols);
    CHECK(p.y < fa.image.rows);
  }
  CHECK(fa.points.inter_ocular() > 10);
}

TEST_CASE("synthetic face set feeds extract_patches, with normalisation") {
  const auto set = fc::synthetic_face_set(4, 3);
  CHECK(set.faces.size() == 12);
  CHECK(set.identities() == 4);
  const auto batch = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {0, 6, 31});
  REQUIRE(batch.original.size() == 3);
  CHECK(batch.original[0].shape()[0] == 12);
  CHECK(batch.original[0].shape()[1] == 3);
  CHECK(batch.original[0].shape()[2] == 39);
  CHECK(batch.flipped[2].shape()[3] == 31);
  auto normalised = batch.original[1];
  const auto norm = fc::patch_normalisation::fit(normalised);
  norm.apply(normalised);
  double mean = 0, var = 0;
  for (float v : normalised) mean += v;
  mean /= double(normalised.size());
  for (float v : normalised) var += (v - mean) * (v - mean);
  CHECK(std::abs(mean) < 1e-4);
  CHECK(var / double(normalised.size()) == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("bad input: degenerate or far-off landmarks are rejected with the source named") {
  fc::landmarks5 l;
  l.points = {fc::point2{50, 50}, fc::point2{50, 50}, fc::point2{60, 70}, fc::point2{40, 90}, fc::point2{70, 90}};
  CHECK_THROWS_WITH(fc::validate(l, 250, 250, "faces.tsv:3"), doctest::Contains("faces.tsv:3: degenerate landmarks"));
  l.points[1] = {90, 50};
  CHECK_NOTHROW(fc::validate(l, 250, 250, "x"));
  l.points[2] = {900, 70};
  CHECK_THROWS_WITH(fc::validate(l, 250, 250, "img.jpg"), doctest::Contains("outside the 250x250 image"));
  l.points[2] = {std::nan(""), 70};
  CHECK_THROWS_WITH(fc::validate(l, 250, 250, "img.jpg"), doctest::Contains("not a finite number"));
  // One far-off point inflates the face size it is measured against; the
  // image's size bounds the margin.
  l.points[2] = {60, 70};
  l.points[3] = {5000, 5000};
  CHECK_THROWS_WITH(fc::validate(l, 250, 250, "img.jpg"), doctest::Contains("the left mouth corner"));
  // A close-up whose mouth lies below the image by less than the face size is kept.
  l.points = {fc::point2{60, 150}, fc::point2{190, 150}, fc::point2{125, 230}, fc::point2{80, 300}, fc::point2{170, 300}};
  CHECK_NOTHROW(fc::validate(l, 250, 250, "close-up.jpg"));
}

TEST_CASE("bad input: a truncated JPEG is refused with its name; a complete one decodes, trailing bytes and all") {
  fc::synthetic_faces gen;
  std::vector<std::uint8_t> jpeg;
  REQUIRE(cv::imencode(".jpg", gen.render(3, 1).image, jpeg));
  CHECK(fc::decode_image(jpeg, "face.jpg").cols == gen.options().size);
  auto padded = jpeg;
  padded.insert(padded.end(), 100, 0);
  CHECK(fc::decode_image(padded, "padded.jpg").cols == gen.options().size);
  for (const double kept : {0.2, 0.5, 0.9, 0.999}) {
    const std::vector<std::uint8_t> cut(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(double(jpeg.size()) * kept));
    CHECK_THROWS_WITH(fc::decode_image(cut, "cut.jpg"), doctest::Contains("cut.jpg: truncated or corrupt JPEG"));
  }
  // A PNG is the decoder's to judge.
  std::vector<std::uint8_t> png;
  REQUIRE(cv::imencode(".png", gen.render(3, 1).image, png));
  CHECK(fc::decode_image(png, "face.png").rows > 0);
}

TEST_CASE("bad input: malformed landmark, pair and identity lines name file and line") {
  const auto dir = scratch("bad_lines");
  write_bytes(dir / "short.tsv", "# header\nA/A_0001.jpg\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\nB/B_0001.jpg\t1\t2\t3\n");
  CHECK_THROWS_WITH(fc::landmark_list::read(dir / "short.tsv"),
                    doctest::Contains("short.tsv:3: expected 10 coordinates after 'B/B_0001.jpg', found 3"));
  write_bytes(dir / "word.tsv", "A.jpg 1 2 3 4 five 6 7 8 9 10\n");
  CHECK_THROWS_WITH(fc::landmark_list::read(dir / "word.tsv"), doctest::Contains("word.tsv:1: coordinate 5"));
  write_bytes(dir / "twice.tsv", "A.jpg 1 2 3 4 5 6 7 8 9 10\nA.jpg 1 2 3 4 5 6 7 8 9 10\n");
  CHECK_THROWS_WITH(fc::landmark_list::read(dir / "twice.tsv"), doctest::Contains("twice.tsv:2"));
  CHECK_THROWS_WITH(fc::landmark_list::read(dir / "missing.tsv"), doctest::Contains("missing.tsv: cannot open"));

  write_bytes(dir / "pairs.txt", "1\t2\nAl\t1\t2\nBo\t1\t3\nAl\t1\tBo\t2\nAl\t1\n");
  CHECK_THROWS_WITH(fc::read_lfw_pairs(dir / "pairs.txt"),
                    doctest::Contains("pairs.txt:5: expected 'name1 i name2 j' (a mismatched pair), found 2 fields"));
  write_bytes(dir / "pairs2.txt", "1\t1\nAl\t1\tx\nAl\t1\tBo\t2\n");
  CHECK_THROWS_WITH(fc::read_lfw_pairs(dir / "pairs2.txt"), doctest::Contains("pairs2.txt:2: 'x' is not an image number"));
  write_bytes(dir / "pairs3.txt", "1\t2\nAl\t1\t2\n");
  CHECK_THROWS_WITH(fc::read_lfw_pairs(dir / "pairs3.txt"), doctest::Contains("the list ends early"));
  // A first line that undercounts the rows would drop the rest silently.
  write_bytes(dir / "pairs4.txt", "1\t1\nAl\t1\t2\nAl\t1\tBo\t2\nBo\t1\t2\n\n");
  CHECK_THROWS_WITH(fc::read_lfw_pairs(dir / "pairs4.txt"),
                    doctest::Contains("pairs4.txt:4: more pairs than the first line's 2 ('1\t1')"));
  write_bytes(dir / "pairs5.txt", "1\t1\nAl\t1\t2\nAl\t1\tBo\t2\n\n  \n");
  CHECK(fc::read_lfw_pairs(dir / "pairs5.txt").size() == 2);  // trailing blank lines are fine
  // An extension OpenCV has no encoder for: an error naming the file, not OpenCV's.
  const cv::Mat pixels(4, 4, CV_8UC3, cv::Scalar(1, 2, 3));
  CHECK_THROWS_WITH(fc::save_image(dir / "sheet.xyz", pixels), doctest::Contains("sheet.xyz: cannot encode an image as .xyz"));
  CHECK_FALSE(std::filesystem::exists(dir / "sheet.xyz"));
  write_bytes(dir / "names.txt", "\n\n");
  CHECK_THROWS_WITH(fc::read_lfw_names(dir / "names.txt"), doctest::Contains("names.txt: lists no people"));
}

TEST_CASE("bad input: unreadable images and missing landmarks; a batch can skip and report them") {
  const auto dir = scratch("bad_images");
  write_bytes(dir / "broken.jpg", "this is not a jpeg");
  CHECK_THROWS_WITH(fc::load_image(dir / "broken.jpg"), doctest::Contains("broken.jpg: not a readable image"));
  CHECK_THROWS_WITH(fc::load_image(dir / "absent.jpg"), doctest::Contains("absent.jpg: cannot open"));

  // A folder-per-identity set where one image is corrupt and one has no landmarks.
  fc::synthetic_faces gen;
  std::string tsv;
  for (int id = 0; id < 2; ++id) {
    std::filesystem::create_directories(dir / "people" / ("p" + std::to_string(id)));
    for (int s = 0; s < 2; ++s) {
      const auto f = gen.render(id, s);
      const std::string name = "p" + std::to_string(id) + "/" + std::to_string(s) + ".png";
      fc::save_image(dir / "people" / name, f.image);
      if (name == "p1/1.png") continue;  // no landmarks for this one
      tsv += name;
      for (auto p : f.points.points) tsv += " " + std::to_string(p.x) + " " + std::to_string(p.y);
      tsv += "\n";
    }
  }
  write_bytes(dir / "people" / "p0" / "1.png", "corrupt");
  write_bytes(dir / "marks.tsv", tsv);
  CHECK_THROWS_WITH(fc::read_identity_folders(dir / "people", dir / "marks.tsv"),
                    doctest::Contains("no landmarks for image 'p1/1.png'"));
  const auto set = fc::read_identity_folders(dir / "people", dir / "marks.tsv", fc::on_bad_item::skip);
  CHECK(set.faces.size() == 3);
  CHECK(set.problems.size() == 1);
  CHECK_THROWS_WITH(fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {0}),
                    doctest::Contains("p0/1.png: not a readable image"));
  const auto batch = fc::extract_patches<fc::deepid1_scheme>(fc::faces_of(set), {0}, true, fc::on_bad_item::skip);
  CHECK(batch.faces == std::vector<std::size_t>{0, 2});
  REQUIRE(batch.problems.size() == 1);
  CHECK(batch.problems[0].find("p0/1.png") != std::string::npos);
}

TEST_CASE("tar archives: members read in place; truncated and missing members are named") {
  const auto dir = scratch("tar");
  fc::synthetic_faces gen;
  fc::save_image(dir / "a.png", gen.render(0, 0).image);
  REQUIRE(std::system(("cd " + dir.string() + " && tar --format=ustar -cf set.tar a.png").c_str()) == 0);
  const fc::tar_archive tar(dir / "set.tar");
  CHECK(tar.contains("a.png"));
  CHECK(fc::decode_image(tar.read("a.png"), "a.png").cols == gen.options().size);
  const auto store = fc::image_store::from_tar(dir / "set.tar", "");
  CHECK_THROWS_WITH(store.load("b.png"), doctest::Contains("set.tar: image 'b.png' is missing from the archive"));
  // Cut the archive in the middle of the member.
  std::filesystem::resize_file(dir / "set.tar", 700);
  CHECK_THROWS_WITH(fc::tar_archive(dir / "set.tar"), doctest::Contains("truncated archive"));
  write_bytes(dir / "junk.tar", std::string(1024, 'x'));
  CHECK_THROWS_WITH(fc::tar_archive(dir / "junk.tar"), doctest::Contains("corrupt tar header"));
}
