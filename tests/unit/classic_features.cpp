// Classic features (uniform LBP on a grid and around landmarks, HOG), the
// extractor interface, extract_all and the progress bar, on images made here.
#include <doctest/doctest.h>

#include <deepid/core/progress.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/face/synthetic.hpp>
#include <deepid/features/extractor.hpp>
#include <deepid/features/hog.hpp>
#include <deepid/features/lbp.hpp>

#include <bit>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace dp = deepid;
namespace fc = deepid::face;
namespace ft = deepid::features;

namespace {

cv::Mat patch3(std::initializer_list<int> values) {
  cv::Mat m(3, 3, CV_8UC1);
  auto it = values.begin();
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) m.at<std::uint8_t>(y, x) = std::uint8_t(*it++);
  return m;
}

int code_of_centre(const cv::Mat& m, double radius = 1.0) {
  cv::Mat codes;
  ft::lbp_codes(m, cv::Rect(m.cols / 2, m.rows / 2, 1, 1), ft::lbp_circle(radius), codes);
  return codes.at<std::uint8_t>(0, 0);
}

cv::Mat random_gray(int width, int height, unsigned seed, int levels = 256) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(0, levels - 1);
  cv::Mat m(height, width, CV_8UC1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) m.at<std::uint8_t>(y, x) = std::uint8_t(d(gen) * 255 / std::max(levels - 1, 1));
  return m;
}

}  // namespace

TEST_CASE("uniform mapping: 58 uniform patterns get bins 0..57 in code order, the other 198 share bin 58") {
  int uniform = 0;
  std::set<int> bins;
  for (int c = 0; c < 256; ++c) {
    const auto code = std::uint8_t(c);
    if (ft::lbp_is_uniform(code)) {
      CHECK(ft::lbp_uniform_map[code] == uniform);
      ++uniform;
    } else {
      CHECK(ft::lbp_uniform_map[code] == 58);
    }
    bins.insert(ft::lbp_uniform_map[code]);
  }
  CHECK(uniform == 58);
  CHECK(bins.size() == 59);
  CHECK(ft::lbp_uniform_map[0] == 0);
  CHECK(ft::lbp_uniform_map[255] == 57);
  CHECK(ft::lbp_transitions(0b00001111) == 2);
  CHECK(ft::lbp_transitions(0b10000001) == 2);  // wraps around the circle
  CHECK(ft::lbp_transitions(0b01010101) == 8);
  CHECK(!ft::lbp_is_uniform(0b00100100));
}

TEST_CASE("LBP codes of hand-made 3x3 patterns") {
  // Bit p: neighbour at 45p degrees counter-clockwise from image-right.
  CHECK(code_of_centre(patch3({7, 7, 7, 7, 7, 7, 7, 7, 7})) == 255);        // flat: all >=
  CHECK(code_of_centre(patch3({0, 0, 0, 0, 9, 0, 0, 0, 0})) == 0);          // a bright dot
  CHECK(code_of_centre(patch3({0, 0, 0, 0, 100, 200, 0, 0, 0})) == 1);      // right neighbour only
  CHECK(code_of_centre(patch3({0, 200, 0, 0, 100, 0, 0, 0, 0})) == 4);      // up: bit 2
  CHECK(code_of_centre(patch3({0, 0, 0, 200, 100, 0, 0, 0, 0})) == 16);     // left: bit 4
  CHECK(code_of_centre(patch3({0, 0, 0, 0, 100, 0, 0, 200, 0})) == 64);     // down: bit 6
  // A bright right column: the diagonals interpolate to 0.5*200 + 0.207*200
  // + 0.086*100 = 150 >= 100, so bits 7, 0 and 1.
  CHECK(code_of_centre(patch3({0, 0, 200, 0, 100, 200, 0, 0, 200})) == 0b10000011);
  // A bright top row: bits 1, 2 and 3.
  CHECK(code_of_centre(patch3({200, 200, 200, 0, 100, 0, 0, 0, 0})) == 0b00001110);
  // A bright corner lifts its diagonal neighbour only when bright enough:
  // 0.5 * 180 + 0.086 * 100 = 98.6 < 100, 0.5 * 220 + 0.086 * 100 = 118.6.
  CHECK(code_of_centre(patch3({0, 0, 180, 0, 100, 0, 0, 0, 0})) == 0);
  CHECK(code_of_centre(patch3({0, 0, 220, 0, 100, 0, 0, 0, 0})) == 2);  // 118.6 >= 100
  // Interpolation is exact for equal pixels at every radius.
  CHECK(code_of_centre(cv::Mat(5, 5, CV_8UC1, cv::Scalar(3)), 2.0) == 255);
  CHECK(code_of_centre(cv::Mat(5, 5, CV_8UC1, cv::Scalar(250)), 1.5) == 255);
}

