// Occlusion of the aligned face on small images, against pixels worked out
// by hand: with landmarks on the template itself the alignment is the
// identity, so canvas and image coincide; at twice the scale each canvas
// pixel covers two image pixels.
#include <doctest/doctest.h>

#include <deepid/face/occlusion.hpp>

namespace dp = deepid;
namespace fc = deepid::face;

namespace {
fc::landmarks5 template_landmarks(double scale) {
  const fc::alignment_template t;
  fc::landmarks5 l;
  l[fc::landmark::left_eye] = t.left_eye * scale;
  l[fc::landmark::right_eye] = t.right_eye * scale;
  // Mouth corners symmetric about the template's mouth centre.
  l[fc::landmark::left_mouth] = (t.mouth_centre + dp::face::point2{-14.6, 0}) * scale;
  l[fc::landmark::right_mouth] = (t.mouth_centre + dp::face::point2{14.6, 0}) * scale;
  l[fc::landmark::nose] = ((t.eye_centre() + t.mouth_centre) * 0.5) * scale;
  return l;
}

int black_rows_from_bottom(const cv::Mat& m) {
  int rows = 0;
  for (int y = m.rows - 1; y >= 0; --y, ++rows)
    if (cv::countNonZero(m.row(y)) != 0) break;
  return rows;
}
}  // namespace

TEST_CASE("occlusion: the bottom bar on the canvas itself covers ceil(f x 112) rows") {
  for (const double f : {0.1, 0.3, 0.5, 0.7}) {
    cv::Mat image(112, 96, CV_8UC1, cv::Scalar(200));
    fc::occlude(image, template_landmarks(1.0), fc::bottom_bar(f));
    const int expected = int(std::ceil(f * 112 - 1e-9));  // 12, 34, 56, 79
    INFO("fraction " << f);
    CHECK(black_rows_from_bottom(image) == expected);
    CHECK(cv::countNonZero(image) == (112 - expected) * 96);  // nothing above the bar
  }
  CHECK(fc::bottom_bar(0.0).y0 == 112.0);  // no rows
  CHECK_THROWS_WITH(fc::bottom_bar(1.5), doctest::Contains("[0, 1]"));
}

TEST_CASE("occlusion: at twice the scale the bar covers twice the image rows, in every channel") {
  cv::Mat image(224, 192, CV_8UC3, cv::Scalar(10, 20, 30));
  fc::occlude(image, template_landmarks(2.0), fc::bottom_bar(0.25));
  // 28 canvas rows from y = 84: image pixel centres y with y / 2 >= 84 (the
  // fit is exact up to rounding, hence the one-row margin either side).
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  const int black = black_rows_from_bottom(gray);
  CHECK(black >= 55);
  CHECK(black <= 57);
  CHECK(image.at<cv::Vec3b>(0, 0) == cv::Vec3b(10, 20, 30));
  CHECK(image.at<cv::Vec3b>(223, 191) == cv::Vec3b(0, 0, 0));
}

TEST_CASE("occlusion: a random block is n x n, inside the canvas, and drawn from the seed") {
  dp::rng gen(5);
  const fc::canvas_region r = fc::random_block(20, gen);
  CHECK(r.x1 - r.x0 == 20);
  CHECK(r.y1 - r.y0 == 20);
  CHECK(r.x0 >= 0);
  CHECK(r.y0 >= 0);
  CHECK(r.x1 <= 96);
  CHECK(r.y1 <= 112);
  cv::Mat image(112, 96, CV_8UC1, cv::Scalar(1));
  fc::occlude(image, template_landmarks(1.0), r);
  CHECK(cv::countNonZero(image) == 112 * 96 - 400);
  CHECK(image.at<std::uint8_t>(int(r.y0), int(r.x0)) == 0);
  CHECK(image.at<std::uint8_t>(int(r.y1) - 1, int(r.x1) - 1) == 0);
  if (r.x1 < 96) CHECK(image.at<std::uint8_t>(int(r.y0), int(r.x1)) == 1);  // just right of the block
  if (r.y1 < 112) CHECK(image.at<std::uint8_t>(int(r.y1), int(r.x0)) == 1);  // just below it
  dp::rng again(5), other(6);
  const auto same = fc::random_block(20, again), different = fc::random_block(20, other);
  CHECK(same.x0 == r.x0);
  CHECK(same.y0 == r.y0);
  CHECK((different.x0 != r.x0 || different.y0 != r.y0));
  CHECK_THROWS_WITH(fc::random_block(97, gen), doctest::Contains("does not fit the 96x112"));
}
