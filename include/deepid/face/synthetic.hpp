#pragma once
// Built-in default data: procedurally drawn faces of synthetic identities,
// deterministic for a seed, with exact landmarks. It feeds the quickstart and
// the tests on machines without outside data.
//
// Identity (drawn from (seed, identity)): face outline, skin and hair colour,
// hair line, eye spacing, size and iris colour, brows, nose, mouth and lips,
// moles, and for some identities glasses or a beard.
// Nuisance (drawn from (seed, identity, sample)): in-plane rotation, scale and
// position, yaw (inner features shift sideways), lighting direction and
// level, expression (smile, open mouth, raised brows, half-closed eyes), blur,
// sensor noise, background, and partial occlusion by a random block.
// docs/faces.md records how hard verification on it is.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/face/alignment.hpp"
#include "deepid/face/detail/opencv.hpp"
#include "deepid/face/landmarks.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct synthetic_options {
  std::uint64_t seed = 1;
  int size = 112;           // square image side, pixels
  double nuisance = 1.0;    // scales every nuisance range (0: frontal, clean)
  double occlusion = 0.25;  // probability of an occluding block
};

struct synthetic_face {
  cv::Mat image;  // size x size, 8-bit BGR
  landmarks5 points;
  bool occluded = false;  // a block was drawn over the face
};

class synthetic_faces {
 public:
  explicit synthetic_faces(synthetic_options options = {}) : o_(options) {}

  const synthetic_options& options() const { return o_; }

