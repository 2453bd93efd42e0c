#pragma once
// A verifier fitted once, on people of its own, and shared: fit() keeps the
// model as it is and learns only the decision threshold, on the scores of the
// training pairs it is given (without pairs, V's own threshold stays). In the
// LFW protocol (eval/protocol.hpp) each fold thus learns only its threshold
// from the training folds, while the model itself (PCA, Joint Bayesian, ...)
// comes from held-out training identities, people neither the nets nor any
// LFW fold showed it. Its file is V's own, V's threshold included.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

template <verifier V>
class prefitted {
 public:
  explicit prefitted(std::shared_ptr<const V> fitted) : verifier_(std::move(fitted)) {
    if (!verifier_ || !verifier_->fitted()) throw error(kind() + ": the shared verifier is not fitted");
  }

  // V fitted on `data`, ready to share.
  static prefitted fit_once(V verifier, const training_data& data) {
    verifier.fit(data);
    return prefitted(std::make_shared<const V>(std::move(verifier)));
  }

  // Its file is V's own: a prefitted verifier saved and loaded is V again.
  static std::string kind() { return std::string(V::kind()); }

  // The model was fitted on other people, on purpose: only the threshold is learnt.
  void fit(const training_data& data) {
    threshold_.reset();
    if (data.pairs.empty()) return;
    threshold_holder learnt;
    learnt.learn_threshold(verifier_->scores(data.features, data.pairs), data.pairs);
    threshold_ = learnt.threshold();
  }

  std::vector<double> scores(const matrix<float>& features, std::span<const labelled_pair> pairs) const {
    return verifier_->scores(features, pairs);
  }
  double score(std::span<const float> a, std::span<const float> b) const { return verifier_->score(a, b); }
  bool fitted() const { return true; }
  double threshold() const { return threshold_ ? *threshold_ : verifier_->threshold(); }
  const V& inner() const { return *verifier_; }

  void save(const std::filesystem::path& path) const { verifier_->save(path); }
  static prefitted load(const std::filesystem::path& path) { return prefitted(std::make_shared<const V>(V::load(path))); }
  io::record_writer record() const { return verifier_->record(); }
  static prefitted from_record(const io::record_reader& r) {
    return prefitted(std::make_shared<const V>(V::from_record(r)));
  }

 private:
  std::shared_ptr<const V> verifier_;
  std::optional<double> threshold_;  // learnt by fit, else V's
};

}  // namespace verify
DEEPID_NAMESPACE_END
