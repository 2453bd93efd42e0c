#pragma once
// Forward-backward greedy selection of feature groups (DeepID2's patch
// selection: keep the patch nets whose features verify best together), and
// greedy_selected<V>, a verifier fitted on the groups the search keeps.
//
//   forward_backward_select   the search, on a criterion accuracy(S) of a
//                             subset S of groups, or on per-group pair scores
//   greedy_selected<V>        a verifier: selects on held-out training people,
//                             then fits V on the chosen groups of all rows
//
// The search. S starts empty; the first forward step adds the best single
// group. Then, until S holds K groups:
//   forward   add the group whose addition gives the highest accuracy; stop
//             if that does not beat the current accuracy by more than min_gain
//   backward  after each forward step, drop the group whose removal gives the
//             highest accuracy, again and again while that beats the current
//             accuracy by more than min_gain (a group that helped when it was
//             added can become useless once later groups carry its evidence)
// Every step raises the accuracy, so no subset is visited twice and the
// search ends; max_steps bounds it all the same. Ties go to the lowest group
// index, and each subset is evaluated once (the criterion sees it sorted), so
// the search is deterministic when the criterion is.
//
// greedy_selected<V>::fit(training data) uses the TRAINING rows only:
//   1. a validation_fraction of the training people (chosen by a seeded hash
//      of the identity label, so independent of the row order) is held out;
//      validation pairs are balanced same/different pairs among them;
//   2. the search scores a subset by the best-threshold accuracy of its
//      validation pair scores (accuracy is what the protocol reports; ties of
//      this discrete criterion go to the lower group index, see above);
//   3. V is refitted on all training rows restricted to the chosen groups
//      (make(d) builds it for d dimensions, so a PCA inside V can be sized).
// The model that scores a subset during the search (selection_model):
//   joint_bayesian  (default) each group is reduced once by its own PCA
//                   (search_components dimensions, fitted on the fit part's
//                   rows); Joint Bayesian's closed-form covariances (the
//                   between- and within-identity covariances it starts EM
//                   from) are computed once for all reduced groups, and a
//                   subset's model is their principal submatrices: exactly
//                   joint_bayesian{max_iterations = 0} fitted on the subset's
//                   columns, without a pass over the fit rows or EM per
//                   subset. A subset of d_S reduced columns costs one d_S x d_S
//                   eigenproblem and d_S^2 per validation row; each step's
//                   subsets are scored in parallel. Meant for V = PCA + Joint
//                   Bayesian, where fitting V for each of the ~700 subsets a
//                   30-group search visits is out of reach. Measured on 2
//                   cores, 30 groups of 320, 9,000 rows, K = 30 (22 kept,
//                   693 subsets): 23 s per fit before V's own refit.
//   verifier        V itself (make(d)) fitted on the fit part's raw columns of
//                   the subset, for each subset: exact for any V, as slow as
//                   V's fit times the number of subsets.
// The threshold is learnt on V's scores of the training pairs (the given
// pairs, or else the validation pairs). Score = V's score of the chosen
// groups (HIGHER = SAME).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/core/threads.hpp"
#include "deepid/kernels/eigen.hpp"
#include "deepid/verify/embedded_verifier.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/pca.hpp"
#include "deepid/verify/threshold.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

struct forward_backward_options {
  std::size_t select = 0;     // K: the most groups kept (1 <= K <= groups)
  double min_gain = 0.0;      // a step must raise the accuracy by more than this
  std::size_t max_steps = 0;  // forward plus backward steps; 0: 4 x groups
};

struct selection_step {
  bool added = true;     // false: a backward step dropped the group
  std::size_t group = 0;
  double accuracy = 0;   // of the subset after the step
};

struct selection_result {
  std::vector<std::size_t> groups;    // kept, in the order they were added
  std::vector<selection_step> trace;  // every step, in order
  double accuracy = 0;                // of `groups`
  std::size_t evaluations = 0;        // distinct subsets scored
};

// The criterion: the accuracy (higher is better) of a subset, given sorted
// ascending; or of many subsets at once, which lets the caller score them in
// parallel (each step's candidates come in one call).
using subset_accuracy = std::function<double(std::span<const std::size_t>)>;
using subsets_accuracy = std::function<std::vector<double>(std::span<const std::vector<std::size_t>>)>;

