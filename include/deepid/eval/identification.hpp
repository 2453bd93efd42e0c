#pragma once
// Identification on precomputed features, the two measures DeepID2+ reports
// on LFW: every probe is compared with every gallery entry, one entry per
// gallery person.
//
//   closed set   rank-1 identification rate: the fraction of probes whose
//                person's gallery entry (the mate) scores highest; the CMC
//                curve gives the fraction within the top k for every k.
//   open set     detection and identification rate at a false-alarm rate
//                (DIR@FAR): the threshold is set so that FAR of the impostor
//                probes (people not in the gallery) have a top-1 score above
//                it; DIR is the fraction of genuine probes whose top-1 match
//                is their mate AND scores above the threshold.
//
// Scores are similarities (higher = more alike): the cosine of two feature
// vectors, or any fitted verifier's score. Ties count against the probe: a
// mate's rank is 1 + the number of other gallery entries scoring at least as
// high, so a mate tied for first place is not a rank-1 identification.
// The LFW gallery/probe split is in eval/lfw_identification.hpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace eval {

// Which feature rows form the gallery and the probes.
struct identification_split {
  static constexpr std::ptrdiff_t impostor = -1;
  std::vector<std::size_t> gallery;  // feature rows, one per gallery person
  std::vector<std::size_t> probes;   // feature rows
  std::vector<std::ptrdiff_t> mate;  // per probe: index into `gallery` of its person, or `impostor`

  std::size_t genuine_probes() const {
    return std::size_t(std::count_if(mate.begin(), mate.end(), [](std::ptrdiff_t m) { return m != impostor; }));
  }
  std::size_t impostor_probes() const { return probes.size() - genuine_probes(); }
};

// What one probe's scores against the gallery say.
struct probe_ranking {
  double top_score = 0;       // the best score over the gallery
  std::size_t mate_rank = 0;  // 1 = identified; 0 for an impostor probe
};

// Ranks one probe from its scores against every gallery entry.
inline probe_ranking rank_probe(std::span<const double> scores, std::ptrdiff_t mate) {
  if (scores.empty()) throw error("identification: the gallery is empty");
  if (mate != identification_split::impostor && (mate < 0 || std::size_t(mate) >= scores.size()))
    throw error("identification: mate " + std::to_string(mate) + " outside a gallery of " + std::to_string(scores.size()));
  probe_ranking r;
  r.top_score = *std::max_element(scores.begin(), scores.end());
  if (mate == identification_split::impostor) return r;
  const double own = scores[std::size_t(mate)];
  r.mate_rank = 1;
  for (std::size_t g = 0; g < scores.size(); ++g) r.mate_rank += g != std::size_t(mate) && scores[g] >= own;
  return r;
}

// Scores of probes [first, first + count) against the whole gallery, probe
// after probe (count x gallery values).
using block_scorer = std::function<void(std::size_t first, std::size_t count, std::vector<double>& out)>;

// Ranks every probe, scoring a block of probes at a time.
inline std::vector<probe_ranking> rank_probes(const identification_split& split, const block_scorer& score,
                                              std::size_t pairs_per_block = std::size_t(1) << 21) {
  if (split.gallery.empty()) throw error("identification: the gallery is empty");
  if (split.mate.size() != split.probes.size())
    throw error("identification: " + std::to_string(split.mate.size()) + " mates for " +
                std::to_string(split.probes.size()) + " probes");
  const std::size_t g = split.gallery.size();
  const std::size_t block = std::max<std::size_t>(1, pairs_per_block / g);
  std::vector<probe_ranking> out;
  out.reserve(split.probes.size());
  std::vector<double> scores;
  for (std::size_t first = 0; first < split.probes.size(); first += block) {
    const std::size_t count = std::min(block, split.probes.size() - first);
    scores.assign(count * g, 0.0);
    score(first, count, scores);
    for (std::size_t p = 0; p < count; ++p)
      out.push_back(rank_probe(std::span<const double>(scores.data() + p * g, g), split.mate[first + p]));
  }
  return out;
}

// Cosine similarity: rows normalised once, then one matrix product per block.
// A zero row has no direction; its cosine with anything is 0.
inline std::vector<probe_ranking> rank_probes_cosine(const matrix<float>& x, const identification_split& split) {
  const std::size_t d = x.shape()[1];
  auto normalised = [&](std::span<const std::size_t> rows) {
    verify::dmatrix m(Eigen::Index(rows.size()), Eigen::Index(d));
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (rows[r] >= x.shape()[0])
        throw error("identification: row " + std::to_string(rows[r]) + " of a " + std::to_string(x.shape()[0]) +
                    "-row feature matrix");
      const float* src = x.data() + rows[r] * d;
      double norm = 0;
      for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(src[j]))
          throw error("identification: feature " + std::to_string(j) + " of row " + std::to_string(rows[r]) +
                      " is not finite");
        norm += double(src[j]) * src[j];
      }
      const double scale = norm > 0 ? 1 / std::sqrt(norm) : 0.0;
      for (std::size_t j = 0; j < d; ++j) m(Eigen::Index(r), Eigen::Index(j)) = src[j] * scale;
    }
    return m;
  };
  const verify::dmatrix gallery = normalised(split.gallery);
  const verify::dmatrix probes = normalised(split.probes);
  return rank_probes(split, [&](std::size_t first, std::size_t count, std::vector<double>& out) {
    Eigen::Map<verify::dmatrix> block(out.data(), Eigen::Index(count), gallery.rows());
    block.noalias() = probes.middleRows(Eigen::Index(first), Eigen::Index(count)) * gallery.transpose();
  });
}