  synthetic_face render(int identity, int sample) const {
    const identity_traits id = traits(identity);
    rng gen(mix64(o_.seed * 0x9e3779b97f4a7c15ull ^ mix64(std::uint64_t(identity) << 20 ^ std::uint64_t(sample) ^ 0x5bd1e995ull)));
    const double k = o_.nuisance;
    auto range = [&](double lo, double hi) { return lo + (hi - lo) * gen.uniform(); };
    auto jitter = [&](double amount) { return range(-amount, amount) * k; };

    const int canvas = 2 * o_.size;  // drawn upright at twice the size, then warped down
    const double u = canvas / 2.0;   // unit: half the canvas
    cv::Mat img(canvas, canvas, CV_8UC3);
    paint_background(img, gen, id);

    // Expression and yaw for this sample.
    const double yaw = jitter(0.10);
    const double smile = std::clamp(id.smile + jitter(0.5), -0.4, 1.0);
    const double open = std::max(0.0, jitter(0.6));
    const double brow_raise = jitter(0.04);
    const double eye_open = std::clamp(1.0 - std::max(0.0, jitter(0.9)) * 0.7, 0.25, 1.0);

    const cv::Point2d centre(u, u * 1.04);
    const double fw = id.face_w * u, fh = id.face_h * u;
    const cv::Scalar skin = id.skin;
    // Hair behind the head, then the face.
    cv::ellipse(img, cv::Point(centre), cv::Size(int(fw * 1.12), int(fh * 1.08)), 0, 180, 360, id.hair, -1, cv::LINE_AA);
    cv::ellipse(img, cv::Point(centre), cv::Size(int(fw * (1 - std::abs(yaw) * 0.5)), int(fh)), 0, 0, 360, skin, -1,
                cv::LINE_AA);
    // Fringe: a hair cap over the top of the face, hair line per identity.
    cv::ellipse(img, cv::Point2d(centre.x, centre.y - fh * 0.35), cv::Size(int(fw * 1.02), int(fh * id.fringe)), 0, 180,
                360, id.hair, -1, cv::LINE_AA);

    const double shift = yaw * fw;  // inner features move with yaw
    const double eye_y = centre.y - fh * id.eye_height;
    const double half_iod = id.iod * u / 2;
    const cv::Point2d le(centre.x - half_iod + shift * 1.1, eye_y), re(centre.x + half_iod + shift * 0.9, eye_y);
    const cv::Point2d nose(centre.x + shift * 1.3, eye_y + id.nose_len * u);
    const double mouth_y = eye_y + id.mouth_drop * u;
    const double half_mouth = id.mouth_w * u / 2 * (1 + 0.15 * smile);
    const double corner_lift = smile * 0.03 * u;
    const cv::Point2d lm(centre.x - half_mouth + shift, mouth_y - corner_lift),
        rm(centre.x + half_mouth + shift, mouth_y - corner_lift);

    for (const auto& mole : id.moles)
      cv::circle(img, cv::Point2d(centre.x + mole[0] * fw + shift, centre.y + mole[1] * fh), int(u * 0.02 + 1),
                 cv::Scalar(skin[0] * 0.45, skin[1] * 0.45, skin[2] * 0.5), -1, cv::LINE_AA);
    if (id.beard)
      cv::ellipse(img, cv::Point2d(centre.x + shift, mouth_y + 0.06 * u), cv::Size(int(fw * 0.75), int(fh * 0.32)), 0, 0,
                  180, id.hair * 0.8, -1, cv::LINE_AA);

    // Eyes: white, iris, pupil; lids close with eye_open.
    for (const auto& e : {le, re}) {
      const cv::Size axes(int(id.eye_w * u), std::max(1, int(id.eye_h * u * eye_open)));
      cv::ellipse(img, cv::Point(e), axes, 0, 0, 360, cv::Scalar(235, 238, 240), -1, cv::LINE_AA);
      if (eye_open > 0.4) {
        cv::circle(img, cv::Point(e), int(id.eye_h * u * 0.9 * eye_open), id.iris, -1, cv::LINE_AA);
        cv::circle(img, cv::Point(e), std::max(1, int(id.eye_h * u * 0.35)), cv::Scalar(20, 20, 20), -1, cv::LINE_AA);
      }
      cv::ellipse(img, cv::Point(e), axes, 0, 180, 360, skin * 0.6, std::max(1, int(u * 0.012)), cv::LINE_AA);
      // Brow over each eye.
      const double by = e.y - id.brow_gap * u - brow_raise * u;
      const double side = e.x < centre.x + shift ? -1 : 1;
      cv::line(img, cv::Point2d(e.x - id.eye_w * u * 1.1, by + side * id.brow_tilt * u),
               cv::Point2d(e.x + id.eye_w * u * 1.1, by - side * id.brow_tilt * u), id.hair * 0.9,
               std::max(1, int(id.brow_thick * u)), cv::LINE_AA);
    }
    if (id.glasses)
      for (const auto& e : {le, re})
        cv::circle(img, cv::Point(e), int(id.eye_w * u * 1.6), cv::Scalar(30, 30, 30), std::max(1, int(u * 0.02)),
                   cv::LINE_AA);

    // Nose: a ridge and nostrils.
    cv::line(img, cv::Point2d(centre.x + shift * 1.15, eye_y + 0.03 * u), nose, skin * 0.75, std::max(1, int(u * 0.02)),
             cv::LINE_AA);
    for (double s : {-1.0, 1.0})
      cv::circle(img, cv::Point2d(nose.x + s * id.nose_w * u, nose.y), std::max(1, int(u * 0.018)), skin * 0.5, -1,
                 cv::LINE_AA);

    // Mouth: lips as a filled curve through the corners, opened by `open`.
    {
      std::vector<cv::Point> upper, lower;
      const int steps = 16;
      for (int i = 0; i <= steps; ++i) {
        const double t = double(i) / steps, x = lm.x + (rm.x - lm.x) * t, bow = std::sin(t * std::numbers::pi);
        upper.emplace_back(int(x), int(mouth_y - corner_lift * (1 - bow) - bow * id.lip * u + corner_lift * bow * 0.3));
        lower.emplace_back(int(x), int(mouth_y - corner_lift * (1 - bow) + bow * (id.lip * u + open * 0.05 * u) +
                                       smile * bow * 0.02 * u));
      }
      std::vector<cv::Point> lips(upper);
      lips.insert(lips.end(), lower.rbegin(), lower.rend());
      cv::fillPoly(img, std::vector<std::vector<cv::Point>>{lips}, id.lips, cv::LINE_AA);
      if (open > 0.2)
        cv::line(img, cv::Point(lm), cv::Point(rm), cv::Scalar(40, 30, 60), std::max(1, int(open * 0.03 * u)), cv::LINE_AA);
    }

    // Light: a linear gradient across the face plus a global level.
    {
      const double angle = range(0, 2 * std::numbers::pi), strength = 0.35 * k * gen.uniform();
      const double level = 1.0 + jitter(0.25);
      cv::Mat gain(canvas, canvas, CV_32F);
      for (int y = 0; y < canvas; ++y)
        for (int x = 0; x < canvas; ++x)
          gain.at<float>(y, x) = float(level * (1 + strength * (std::cos(angle) * (x - u) + std::sin(angle) * (y - u)) / u));
      cv::Mat f;
      img.convertTo(f, CV_32FC3);
      std::vector<cv::Mat> ch;
      cv::split(f, ch);
      for (auto& c : ch) c = c.mul(gain);
      cv::merge(ch, f);
      f.convertTo(img, CV_8UC3);
    }

    // Occlusion: a block of random colour somewhere over the face.
    const bool occluded = gen.uniform() < o_.occlusion * std::min(1.0, k);
    if (occluded) {
      const double ow = range(0.25, 0.6) * fw * 2, oh = range(0.15, 0.4) * fh * 2;
      const cv::Point2d oc(centre.x + range(-0.6, 0.6) * fw, centre.y + range(-0.7, 0.8) * fh);
      cv::rectangle(img, cv::Rect(int(oc.x - ow / 2), int(oc.y - oh / 2), int(ow), int(oh)),
                    cv::Scalar(range(0, 255), range(0, 255), range(0, 255)), -1);
    }

    // Pose: rotation, scale and shift about the canvas centre, down to size.
    const double angle = jitter(0.26), scale = (o_.size / double(canvas)) * (1 + jitter(0.12));
    const double tx = jitter(0.06) * o_.size, ty = jitter(0.06) * o_.size;
    const similarity to_image{scale * std::cos(angle), scale * std::sin(angle), 0, 0};
    const point2 c = to_image({u, u});
    const similarity pose{to_image.a, to_image.b, o_.size / 2.0 - c.x + tx, o_.size / 2.0 - c.y + ty};
    cv::Mat smooth;
    cv::GaussianBlur(img, smooth, cv::Size(0, 0), 0.8 + k * range(0, 1.2));
    synthetic_face out;
    out.occluded = occluded;
    out.image = warp(smooth, pose, o_.size, o_.size);
    // Sensor noise.
    cv::Mat noise(out.image.size(), CV_16SC3);
    cv::RNG noise_source(gen.next());  // seeded here: cv::randn's global generator is not
    noise_source.fill(noise, cv::RNG::NORMAL, 0, 2 + k * range(0, 8));
    cv::Mat noisy;
    out.image.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(out.image, CV_8UC3);

    const std::array<cv::Point2d, 5> pts{le, re, nose, lm, rm};
    for (std::size_t i = 0; i < 5; ++i) out.points.points[i] = pose({pts[i].x, pts[i].y});
    return out;
  }