inline selection_result forward_backward_select(std::size_t groups, const subsets_accuracy& accuracy,
                                                const forward_backward_options& o) {
  const std::string who = "forward_backward_select";
  if (groups == 0) throw error(who + ": there are no groups to select from");
  if (o.select == 0 || o.select > groups)
    throw error(who + ": K = " + std::to_string(o.select) + " groups requested from " + std::to_string(groups) +
                " (K must be between 1 and the number of groups)");
  if (!(o.min_gain >= 0) || !std::isfinite(o.min_gain))
    throw error(who + ": min_gain must be finite and >= 0, got " + std::to_string(o.min_gain));
  if (!accuracy) throw error(who + ": no criterion given");
  const std::size_t max_steps = o.max_steps ? o.max_steps : 4 * groups;

  // The accuracies of `subsets` (each scored once over the whole search).
  std::map<std::vector<std::size_t>, double> seen;
  auto evaluate = [&](std::vector<std::vector<std::size_t>> subsets) {
    std::vector<std::vector<std::size_t>> fresh;
    for (auto& s : subsets) {
      std::sort(s.begin(), s.end());
      if (!seen.count(s) && std::find(fresh.begin(), fresh.end(), s) == fresh.end()) fresh.push_back(s);
    }
    if (!fresh.empty()) {
      const auto a = accuracy(fresh);
      if (a.size() != fresh.size())
        throw error(who + ": the criterion returned " + std::to_string(a.size()) + " accuracies for " +
                    std::to_string(fresh.size()) + " subsets");
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i])) throw error(who + ": the criterion returned a non-finite accuracy");
        seen.emplace(std::move(fresh[i]), a[i]);
      }
    }
    std::vector<double> out;
    for (const auto& s : subsets) out.push_back(seen.at(s));
    return out;
  };

  selection_result r;
  std::vector<bool> in(groups, false);
  double current = -std::numeric_limits<double>::infinity();
  while (r.trace.size() < max_steps && r.groups.size() < o.select) {
    std::vector<std::size_t> candidates;
    std::vector<std::vector<std::size_t>> subsets;
    for (std::size_t c = 0; c < groups; ++c) {
      if (in[c]) continue;
      candidates.push_back(c);
      subsets.push_back(r.groups);
      subsets.back().push_back(c);
    }
    const auto added = evaluate(std::move(subsets));
    const std::size_t best = std::size_t(std::max_element(added.begin(), added.end()) - added.begin());  // first of ties
    if (!r.groups.empty() && !(added[best] > current + o.min_gain)) break;
    r.groups.push_back(candidates[best]);
    in[candidates[best]] = true;
    current = added[best];
    r.trace.push_back({true, candidates[best], current});

    while (r.groups.size() > 1 && r.trace.size() < max_steps) {
      std::vector<std::size_t> order = r.groups;  // candidates by group index, for ties
      std::sort(order.begin(), order.end());
      std::vector<std::vector<std::size_t>> rest;
      for (std::size_t g : order) {
        rest.emplace_back();
        for (std::size_t k : r.groups)
          if (k != g) rest.back().push_back(k);
      }
      const auto removed = evaluate(std::move(rest));
      const std::size_t drop = std::size_t(std::max_element(removed.begin(), removed.end()) - removed.begin());
      if (!(removed[drop] > current + o.min_gain)) break;
      r.groups.erase(std::find(r.groups.begin(), r.groups.end(), order[drop]));
      in[order[drop]] = false;
      current = removed[drop];
      r.trace.push_back({false, order[drop], current});
    }
  }
  r.accuracy = current;
  r.evaluations = seen.size();
  return r;
}

inline selection_result forward_backward_select(std::size_t groups, const subset_accuracy& accuracy,
                                                const forward_backward_options& o) {
  if (!accuracy) throw error("forward_backward_select: no criterion given");
  return forward_backward_select(
      groups,
      subsets_accuracy([&](std::span<const std::vector<std::size_t>> subsets) {
        std::vector<double> out;
        for (const auto& s : subsets) out.push_back(accuracy(s));
        return out;
      }),
      o);
}