TEST_CASE("rotating an image by 90 degrees rotates every LBP code by two bits") {
  for (double radius : {1.0, 1.5, 2.0, 3.0}) {
    const cv::Mat img = random_gray(23, 23, 11, 4);  // few levels: many ties
    const ft::lbp_circle circle(radius);
    const int m = circle.margin(), n = 23 - 2 * m;
    cv::Mat ccw, half, codes, codes_ccw, codes_half;
    cv::rotate(img, ccw, cv::ROTATE_90_COUNTERCLOCKWISE);
    cv::rotate(img, half, cv::ROTATE_180);
    ft::lbp_codes(img, cv::Rect(m, m, n, n), circle, codes);
    ft::lbp_codes(ccw, cv::Rect(m, m, n, n), circle, codes_ccw);
    ft::lbp_codes(half, cv::Rect(m, m, n, n), circle, codes_half);
    int mismatches = 0;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const auto c = codes.at<std::uint8_t>(y, x);
        // Counter-clockwise: pixel (x, y) moves to (y, W-1-x) and its right
        // neighbour (bit 0) becomes the upper one (bit 2).
        mismatches += codes_ccw.at<std::uint8_t>(n - 1 - x, y) != std::rotl(c, 2);
        mismatches += codes_half.at<std::uint8_t>(n - 1 - y, n - 1 - x) != std::rotl(c, 4);
      }
    CHECK_MESSAGE(mismatches == 0, "radius " << radius);
  }
}

TEST_CASE("histogram normalisation: l1 sums to one, sqrt_l1 has unit L2 norm, empty stays empty") {
  std::vector<float> h{1, 3, 0, 12}, l1 = h, zero(4, 0.0f);
  ft::normalise_histogram(h, ft::histogram_norm::sqrt_l1);
  CHECK(h[0] == doctest::Approx(0.25));
  CHECK(h[1] == doctest::Approx(std::sqrt(3.0 / 16)));
  CHECK(h[2] == 0.0f);
  CHECK(h[3] == doctest::Approx(std::sqrt(12.0 / 16)));
  CHECK(std::inner_product(h.begin(), h.end(), h.begin(), 0.0) == doctest::Approx(1.0));
  ft::normalise_histogram(l1, ft::histogram_norm::l1);
  CHECK(std::accumulate(l1.begin(), l1.end(), 0.0) == doctest::Approx(1.0));
  CHECK(l1[3] == doctest::Approx(0.75));
  ft::normalise_histogram(zero, ft::histogram_norm::sqrt_l1);
  CHECK(zero == std::vector<float>(4, 0.0f));
}