// Any fitted verifier's scores (verify/verifier.hpp), through its batched scores().
template <verify::verifier V>
std::vector<probe_ranking> rank_probes_with(const V& verifier, const matrix<float>& x, const identification_split& split) {
  std::vector<verify::labelled_pair> pairs;
  return rank_probes(split, [&](std::size_t first, std::size_t count, std::vector<double>& out) {
    pairs.clear();
    for (std::size_t p = first; p < first + count; ++p)
      for (const std::size_t g : split.gallery) pairs.push_back({split.probes[p], g, false});
    out = verifier.scores(x, pairs);
  });
}

struct closed_set_result {
  std::size_t gallery = 0, probes = 0;
  double rank1 = 0;         // fraction of probes identified at rank 1
  std::vector<double> cmc;  // cmc[k - 1]: fraction with rank <= k, k = 1 .. gallery
};

// Closed-set identification of the genuine probes (impostor probes, if any, are left out).
inline closed_set_result closed_set_metrics(std::span<const probe_ranking> rankings, std::size_t gallery_size) {
  closed_set_result r;
  r.gallery = gallery_size;
  std::vector<std::size_t> at_rank(gallery_size + 1, 0);
  for (const auto& p : rankings) {
    if (p.mate_rank == 0) continue;
    if (p.mate_rank > gallery_size)
      throw error("identification: rank " + std::to_string(p.mate_rank) + " in a gallery of " +
                  std::to_string(gallery_size));
    ++at_rank[p.mate_rank];
    ++r.probes;
  }
  if (r.probes == 0) throw error("identification: no probe has a mate in the gallery");
  std::size_t within = 0;
  for (std::size_t k = 1; k <= gallery_size; ++k) {
    within += at_rank[k];
    r.cmc.push_back(double(within) / double(r.probes));
  }
  r.rank1 = r.cmc.empty() ? 0.0 : r.cmc[0];
  return r;
}

struct open_set_result {
  std::size_t genuine = 0, impostors = 0;
  double far_requested = 0;
  double threshold = 0;              // accepted: top-1 score > threshold
  std::size_t impostors_above = 0;   // false alarms at the threshold
  double far = 0;                    // impostors_above / impostors (at most far_requested)
  std::size_t genuine_detected = 0;  // top-1 is the mate and above the threshold
  double dir = 0;                    // genuine_detected / genuine
};

// DIR at a false-alarm rate in (0, 1). With m impostors, the threshold is the
// (k+1)-th highest impostor top-1 score, k = floor(far m), so at most k of
// them (fewer when scores tie there) score above it.
inline open_set_result open_set_metrics(std::span<const probe_ranking> rankings, double far) {
  if (!(far > 0 && far < 1))
    throw error("identification: the false-alarm rate must lie strictly between 0 and 1, got " + std::to_string(far));
  open_set_result r;
  r.far_requested = far;
  std::vector<double> impostor_top;
  for (const auto& p : rankings) {
    if (p.mate_rank == 0) impostor_top.push_back(p.top_score);
    else ++r.genuine;
  }
  r.impostors = impostor_top.size();
  if (r.impostors == 0) throw error("identification: the open set has no impostor probes");
  if (r.genuine == 0) throw error("identification: the open set has no genuine probes");
  std::sort(impostor_top.begin(), impostor_top.end(), std::greater<>());
  // The small epsilon keeps far * m = 3 from flooring to 2 through rounding.
  const auto allowed = std::min(std::size_t(std::floor(far * double(r.impostors) + 1e-9)), r.impostors - 1);
  r.threshold = impostor_top[allowed];
  r.impostors_above = std::size_t(std::count_if(impostor_top.begin(), impostor_top.end(),
                                                [&](double s) { return s > r.threshold; }));
  r.far = double(r.impostors_above) / double(r.impostors);
  for (const auto& p : rankings) r.genuine_detected += p.mate_rank == 1 && p.top_score > r.threshold;
  r.dir = double(r.genuine_detected) / double(r.genuine);
  return r;
}

}  // namespace eval
DEEPID_NAMESPACE_END