// The criterion from per-group pair scores: a subset's pair score is the sum
// of its groups' scores (for Joint Bayesian scores, log-likelihood ratios up
// to a factor and a constant, the sum is the combined ratio of groups taken
// as independent; standardise scores of other kinds first), and its accuracy
// the best-threshold accuracy of those sums.
inline selection_result forward_backward_select(std::span<const std::vector<double>> group_scores,
                                                std::span<const labelled_pair> pairs,
                                                const forward_backward_options& o) {
  const std::string who = "forward_backward_select";
  if (pairs.empty()) throw error(who + ": no pairs to score");
  for (std::size_t g = 0; g < group_scores.size(); ++g) {
    if (group_scores[g].size() != pairs.size())
      throw error(who + ": group " + std::to_string(g) + " has " + std::to_string(group_scores[g].size()) +
                  " scores for " + std::to_string(pairs.size()) + " pairs");
    for (std::size_t i = 0; i < pairs.size(); ++i)
      if (!std::isfinite(group_scores[g][i]))
        throw error(who + ": score " + std::to_string(i) + " of group " + std::to_string(g) + " is not finite");
  }
  const std::unique_ptr<bool[]> same(new bool[pairs.size()]);
  for (std::size_t i = 0; i < pairs.size(); ++i) same[i] = pairs[i].same;
  const std::span<const bool> labels(same.get(), pairs.size());
  return forward_backward_select(
      group_scores.size(),
      subset_accuracy([&](std::span<const std::size_t> subset) {
        std::vector<double> sum(pairs.size(), 0.0);
        for (std::size_t g : subset)
          for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += group_scores[g][i];
        return best_threshold(sum, labels).accuracy;
      }),
      o);
}

enum class selection_model { joint_bayesian, verifier };

struct greedy_selected_options {
  std::size_t count = 7;               // equal groups, used when widths is empty
  std::vector<std::size_t> widths;     // explicit group widths, summing to D
  forward_backward_options search{};   // search.select is K
  double validation_fraction = 0.25;   // of the training people, held out for the search
  std::size_t validation_pairs = 4000; // balanced pairs drawn among them
  selection_model model = selection_model::joint_bayesian;
  std::size_t search_components = 16;  // joint_bayesian model: PCA dimensions per group (0: none)
  double ridge = 1e-6;                 // joint_bayesian model: as joint_bayesian_options::ridge
  std::uint64_t seed = 1;
};

namespace detail::selection {

// Column offsets of the groups (one more entry: the total).
inline std::vector<std::size_t> offsets_of(std::span<const std::size_t> widths) {
  std::vector<std::size_t> at{0};
  for (auto w : widths) at.push_back(at.back() + w);
  return at;
}

// The columns of `groups` (in the given order) of rows `rows` of x (all rows when empty).
inline matrix<float> gather(const matrix<float>& x, std::span<const std::size_t> offsets,
                            std::span<const std::size_t> groups, std::span<const std::size_t> rows = {}) {
  const std::size_t d = x.shape()[1], n = rows.empty() ? x.shape()[0] : rows.size();
  std::size_t width = 0;
  for (auto g : groups) width += offsets[g + 1] - offsets[g];
  matrix<float> out({n, width});
  for (std::size_t i = 0; i < n; ++i) {
    const float* src = x.data() + (rows.empty() ? i : rows[i]) * d;
    float* dst = out.data() + i * width;
    for (auto g : groups) dst = std::copy(src + offsets[g], src + offsets[g + 1], dst);
  }
  return out;
}

// The distinct rows the pairs refer to, in first-use order, and the pairs
// renumbered to index them.
inline std::vector<std::size_t> compact_rows(std::span<const labelled_pair> pairs, std::size_t rows,
                                             std::vector<labelled_pair>& local) {
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> slot(rows, none), used;
  local.resize(pairs.size());
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    for (auto [row, out] : {std::pair{pairs[p].first, &local[p].first}, std::pair{pairs[p].second, &local[p].second}}) {
      if (slot[row] == none) slot[row] = used.size(), used.push_back(row);
      *out = slot[row];
    }
    local[p].same = pairs[p].same;
  }
  return used;
}