TEST_CASE("LBP grid: dims follow the options and every cell counts its pixels") {
  const ft::lbp_grid standard;
  CHECK(standard.cols() == 6);
  CHECK(standard.rows() == 7);
  CHECK(standard.dim() == 6 * 7 * 59);
  CHECK(ft::lbp_grid({.cell = 8, .cols = 10, .rows = 12}).dim() == 10 * 12 * 59);
  CHECK(ft::lbp_grid({.zoom = 2.0, .cell = 16}).dim() == 12 * 14 * 59);
  CHECK(ft::lbp_grid({.radius = 2.0}).region_box() == cv::Rect(-2, -2, 100, 116));
  CHECK_THROWS_WITH_AS(ft::lbp_grid({.cell = 200}), doctest::Contains("no 200 px cell fits"), dp::error);
  CHECK_THROWS_WITH_AS(ft::lbp_grid({.radius = 0.5}), doctest::Contains("radius"), dp::error);

  for (double radius : {1.0, 2.0}) {
    const ft::lbp_grid raw({.radius = radius, .norm = ft::histogram_norm::none});
    const cv::Mat region = random_gray(raw.region_box().width, raw.region_box().height, 5);
    std::vector<float> f(raw.dim());
    raw.describe(region, f);
    for (std::size_t cell = 0; cell < 42; ++cell) {
      const double sum = std::accumulate(f.begin() + std::ptrdiff_t(cell * 59), f.begin() + std::ptrdiff_t(cell * 59 + 59), 0.0);
      CHECK(sum == 16 * 16);
    }
    // Normalised, each cell has unit L2 norm.
    const ft::lbp_grid norm({.radius = radius});
    std::vector<float> g(norm.dim());
    norm.describe(region, g);
    for (std::size_t cell = 0; cell < 42; ++cell) {
      double ss = 0;
      for (std::size_t b = 0; b < 59; ++b) ss += double(g[cell * 59 + b]) * g[cell * 59 + b];
      CHECK(ss == doctest::Approx(1.0));
    }
  }
  // A flat region: every pixel codes 255, bin 57.
  const ft::lbp_grid raw({.norm = ft::histogram_norm::none});
  std::vector<float> f(raw.dim());
  raw.describe(cv::Mat(raw.region_box().size(), CV_8UC1, cv::Scalar(90)), f);
  for (std::size_t cell = 0; cell < 42; ++cell) CHECK(f[cell * 59 + 57] == 256.0f);
  CHECK_THROWS_WITH_AS(raw.describe(cv::Mat(10, 10, CV_8UC1), f), doctest::Contains("expected an 8-bit gray region of 98x114"),
                       dp::error);
}

TEST_CASE("multi-scale LBP around landmarks: dims, full cells on a typical face, scale order") {
  const ft::lbp_multiscale standard;
  CHECK(standard.dim() == 4 * 5 * 16 * 59);
  CHECK(ft::lbp_multiscale({.scales = {1.0, 0.5}, .grid = 3}).dim() == 2 * 5 * 9 * 59);

  const fc::synthetic_faces gen({.seed = 3, .size = 160, .nuisance = 0.5});
  const auto face = gen.render(4, 1);
  const ft::lbp_multiscale raw({.norm = ft::histogram_norm::none});
  const auto f = raw.extract(face.image, face.points);
  REQUIRE(f.size() == raw.dim());
  for (std::size_t cell = 0; cell < f.size() / 59; ++cell) {
    const double sum = std::accumulate(f.begin() + std::ptrdiff_t(cell * 59), f.begin() + std::ptrdiff_t(cell * 59 + 59), 0.0);
    CHECK(sum == 100);  // 10 x 10 pixels: every square lies inside the canvas
  }
  // On the same canvas, scales {1, 0.75} are the first two blocks of the
  // feature, and listing them the other way round swaps the blocks.
  const cv::Mat canvas = raw.region(face.image, face.points);
  const auto points = raw.region_points(face.points);
  CHECK(canvas.size() == raw.region_box().size());
  const ft::lbp_multiscale two({.scales = {1.0, 0.75}, .norm = ft::histogram_norm::none});
  const ft::lbp_multiscale swapped({.scales = {0.75, 1.0}, .norm = ft::histogram_norm::none});
  std::vector<float> g(two.dim()), h(two.dim());
  two.describe(canvas, points, g);
  swapped.describe(canvas, points, h);
  CHECK(std::equal(g.begin(), g.end(), f.begin()));
  const auto half = std::ptrdiff_t(two.dim() / 2);
  CHECK(std::equal(g.begin(), g.begin() + half, h.begin() + half));
  CHECK(std::equal(g.begin() + half, g.end(), h.begin()));
  // Every landmark's square at scale 1 lies inside the canvas.
  for (const auto& p : points.points) {
    CHECK(p.x > 21);
    CHECK(p.y > 21);
    CHECK(p.x < canvas.cols - 21);
    CHECK(p.y < canvas.rows - 21);
  }
}

