#pragma once
// feature_group_fusion<V>: one verifier V per contiguous group of feature
// dimensions, their scores fused by score_fusion (DeepID2's 7-group fusion).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/verify/embedded_verifier.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/score_fusion.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// feature_group_fusion<V>: a verifier made of one V per contiguous feature
// group (DeepID2: 7 groups of 25 patches, one JB each), fused by score_fusion.
//
// Groups are given as widths, or as a count splitting D into equal parts
// (7 by default). fit() fits each V on its columns, then the fusion SVM on
// the V scores of the training pairs (the given pairs, or balanced pairs
// drawn from the identities). With holdout > 0, a deterministic
// fraction of the pairs is kept from the V fits and used for the fusion
// only (less optimistic component scores; identity-based V still see every
// row's identity). Score = the fusion SVM margin (HIGHER = SAME). The
// threshold is the fusion's, learnt on the fusion's pairs: with holdout, the
// held-out pairs only, whose component scores are not the members' own
// training scores.

struct feature_group_options {
  std::size_t count = 7;             // equal groups, used when widths is empty
  std::vector<std::size_t> widths;   // explicit group widths, summing to D
  svm_options svm{};
  double holdout = 0.0;              // fraction of pairs for the fusion only
  std::size_t sampled_pairs = 20000; // drawn when fit() gets identities only
  std::uint64_t seed = 1;
};

template <verifier V>
class feature_group_fusion : public threshold_holder {
 public:
  // make(k) builds the (unfitted) verifier of group k; default: V{}.
  explicit feature_group_fusion(feature_group_options o = {}, std::function<V(std::size_t)> make = {})
      : opt_(std::move(o)), make_(std::move(make)), fusion_(opt_.svm) {}

  static std::string kind() { return "fusion-" + std::string(V::kind()); }
  bool fitted() const { return fitted_; }
  const std::vector<V>& members() const { return members_; }
  const score_fusion& fusion() const { return fusion_; }
  const std::vector<std::size_t>& widths() const { return widths_; }

  void fit(const training_data& data) {
    const std::string who = kind();
    const std::size_t d = data.features.shape()[1];
    widths_ = opt_.widths;
    if (widths_.empty()) {
      if (opt_.count == 0 || d % opt_.count != 0)
        throw error(who + ": cannot split " + std::to_string(d) + " dimensions into " + std::to_string(opt_.count) +
                    " equal groups (give widths)");
      widths_.assign(opt_.count, d / opt_.count);
    }
    check_widths(d);
    const auto pairs = detail::pairwise::training_pairs(data, opt_.sampled_pairs, opt_.seed, who);
    std::vector<labelled_pair> member_pairs, fusion_pairs;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const bool held = opt_.holdout > 0 && double(mix64(opt_.seed ^ mix64(i)) >> 11) * 0x1.0p-53 < opt_.holdout;
      (held ? fusion_pairs : member_pairs).push_back(pairs[i]);
    }
    if (opt_.holdout <= 0) fusion_pairs = member_pairs;
    if (member_pairs.empty() || fusion_pairs.empty())
      throw error(who + ": holdout " + std::to_string(opt_.holdout) + " leaves no pairs for the members or the fusion");
    members_.clear();
    std::vector<std::vector<double>> s;
    for (std::size_t k = 0; k < widths_.size(); ++k) {
      const matrix<float> part = slice(data.features, k);
      members_.push_back(make_ ? make_(k) : V{});
      members_.back().fit(training_data{part, data.identities, member_pairs});
      s.push_back(members_.back().scores(part, fusion_pairs));
    }
    fusion_.fit(s, fusion_pairs);
    set_threshold(fusion_.threshold());
    fitted_ = true;
  }

  // Each member's scores of the pairs, in group order (what fusion().fuse takes).
  std::vector<std::vector<double>> member_scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted();
    check_widths(x.shape()[1]);
    std::vector<std::vector<double>> s;
    for (std::size_t k = 0; k < members_.size(); ++k) s.push_back(members_[k].scores(slice(x, k), pairs));
    return s;
  }

  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    return fusion_.fuse(member_scores(x, pairs));
  }

  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted();
    if (a.size() != b.size()) throw error(kind() + ": feature lengths differ");
    check_widths(a.size());
    std::vector<double> s(members_.size());
    std::size_t at = 0;
    for (std::size_t k = 0; k < members_.size(); ++k) {
      s[k] = members_[k].score(a.subspan(at, widths_[k]), b.subspan(at, widths_[k]));
      at += widths_[k];
    }
    return fusion_.fuse_one(s);
  }

  // One file: the group widths, the fusion, and each member's own record
  // file embedded as bytes.
  io::record_writer record() const {
    require_fitted();
    io::record_writer w("verifier/" + kind(), 1);
    std::vector<std::int64_t> widths(widths_.begin(), widths_.end());
    w.add("widths", std::span<const std::int64_t>(widths));
    fusion_.write(w, "fusion/");
    save_threshold(w);
    for (std::size_t k = 0; k < members_.size(); ++k) embed_verifier(w, "member" + std::to_string(k), members_[k]);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }

  static feature_group_fusion load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static feature_group_fusion from_record(const io::record_reader& r) {
    feature_group_fusion f;
    for (auto v : r.i64("widths")) {
      if (v <= 0) throw error(r.path() + ": corrupt group widths");
      f.widths_.push_back(std::size_t(v));
    }
    f.opt_.widths = f.widths_;
    f.fusion_.read(r, "fusion/");
    if (f.fusion_.components() != f.widths_.size())
      throw error(r.path() + ": " + std::to_string(f.widths_.size()) + " groups but " +
                  std::to_string(f.fusion_.components()) + " fused components");
    f.load_threshold(r);
    for (std::size_t k = 0; k < f.widths_.size(); ++k)
      f.members_.push_back(load_embedded_verifier<V>(r, "member" + std::to_string(k)));
    f.fitted_ = true;
    return f;
  }

 private:
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": the verifier is not fitted (call fit first)");
  }
  void check_widths(std::size_t d) const {
    std::size_t total = 0;
    for (auto w : widths_) {
      if (w == 0) throw error(kind() + ": a feature group has width 0");
      total += w;
    }
    if (total != d)
      throw error(kind() + ": the groups cover " + std::to_string(total) + " dimensions, the features have " +
                  std::to_string(d));
  }
  matrix<float> slice(const matrix<float>& x, std::size_t k) const {
    std::size_t at = 0;
    for (std::size_t j = 0; j < k; ++j) at += widths_[j];
    const std::size_t n = x.shape()[0], d = x.shape()[1], w = widths_[k];
    matrix<float> part({n, w});
    for (std::size_t i = 0; i < n; ++i) std::copy_n(x.data() + i * d + at, w, part.data() + i * w);
    return part;
  }

  feature_group_options opt_;
  std::function<V(std::size_t)> make_;
  std::vector<V> members_;
  std::vector<std::size_t> widths_;
  score_fusion fusion_;
  bool fitted_ = false;
};

}  // namespace verify
DEEPID_NAMESPACE_END