// Joint Bayesian's closed-form start (joint_bayesian::fit before EM, without
// the ridge): the training mean, the covariance of the identity means and the
// pooled within-identity covariance. Sums over rows are bilinear in the
// columns, so a subset of columns has exactly the submatrices.
struct between_within {
  dvector mean;
  dmatrix s_mu, s_eps;
};

inline between_within between_within_covariances(const matrix<float>& features, std::span<const int> identities,
                                                  const std::string& who) {
  const std::size_t n = features.shape()[0];
  dmatrix x = to_dmatrix(features, who.c_str());
  between_within bw;
  bw.mean = x.colwise().mean().transpose();
  x.rowwise() -= bw.mean.transpose();
  std::unordered_map<int, std::size_t> slot;
  std::vector<double> images;
  std::vector<std::size_t> identity_of(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, added] = slot.emplace(identities[i], images.size());
    if (added) images.push_back(0);
    identity_of[i] = it->second;
    ++images[it->second];
  }
  const std::size_t k = images.size();
  if (k < 2) throw error(who + ": the fit part holds " + std::to_string(k) + " identity; at least two are needed");
  dmatrix sums = dmatrix::Zero(Eigen::Index(k), x.cols());
  for (std::size_t i = 0; i < n; ++i) sums.row(Eigen::Index(identity_of[i])) += x.row(Eigen::Index(i));
  // Rows s_k / m_k (identity means) and s_k / sqrt(m_k), or s_k for a single
  // image: X'X less weighted'weighted is the within-identity scatter.
  dmatrix means = sums, weighted = sums;
  double within_images = 0;
  for (std::size_t id = 0; id < k; ++id) {
    const double m = images[id];
    means.row(Eigen::Index(id)) /= m;
    if (m >= 2) weighted.row(Eigen::Index(id)) /= std::sqrt(m), within_images += m;
  }
  if (within_images == 0)
    throw error(who + ": every identity of the fit part has a single image; the within-identity covariance needs "
                      "one with two or more");
  kernels::use_eigen_threads();
  const dvector u = means.colwise().sum().transpose();
  bw.s_mu = (means.transpose() * means - u * u.transpose() / double(k)) / double(k - 1);
  bw.s_eps = (x.transpose() * x - weighted.transpose() * weighted) / (within_images - 1);
  bw.s_mu = (0.5 * (bw.s_mu + bw.s_mu.transpose())).eval();
  bw.s_eps = (0.5 * (bw.s_eps + bw.s_eps.transpose())).eval();
  return bw;
}

inline dmatrix principal_submatrix(const dmatrix& m, std::span<const std::size_t> index, double ridge) {
  const auto d = Eigen::Index(index.size());
  dmatrix s(d, d);
  for (Eigen::Index i = 0; i < d; ++i)
    for (Eigen::Index j = 0; j < d; ++j) s(i, j) = m(Eigen::Index(index[std::size_t(i)]), Eigen::Index(index[std::size_t(j)]));
  const double delta = ridge * s.trace() / double(d);
  if (delta > 0) s.diagonal().array() += delta;
  return s;
}