TEST_CASE("HOG: a vertical edge votes into bin 0, a horizontal one into the bins around 90 degrees") {
  const ft::hog h;
  CHECK(h.cols() == 12);
  CHECK(h.rows() == 14);
  CHECK(h.dim() == 11 * 13 * 36);
  CHECK(ft::hog({.cell = 16, .block_stride = 2}).dim() == 3 * 3 * 36);
  CHECK(ft::hog({.block = 3, .bins = 12}).dim() == 10 * 12 * 9 * 12);
  CHECK_THROWS_WITH_AS(ft::hog({.cell = 64}), doctest::Contains("cannot hold one block"), dp::error);

  const cv::Size size = h.region_box().size();
  auto energy_by_bin = [&](const cv::Mat& region) {
    const auto cells = h.cell_histograms(region);
    std::vector<double> by_bin(9, 0.0);
    for (std::size_t i = 0; i < cells.size(); ++i) by_bin[i % 9] += cells[i];
    return by_bin;
  };
  cv::Mat vertical(size, CV_8UC1, cv::Scalar(0)), horizontal(size, CV_8UC1, cv::Scalar(0)), diagonal(size, CV_8UC1);
  vertical.colRange(size.width / 2 + 3, size.width).setTo(200);
  horizontal.rowRange(size.height / 2 + 5, size.height).setTo(200);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) diagonal.at<std::uint8_t>(y, x) = x + y > 100 ? 200 : 20;

  const auto v = energy_by_bin(vertical);
  CHECK(v[0] == doctest::Approx(2 * 200.0 * 112));  // two pixels of each row see the step
  for (int k = 1; k < 9; ++k) CHECK(v[std::size_t(k)] == 0.0);
  const auto hz = energy_by_bin(horizontal);  // 90 degrees = bin 4.5
  CHECK(hz[4] == doctest::Approx(hz[5]));
  CHECK(hz[4] + hz[5] == doctest::Approx(std::accumulate(hz.begin(), hz.end(), 0.0)));
  const auto d = energy_by_bin(diagonal);  // 45 degrees = bin 2.25
  CHECK(d[2] == doctest::Approx(3 * d[3]).epsilon(1e-3));  // atan within 2e-6 rad
  CHECK(d[2] + d[3] == doctest::Approx(std::accumulate(d.begin(), d.end(), 0.0)));
  // A bright-to-dark edge is the same unsigned orientation.
  cv::Mat flipped;
  cv::flip(vertical, flipped, 1);
  CHECK(energy_by_bin(flipped)[0] == doctest::Approx(v[0]));

  // Blocks are L2-Hys normalised: unit norm where there is an edge, zero elsewhere.
  std::vector<float> f(h.dim());
  h.describe(vertical, f);
  int unit = 0, empty = 0;
  for (std::size_t b = 0; b < f.size() / 36; ++b) {
    double ss = 0;
    for (std::size_t k = 0; k < 36; ++k) ss += double(f[b * 36 + k]) * f[b * 36 + k];
    if (ss == 0) ++empty;
    else if (std::abs(ss - 1.0) < 1e-4) ++unit;
  }
  CHECK(unit > 0);
  CHECK(unit + empty == int(f.size() / 36));
}

TEST_CASE("extractors are deterministic and extract_all matches one-by-one extraction at any thread count") {
  const fc::synthetic_faces gen({.seed = 9, .size = 128});
  std::vector<fc::synthetic_face> faces;
  for (int i = 0; i < 12; ++i) faces.push_back(gen.render(i % 4, i / 4));
  auto load = [&](std::size_t i) { return std::pair{faces[i].image, faces[i].points}; };

  const ft::lbp_grid lbp;
  const ft::lbp_multiscale ms({.scales = {1.0, 0.5}});
  const ft::hog hog;
  auto check = [&](const auto& e) {
    CHECK(e.extract(faces[0].image, faces[0].points) == e.extract(faces[0].image, faces[0].points));
    dp::set_num_threads(1);
    const auto one = ft::extract_all(e, faces.size(), load);
    dp::set_num_threads(2);
    std::size_t calls = 0, last = 0;
    const auto two = ft::extract_all(e, faces.size(), load, [&](std::size_t done, std::size_t total) {
      CHECK(done > last);
      CHECK(total == faces.size());
      last = done, ++calls;
    });
    CHECK(calls == faces.size());
    REQUIRE(one.features.shape()[0] == faces.size());
    REQUIRE(one.features.shape()[1] == e.dim());
    CHECK(std::equal(one.features.begin(), one.features.end(), two.features.begin()));
    for (std::size_t i = 0; i < faces.size(); ++i) {
      const auto f = e.extract(faces[i].image, faces[i].points);
      CHECK(std::equal(f.begin(), f.end(), one.features.data() + i * e.dim()));
      for (float x : f) REQUIRE(std::isfinite(x));
    }
  };
  check(lbp);
  check(ms);
  check(hog);
  // Gray and BGR input give the same feature (gray is OpenCV's conversion).
  cv::Mat gray;
  cv::cvtColor(faces[1].image, gray, cv::COLOR_BGR2GRAY);
  CHECK(lbp.extract(gray, faces[1].points) == lbp.extract(faces[1].image, faces[1].points));
}