 private:
  struct identity_traits {
    double face_w, face_h, fringe, eye_height, iod, eye_w, eye_h, brow_gap, brow_tilt, brow_thick;
    double nose_len, nose_w, mouth_drop, mouth_w, lip, smile;
    cv::Scalar skin, hair, iris, lips, background;
    bool glasses, beard;
    std::vector<std::array<double, 2>> moles;
  };

  identity_traits traits(int identity) const {
    rng gen(mix64(o_.seed ^ mix64(std::uint64_t(identity) * 0x2545f4914f6cdd1dull + 17)));
    auto range = [&](double lo, double hi) { return lo + (hi - lo) * gen.uniform(); };
    identity_traits t;
    t.face_w = range(0.50, 0.66);
    t.face_h = range(0.66, 0.80);
    t.fringe = range(0.25, 0.75);
    t.eye_height = range(0.12, 0.26);
    t.iod = range(0.36, 0.50);
    t.eye_w = range(0.065, 0.10);
    t.eye_h = range(0.028, 0.048);
    t.brow_gap = range(0.07, 0.13);
    t.brow_tilt = range(-0.025, 0.035);
    t.brow_thick = range(0.015, 0.045);
    t.nose_len = range(0.20, 0.32);
    t.nose_w = range(0.035, 0.07);
    t.mouth_drop = t.nose_len + range(0.12, 0.22);
    t.mouth_w = range(0.22, 0.38);
    t.lip = range(0.012, 0.04);
    t.smile = range(-0.2, 0.5);
    const double tone = range(0.25, 1.0);
    t.skin = cv::Scalar(60 + 140 * tone * range(0.8, 1.0), 80 + 140 * tone, 110 + 140 * tone * range(0.95, 1.05));
    t.hair = cv::Scalar(range(10, 120), range(10, 110), range(15, 150)) * (gen.uniform() < 0.15 ? 2.0 : 1.0);
    t.iris = cv::Scalar(range(20, 160), range(30, 140), range(20, 110));
    t.lips = cv::Scalar(range(60, 120), range(50, 100), range(130, 200));
    t.background = cv::Scalar(range(0, 255), range(0, 255), range(0, 255));
    t.glasses = gen.uniform() < 0.2;
    t.beard = gen.uniform() < 0.15;
    const int moles = int(range(0, 4));
    for (int i = 0; i < moles; ++i) t.moles.push_back({range(-0.7, 0.7), range(-0.3, 0.7)});
    return t;
  }

  void paint_background(cv::Mat& img, rng& gen, const identity_traits& id) const {
    // Backgrounds vary per sample; identities keep a loose tendency.
    cv::Scalar a = id.background * 0.3, b;
    for (int c = 0; c < 3; ++c) a[c] += 0.7 * 255 * gen.uniform(), b[c] = 255 * gen.uniform();
    for (int y = 0; y < img.rows; ++y) {
      const double t = double(y) / img.rows;
      img.row(y).setTo(a * (1 - t) + b * t);
    }
    const int blobs = int(3 * gen.uniform());
    for (int i = 0; i < blobs; ++i)
      cv::circle(img, cv::Point(int(gen.uniform() * img.cols), int(gen.uniform() * img.rows)),
                 int(img.cols * (0.1 + 0.2 * gen.uniform())),
                 cv::Scalar(255 * gen.uniform(), 255 * gen.uniform(), 255 * gen.uniform()), -1, cv::LINE_AA);
  }

  synthetic_options o_;
};

}  // namespace face
DEEPID_NAMESPACE_END