// Joint Bayesian's pair scores r(a, b) (joint_bayesian::score) under the
// model (s_mu, s_eps), for centred rows x. With the simultaneous
// diagonalisation T' s_eps T = I, T' s_mu T = diag(l) and y = T'x, the three
// inverses behind A and G are diagonal, so
//   r = sum_i a_i (y1_i^2 + y2_i^2) - 2 g_i y1_i y2_i,
//   a_i = 1/(1 + l_i) - 1/2 - 1/(2 (1 + 2 l_i)),   g_i = -l_i / (1 + 2 l_i):
// one d x d eigenproblem and one product per row. It touches no global state
// (Eigen's thread count included), so subsets can be scored in parallel.
inline std::vector<double> closed_form_scores(const dmatrix& s_mu, const dmatrix& s_eps, const dmatrix& x,
                                              std::span<const labelled_pair> pairs) {
  const Eigen::LLT<Eigen::MatrixXd> llt{Eigen::MatrixXd(s_eps)};
  if (llt.info() != Eigen::Success)
    throw error("greedy_selected: the within-identity covariance of a subset is not positive definite (raise the ridge)");
  Eigen::MatrixXd m = llt.matrixL().solve(Eigen::MatrixXd(s_mu));  // L^-1 S_mu
  m = llt.matrixL().solve(Eigen::MatrixXd(m.transpose()));          // L^-1 S_mu L^-T
  m = (0.5 * (m + m.transpose())).eval();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m);
  if (es.info() != Eigen::Success) throw error("greedy_selected: the symmetric eigensolver did not converge");
  const Eigen::MatrixXd t = llt.matrixU().solve(es.eigenvectors());  // T = L^-T U
  const dmatrix y = x * t;
  const Eigen::ArrayXd l = es.eigenvalues().array();
  const Eigen::ArrayXd a = 1.0 / (1.0 + l) - 0.5 - 0.5 / (1.0 + 2.0 * l), g = -l / (1.0 + 2.0 * l);
  Eigen::VectorXd quad(y.rows());
  for (Eigen::Index i = 0; i < y.rows(); ++i) quad[i] = (y.row(i).transpose().array().square() * a).sum();
  std::vector<double> out(pairs.size());
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto i = Eigen::Index(pairs[p].first), j = Eigen::Index(pairs[p].second);
    out[p] = quad[i] + quad[j] - 2 * (y.row(i).transpose().array() * y.row(j).transpose().array() * g).sum();
  }
  return out;
}

// body(i) for i < count over the threads, each item whole on one thread
// (Eigen runs serially inside: it does not nest parallel regions); the first
// failing item's error is rethrown after the loop.
template <class F>
void for_each_parallel(std::size_t count, F&& body) {
  std::vector<std::exception_ptr> failed(count);
#if DEEPID_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(num_threads())
#endif
  for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(count); ++i) {
    try {
      body(std::size_t(i));
    } catch (...) {
      failed[std::size_t(i)] = std::current_exception();
    }
  }
  for (auto& e : failed)
    if (e) std::rethrow_exception(e);
}

}  // namespace detail::selection

template <verifier V>
class greedy_selected : public threshold_holder {
 public:
  // make(d) builds the (unfitted) V for d-dimensional features; default: V{}.
  explicit greedy_selected(greedy_selected_options o = {}, std::function<V(std::size_t)> make = {})
      : opt_(std::move(o)), make_(std::move(make)) {}

  static std::string kind() { return "selected-" + std::string(V::kind()); }
  bool fitted() const { return fitted_; }
  const std::vector<std::size_t>& widths() const { return widths_; }
  // The kept groups in the order the search added them, with its trace.
  const selection_result& selection() const { return selection_; }
  // The kept groups in column order: V sees their columns side by side in this order.
  const std::vector<std::size_t>& groups() const { return groups_; }
  const V& inner() const { return inner_; }

