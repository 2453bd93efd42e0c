#pragma once
// 2-D similarity transforms q = M p + t with M = [[a, -b], [b, a]] (scale
// s = hypot(a, b), rotation atan2(b, a)), and the closed-form least-squares
// fit used by DeepID's "weak" alignment.
#include <cmath>
#include <span>
#include <string>

#include "deepid/core/error.hpp"
#include "deepid/face/landmarks.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

struct similarity {
  double a = 1, b = 0, tx = 0, ty = 0;

  point2 operator()(point2 p) const { return {a * p.x - b * p.y + tx, b * p.x + a * p.y + ty}; }
  double scale() const { return std::hypot(a, b); }
  double angle() const { return std::atan2(b, a); }

  similarity inverse() const {
    const double d = a * a + b * b;
    const double ia = a / d, ib = -b / d;
    return {ia, ib, -(ia * tx - ib * ty), -(ib * tx + ia * ty)};
  }
  // (this o other)(p) = this(other(p)).
  similarity then_after(const similarity& other) const {
    return {a * other.a - b * other.b, a * other.b + b * other.a, a * other.tx - b * other.ty + tx,
            b * other.tx + a * other.ty + ty};
  }
  landmarks5 apply(const landmarks5& l) const {
    landmarks5 out;
    for (std::size_t i = 0; i < 5; ++i) out.points[i] = (*this)(l.points[i]);
    return out;
  }
};

// Least-squares similarity mapping `from` onto `to` (same length >= 2):
// minimises sum |M p_i + t - q_i|^2 in closed form.
inline similarity fit_similarity(std::span<const point2> from, std::span<const point2> to) {
  if (from.size() != to.size() || from.size() < 2)
    throw error("fit_similarity: need two equally long point lists with at least 2 points");
  point2 pm{}, qm{};
  for (std::size_t i = 0; i < from.size(); ++i) pm = pm + from[i], qm = qm + to[i];
  pm = pm * (1.0 / double(from.size()));
  qm = qm * (1.0 / double(to.size()));
  double d = 0, sa = 0, sb = 0;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const point2 u = from[i] - pm, v = to[i] - qm;
    d += u.x * u.x + u.y * u.y;
    sa += u.x * v.x + u.y * v.y;
    sb += u.x * v.y - u.y * v.x;
  }
  if (!(d > 1e-12)) throw error("fit_similarity: the source points coincide");
  similarity s{sa / d, sb / d, 0, 0};
  const point2 mp = s(pm);
  s.tx = qm.x - mp.x;
  s.ty = qm.y - mp.y;
  return s;
}

}  // namespace face
DEEPID_NAMESPACE_END