TEST_CASE("extract_all names the bad face, or leaves it out and lists it") {
  const fc::synthetic_faces gen({.seed = 2});
  std::vector<fc::synthetic_face> faces;
  for (int i = 0; i < 6; ++i) faces.push_back(gen.render(i, 0));
  faces[2].image = cv::Mat();                         // unreadable
  faces[4].image.convertTo(faces[4].image, CV_32FC3);  // wrong pixel type
  std::vector<std::string> names{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"};
  faces[5].points.points[1] = faces[5].points.points[0];  // eyes coincide
  fc::face_source source{[&](std::size_t i) { return std::pair{faces[i].image, faces[i].points}; },
                         [&](std::size_t i) { return names[i]; }, faces.size()};
  const ft::hog hog;
  CHECK_THROWS_WITH_AS(ft::extract_all(hog, source), "c.jpg: the image is empty", dp::error);
  const auto kept = ft::extract_all(hog, source, {}, fc::on_bad_item::skip);
  CHECK(kept.faces == std::vector<std::size_t>{0, 1, 3});
  CHECK(kept.features.shape()[0] == 3);
  REQUIRE(kept.problems.size() == 3);
  CHECK(kept.problems[0] == "c.jpg: the image is empty");
  CHECK(kept.problems[1].rfind("e.jpg: expected an 8-bit gray, BGR or BGRA image", 0) == 0);
  CHECK(kept.problems[2].rfind("f.jpg: degenerate landmarks", 0) == 0);
  const auto f3 = hog.extract(faces[3].image, faces[3].points);
  CHECK(std::equal(f3.begin(), f3.end(), kept.features.data() + 2 * hog.dim()));
  // A loader that throws is reported with its own message, prefixed with the face.
  auto throwing = [](std::size_t) -> std::pair<cv::Mat, fc::landmarks5> { throw dp::error("x.tar:y.jpg: corrupt"); };
  CHECK_THROWS_WITH_AS(ft::extract_all(hog, 2, throwing), "face 0: x.tar:y.jpg: corrupt", dp::error);
  // A progress callback that throws cancels the job.
  CHECK_THROWS_WITH_AS(ft::extract_all(hog, source, [](std::size_t, std::size_t) { throw dp::error("stop"); },
                                       fc::on_bad_item::skip),
                       "stop", dp::error);
  static_assert(!ft::feature_extractor<int>);
}

TEST_CASE("progress bar: plain lines when not a terminal, final summary, durations") {
  CHECK(dp::format_duration(3) == "0:03");
  CHECK(dp::format_duration(127) == "2:07");
  CHECK(dp::format_duration(3 * 3600 + 62) == "3:01:02");
  CHECK(dp::format_duration(-1) == "--:--");
  std::FILE* file = std::tmpfile();
  REQUIRE(file);
  {
    dp::progress_bar bar("LBP", 10, {.unit = "faces", .interval_s = 0.0}, file);
    CHECK(bar.style() == dp::progress_style::lines);
    auto cb = bar.callback();
    for (std::size_t i = 1; i <= 10; ++i) cb(i, 10);
    bar.update(3);  // never goes back
    CHECK(bar.done() == 10);
  }
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;) text += char(c);
  std::fclose(file);
  CHECK(text.find("LBP: 1/10 (10.0%)") != std::string::npos);
  CHECK(text.find("faces/s, ETA") != std::string::npos);
  CHECK(text.find("LBP: 10/10 done in 0:00") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}