  void fit(const training_data& data) {
    const std::string who = kind();
    const std::size_t n = data.features.shape()[0], d = data.features.shape()[1];
    std::vector<std::size_t> widths = opt_.widths;
    if (widths.empty()) {
      if (opt_.count == 0 || d % opt_.count != 0)
        throw error(who + ": cannot split " + std::to_string(d) + " dimensions into " + std::to_string(opt_.count) +
                    " equal groups (give widths)");
      widths.assign(opt_.count, d / opt_.count);
    }
    check_widths(widths, d);
    if (opt_.search.select == 0 || opt_.search.select > widths.size())
      throw error(who + ": K = " + std::to_string(opt_.search.select) + " groups requested from " +
                  std::to_string(widths.size()) + " (K must be between 1 and the number of groups)");
    if (!(opt_.validation_fraction > 0 && opt_.validation_fraction < 1))
      throw error(who + ": validation_fraction must lie strictly between 0 and 1, got " +
                  std::to_string(opt_.validation_fraction));
    if (opt_.validation_pairs < 2) throw error(who + ": validation_pairs must be at least 2");
    if (data.identities.size() != n)
      throw error(who + ": fit needs one identity label per row (it holds out people for the search); got " +
                  std::to_string(data.identities.size()) + " labels for " + std::to_string(n) + " rows");
    check_pairs(data.pairs, n, who.c_str());
    const auto offsets = detail::selection::offsets_of(widths);

    // 1. Person-disjoint split of the training rows.
    std::vector<int> people(data.identities.begin(), data.identities.end());
    std::sort(people.begin(), people.end());
    people.erase(std::unique(people.begin(), people.end()), people.end());
    if (people.size() < 4)
      throw error(who + ": the search holds out training people for validation, so it needs at least 4 identities, got " +
                  std::to_string(people.size()));
    const auto key = [&](int id) { return mix64(opt_.seed ^ mix64(std::uint64_t(std::int64_t(id)))); };
    std::sort(people.begin(), people.end(), [&](int a, int b) { return std::pair{key(a), a} < std::pair{key(b), b}; });
    const std::size_t held = std::clamp<std::size_t>(
        std::size_t(std::llround(opt_.validation_fraction * double(people.size()))), 2, people.size() - 2);
    const std::map<int, bool> validation_person = [&] {
      std::map<int, bool> m;
      for (std::size_t i = 0; i < people.size(); ++i) m[people[i]] = i < held;
      return m;
    }();
    std::vector<std::size_t> fit_rows, validation_rows;
    std::vector<int> fit_ids, validation_ids;
    for (std::size_t i = 0; i < n; ++i) {
      const bool v = validation_person.at(data.identities[i]);
      (v ? validation_rows : fit_rows).push_back(i);
      (v ? validation_ids : fit_ids).push_back(data.identities[i]);
    }
    std::vector<labelled_pair> validation_pairs;  // rows of validation_rows
    try {
      validation_pairs = sample_balanced_pairs(validation_ids, opt_.validation_pairs, mix64(opt_.seed + 1));
    } catch (const error& e) {
      throw error(who + ": the " + std::to_string(held) + " validation people: " + e.what());
    }
    std::vector<labelled_pair> local;
    const auto used = detail::selection::compact_rows(validation_pairs, validation_rows.size(), local);
    std::vector<std::size_t> used_rows(used.size());  // rows of data.features
    for (std::size_t i = 0; i < used.size(); ++i) used_rows[i] = validation_rows[used[i]];
    const std::unique_ptr<bool[]> same(new bool[local.size()]);
    for (std::size_t i = 0; i < local.size(); ++i) same[i] = local[i].same;
    const std::span<const bool> labels(same.get(), local.size());

    // 2. The search.
    selection_result result;
    if (opt_.model == selection_model::joint_bayesian) {
      // Each group reduced once; a subset's columns are its groups' reduced ones.
      std::vector<std::size_t> reduced_widths;
      std::vector<matrix<float>> fit_parts, validation_parts;
      for (std::size_t g = 0; g < widths.size(); ++g) {
        const std::size_t one[] = {g};
        matrix<float> fit_part = detail::selection::gather(data.features, offsets, one, fit_rows);
        matrix<float> validation_part = detail::selection::gather(data.features, offsets, one, used_rows);
        const std::size_t k = opt_.search_components ? std::min(opt_.search_components, widths[g]) : widths[g];
        if (k < widths[g]) {
          pca_options po;
          po.components = k;
          pca p(po);
          try {
            p.fit(fit_part);
          } catch (const error& e) {
            throw error(who + ": group " + std::to_string(g) + " (columns " + std::to_string(offsets[g]) + " to " +
                        std::to_string(offsets[g + 1] - 1) + "): " + e.what() + " (lower search_components)");
          }
          fit_part = p.project(fit_part);
          validation_part = p.project(validation_part);
        }
        reduced_widths.push_back(k);
        fit_parts.push_back(std::move(fit_part));
        validation_parts.push_back(std::move(validation_part));
      }
      const auto reduced_offsets = detail::selection::offsets_of(reduced_widths);
      const matrix<float> reduced_fit = side_by_side(fit_parts), reduced_validation = side_by_side(validation_parts);
      fit_parts.clear();
      const auto bw = detail::selection::between_within_covariances(reduced_fit, fit_ids, who);
      dmatrix centred = to_dmatrix(reduced_validation, who.c_str());
      centred.rowwise() -= bw.mean.transpose();
      auto subset_accuracy_of = [&](std::span<const std::size_t> subset) {
        std::vector<std::size_t> columns;
        for (auto g : subset)
          for (std::size_t c = reduced_offsets[g]; c < reduced_offsets[g + 1]; ++c) columns.push_back(c);
        dmatrix x(centred.rows(), Eigen::Index(columns.size()));
        for (std::size_t c = 0; c < columns.size(); ++c) x.col(Eigen::Index(c)) = centred.col(Eigen::Index(columns[c]));
        const auto s = detail::selection::closed_form_scores(
            detail::selection::principal_submatrix(bw.s_mu, columns, opt_.ridge),
            detail::selection::principal_submatrix(bw.s_eps, columns, opt_.ridge), x, local);
        return best_threshold(s, labels).accuracy;
      };
      result = forward_backward_select(
          widths.size(),
          subsets_accuracy([&](std::span<const std::vector<std::size_t>> subsets) {
            std::vector<double> accuracy(subsets.size());
            detail::selection::for_each_parallel(subsets.size(),
                                                 [&](std::size_t i) { accuracy[i] = subset_accuracy_of(subsets[i]); });
            return accuracy;
          }),
          opt_.search);
    } else {
      result = forward_backward_select(
          widths.size(),
          subset_accuracy([&](std::span<const std::size_t> subset) {
            const matrix<float> part = detail::selection::gather(data.features, offsets, subset, fit_rows);
            V v = build(part.shape()[1]);
            v.fit(training_data{part, fit_ids, {}});
            const auto s = v.scores(detail::selection::gather(data.features, offsets, subset, used_rows), local);
            return best_threshold(s, labels).accuracy;
          }),
          opt_.search);
    }

    // 3. V on every training row, restricted to the kept groups.
    std::vector<std::size_t> groups = result.groups;
    std::sort(groups.begin(), groups.end());
    const matrix<float> chosen = detail::selection::gather(data.features, offsets, groups);
    V v = build(chosen.shape()[1]);
    v.fit(training_data{chosen, data.identities, data.pairs});
    std::vector<labelled_pair> threshold_pairs(data.pairs.begin(), data.pairs.end());
    if (threshold_pairs.empty())
      for (const auto& p : local) threshold_pairs.push_back({used_rows[p.first], used_rows[p.second], p.same});
    const auto train_scores = v.scores(chosen, threshold_pairs);
    learn_threshold(train_scores, threshold_pairs);
    widths_ = std::move(widths);
    groups_ = std::move(groups);
    selection_ = std::move(result);
    inner_ = std::move(v);
    fitted_ = true;
  }

  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    require_fitted();
    check_widths(widths_, x.shape()[1]);
    check_pairs(pairs, x.shape()[0], kind().c_str());
    // Only the rows the pairs use are copied: LFW's 13,233 x 9,600 floats are half a gigabyte.
    std::vector<labelled_pair> local;
    const auto used = detail::selection::compact_rows(pairs, x.shape()[0], local);
    const auto offsets = detail::selection::offsets_of(widths_);
    return inner_.scores(detail::selection::gather(x, offsets, groups_, used), local);
  }

  double score(std::span<const float> a, std::span<const float> b) const {
    require_fitted();
    if (a.size() != b.size()) throw error(kind() + ": feature lengths differ");
    check_widths(widths_, a.size());
    const auto offsets = detail::selection::offsets_of(widths_);
    std::vector<float> sa, sb;
    for (auto g : groups_) {
      sa.insert(sa.end(), a.begin() + std::ptrdiff_t(offsets[g]), a.begin() + std::ptrdiff_t(offsets[g + 1]));
      sb.insert(sb.end(), b.begin() + std::ptrdiff_t(offsets[g]), b.begin() + std::ptrdiff_t(offsets[g + 1]));
    }
    return inner_.score(std::span<const float>(sa), std::span<const float>(sb));
  }

  // One file: the widths, the search's result and trace, the threshold and
  // V's own record file embedded as bytes.
  io::record_writer record() const {
    require_fitted();
    io::record_writer w("verifier/" + kind(), 1);
    const auto as_i64 = [](std::span<const std::size_t> v) { return std::vector<std::int64_t>(v.begin(), v.end()); };
    const auto widths = as_i64(widths_), order = as_i64(selection_.groups);
    w.add("widths", std::span<const std::int64_t>(widths));
    w.add("selected", std::span<const std::int64_t>(order));
    std::vector<std::int64_t> steps;  // group + 1, negated when dropped
    std::vector<double> accuracies;
    for (const auto& s : selection_.trace) {
      steps.push_back(s.added ? std::int64_t(s.group) + 1 : -std::int64_t(s.group) - 1);
      accuracies.push_back(s.accuracy);
    }
    w.add("trace_steps", std::span<const std::int64_t>(steps));
    w.add("trace_accuracy", std::span<const double>(accuracies));
    w.add_scalar("accuracy", selection_.accuracy);
    w.add_scalar("evaluations", double(selection_.evaluations));
    save_threshold(w);
    embed_verifier(w, "inner", inner_);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }

  static greedy_selected load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static greedy_selected from_record(const io::record_reader& r) {
    greedy_selected v;
    for (auto w : r.i64("widths")) {
      if (w <= 0) throw error(r.path() + ": corrupt group widths");
      v.widths_.push_back(std::size_t(w));
    }
    for (auto g : r.i64("selected")) {
      if (g < 0 || std::size_t(g) >= v.widths_.size() ||
          std::find(v.selection_.groups.begin(), v.selection_.groups.end(), std::size_t(g)) != v.selection_.groups.end())
        throw error(r.path() + ": corrupt selection (group " + std::to_string(g) + " of " +
                    std::to_string(v.widths_.size()) + ")");
      v.selection_.groups.push_back(std::size_t(g));
    }
    if (v.selection_.groups.empty()) throw error(r.path() + ": corrupt selection (no group)");
    const auto steps = r.i64("trace_steps");
    const auto accuracies = r.f64("trace_accuracy", steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::int64_t s = steps[i];
      if (s == 0 || std::size_t(s < 0 ? -s : s) > v.widths_.size()) throw error(r.path() + ": corrupt search trace");
      v.selection_.trace.push_back({s > 0, std::size_t(s < 0 ? -s : s) - 1, accuracies[i]});
    }
    v.selection_.accuracy = r.scalar("accuracy");
    v.selection_.evaluations = std::size_t(std::max(0.0, r.scalar("evaluations")));
    v.groups_ = v.selection_.groups;
    std::sort(v.groups_.begin(), v.groups_.end());
    v.opt_.widths = v.widths_;
    v.load_threshold(r);
    v.inner_ = load_embedded_verifier<V>(r, "inner");
    v.fitted_ = true;
    return v;
  }

 private:
  void require_fitted() const {
    if (!fitted_) throw error(kind() + ": the verifier is not fitted (call fit first)");
  }
  void check_widths(std::span<const std::size_t> widths, std::size_t d) const {
    if (widths.empty()) throw error(kind() + ": no feature groups");
    std::size_t total = 0;
    for (auto w : widths) {
      if (w == 0) throw error(kind() + ": a feature group has width 0");
      total += w;
    }
    if (total != d)
      throw error(kind() + ": the group widths sum to " + std::to_string(total) + " dimensions, the features have " +
                  std::to_string(d));
  }
  V build(std::size_t d) const { return make_ ? make_(d) : V{}; }
  static matrix<float> side_by_side(const std::vector<matrix<float>>& parts) {
    const std::size_t n = parts.empty() ? 0 : parts[0].shape()[0];
    std::size_t width = 0;
    for (const auto& p : parts) width += p.shape()[1];
    matrix<float> out({n, width});
    std::size_t at = 0;
    for (const auto& p : parts) {
      const std::size_t w = p.shape()[1];
      for (std::size_t i = 0; i < n; ++i) std::copy_n(p.data() + i * w, w, out.data() + i * width + at);
      at += w;
    }
    return out;
  }

  greedy_selected_options opt_;
  std::function<V(std::size_t)> make_;
  std::vector<std::size_t> widths_, groups_;
  selection_result selection_;
  V inner_;
  bool fitted_ = false;
};

}  // namespace verify
DEEPID_NAMESPACE_END
