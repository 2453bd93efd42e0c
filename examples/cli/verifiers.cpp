// The verifier registry: names -> verifier policies (with PCA where useful).
#include "verifiers.hpp"

#include <memory>

#include <deepid/core/error.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/feature_group_fusion.hpp>
#include <deepid/verify/greedy_selection.hpp>
#include <deepid/verify/hamming.hpp>
#include <deepid/verify/joint_bayesian.hpp>
#include <deepid/verify/nn_verifier.hpp>
#include <deepid/verify/pair_classifier.hpp>
#include <deepid/verify/pair_sampling.hpp>
#include <deepid/verify/pca.hpp>
#include <deepid/verify/prefitted.hpp>

#include "commands.hpp"

namespace deepid_cli {

namespace vf = deepid::verify;
namespace ev = deepid::eval;

const char* const verifier_names_help =
    "  l1, l2, cosine        distances on the raw features (negated distance, cosine)\n"
    "  pca-l2, pca-cosine    the same after PCA (--pca K, fitted on the training folds)\n"
    "  jb                    PCA + Joint Bayesian, the published EM-like update\n"
    "  jb-exact              PCA + Joint Bayesian, exact EM\n"
    "  lr, svm               PCA + logistic regression / linear SVM on pair features\n"
    "  nn                    the neural-network verifier (PCA + one group, or --nn-groups G\n"
    "                        groups of the raw features, one per patch net); unrestricted,\n"
    "                        it also learns from 20,000 pairs drawn from the folds' people\n"
    "  hamming               Hamming distance of binarised features (x > 0)\n"
    "  jb-groups             DeepID2's grouped Joint Bayesian: --groups G equal groups, each\n"
    "                        with its own PCA (min(--pca, group width)) + Joint Bayesian, exact\n"
    "                        EM, the G scores fused by a linear SVM (one EM per group: with\n"
    "                        many groups, a smaller --pca is much faster)\n"
    "  sel-jb                DeepID2's patch selection: forward-backward greedy search for at\n"
    "                        most --select K of the --groups G groups, on a quarter of each\n"
    "                        training fold's people, then PCA + Joint Bayesian, exact EM, on\n"
    "                        the kept groups\n";

void check_verifier_name(const std::string& name) {
  for (const char* known : {"l1", "l2", "cosine", "pca-l2", "pca-cosine", "jb", "jb-exact", "lr", "svm", "nn", "hamming",
                            "jb-groups", "sel-jb"})
    if (name == known) return;
  throw usage_error("unknown verifier '" + name + "' (see 'deepid help eval-lfw')");
}

fitted_protocol fit_verifier(const std::string& name, const deepid::matrix<float>& x,
                             std::span<const ev::fold_pair> pairs, std::span<const int> ids, const verifier_settings& s) {
  vf::pca_options pca;
  pca.components = std::min<std::size_t>(s.pca, x.shape()[1]);
  auto run = [&]<class V>(std::function<V()> make) -> fitted_protocol {
    if (s.outside) {
      // Pair learners get 50/50 pairs of the outside people.
      const auto outside_pairs = vf::sample_balanced_pairs(s.outside_identities, 20000, 1);
      const auto shared =
          vf::prefitted<V>::fit_once(make(), vf::training_data{*s.outside, s.outside_identities, outside_pairs});
      auto fitted = std::make_shared<ev::ten_fold_verifiers<vf::prefitted<V>>>(
          name, x, pairs, ids, [shared] { return shared; }, s.images, s.folds, s.learn_from);
      return [fitted](const deepid::matrix<float>& features, std::span<const ev::fold_pair> test) {
        return fitted->evaluate(features, test);
      };
    }
    auto fitted = std::make_shared<ev::ten_fold_verifiers<V>>(name, x, pairs, ids, make, s.images, s.folds, s.learn_from);
    return [fitted](const deepid::matrix<float>& features, std::span<const ev::fold_pair> test) {
      return fitted->evaluate(features, test);
    };
  };
  if (name == "l1") return run(std::function<vf::l1_verifier()>([] { return vf::l1_verifier{}; }));
  if (name == "l2") return run(std::function<vf::l2_verifier()>([] { return vf::l2_verifier{}; }));
  if (name == "cosine") return run(std::function<vf::cosine_verifier()>([] { return vf::cosine_verifier{}; }));
  if (name == "pca-l2")
    return run(std::function<vf::with_pca<vf::l2_verifier>()>([&] { return vf::with_pca<vf::l2_verifier>(pca); }));
  if (name == "pca-cosine")
    return run(std::function<vf::with_pca<vf::cosine_verifier>()>([&] { return vf::with_pca<vf::cosine_verifier>(pca); }));
  if (name == "jb" || name == "jb-exact") {
    vf::joint_bayesian_options o;
    o.exact_em = name == "jb-exact";
    return run(std::function<vf::with_pca<vf::joint_bayesian>()>(
        [&] { return vf::with_pca<vf::joint_bayesian>(pca, vf::joint_bayesian(o)); }));
  }
  if (name == "lr")
    return run(std::function<vf::with_pca<vf::logistic_verifier>()>([&] { return vf::with_pca<vf::logistic_verifier>(pca); }));
  if (name == "svm")
    return run(std::function<vf::with_pca<vf::svm_verifier>()>([&] { return vf::with_pca<vf::svm_verifier>(pca); }));
  if (name == "nn") {
    vf::nn_verifier_options o;
    // Unrestricted: the nine folds' people give many more pairs than their 5,400.
    o.add_identity_pairs = s.images == ev::training_images::people;
    if (s.nn_groups > 0) {
      if (x.shape()[1] % s.nn_groups)
        throw deepid::error("nn: " + std::to_string(x.shape()[1]) + " features do not split into " +
                            std::to_string(s.nn_groups) + " equal groups");
      o.sizes = {s.nn_groups, 0, 80, s.nn_hidden2 ? s.nn_hidden2 : std::min<std::size_t>(4800, 80 * s.nn_groups), 0};
      return run(std::function<vf::nn_verifier()>([o] { return vf::nn_verifier(o); }));
    }
    o.sizes = {1, 0, 128, 128, 128};
    o.two_stage = false;
    return run(std::function<vf::with_pca<vf::nn_verifier>()>([&, o] { return vf::with_pca<vf::nn_verifier>(pca, vf::nn_verifier(o)); }));
  }
  if (name == "hamming") return run(std::function<vf::hamming_verifier()>([] { return vf::hamming_verifier{}; }));
  if (name == "jb-groups" || name == "sel-jb") {
    const std::size_t d = x.shape()[1];
    if (s.groups == 0) throw usage_error(name + " needs --groups G (the feature groups, one per patch net)");
    if (d % s.groups)
      throw deepid::error(name + ": " + std::to_string(d) + " features do not split into " + std::to_string(s.groups) +
                          " equal groups");
    using pca_jb = vf::with_pca<vf::joint_bayesian>;
    // PCA + exact-EM Joint Bayesian for `dims`-dimensional features.
    const auto make = [components = s.pca](std::size_t dims) {
      vf::pca_options p;
      p.components = std::min(components, dims);
      vf::joint_bayesian_options o;
      o.exact_em = true;
      return pca_jb(p, vf::joint_bayesian(o));
    };
    if (name == "jb-groups") {
      vf::feature_group_options o;
      o.count = s.groups;
      return run(std::function<vf::feature_group_fusion<pca_jb>()>([o, make, width = d / s.groups] {
        return vf::feature_group_fusion<pca_jb>(o, [make, width](std::size_t) { return make(width); });
      }));
    }
    if (s.select > s.groups)
      throw usage_error("--select " + std::to_string(s.select) + " asks for more groups than the " +
                        std::to_string(s.groups) + " of --groups");
    vf::greedy_selected_options o;
    o.count = s.groups;
    o.search.select = s.select ? s.select : s.groups;
    return run(std::function<vf::greedy_selected<pca_jb>()>([o, make] { return vf::greedy_selected<pca_jb>(o, make); }));
  }
  throw usage_error("unknown verifier '" + name + "' (see 'deepid help eval-lfw')");
}

ev::protocol_result evaluate_verifier(const std::string& name, const deepid::matrix<float>& x,
                                      std::span<const ev::fold_pair> pairs, std::span<const int> ids,
                                      const verifier_settings& s) {
  return fit_verifier(name, x, pairs, ids, s)(x, pairs);
}

}  // namespace deepid_cli
