#pragma once
// Training the nets of an ensemble (features/ensemble.hpp) on
// identity-labelled faces, one net after another, each with the trainer of
// its own type. Kept apart from the ensemble so that extracting features
// does not compile the trainer.
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/rng.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/patch_batch.hpp"
#include "deepid/face/patch_scheme.hpp"
#include "deepid/features/ensemble.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/train/rank_group.hpp"
#include "deepid/train/trainer.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

namespace detail {
// Trains net k of `e` on `data`: the net's architecture goes into the
// options, and an existing checkpoint o.checkpoint is resumed.
template <face::patch_scheme S, net_family Family, class Placement>
train::result train_patch_net(ensemble<S, Family, Placement>& e, std::size_t k, const train::identity_patches& data,
                              const train::options& o) {
  train::result result;
  // make_patch_net built net k from the same patch index, so it has this type.
  visit_patch_net_type<S, Family>(e.types()[k], [&]<class Net>() {
    using patch_net_type = typed_patch_net<Net, Family, Placement>;
    auto& net = dynamic_cast<patch_net_type&>(e.net(k));
    train::options options = o;
    options.architecture = net.architecture();
    train::trainer<Net, typename patch_net_type::model_type> t(net.typed_model(), data.identities, options);
    if (!o.checkpoint.empty() && train::checkpoint_exists(o.checkpoint)) t.resume(o.checkpoint);
    result = t.fit(data);
    net.typed_model().release_buffers();  // 30 to 60 nets: keep only their parameters
  });
  return result;
}
}  // namespace detail

namespace detail {
// Trains net k of `e` on `set` as train_ensemble does: patches of its type
// cut (with jittered copies), normalisation fitted and applied, the trainer.
template <face::patch_scheme S, net_family Family, class Placement>
train::result train_ensemble_net(ensemble<S, Family, Placement>& e, std::size_t k, const face::face_set& set,
                                 const train::options& base, face::on_bad_item policy) {
  const auto& types = e.types();
  auto batch = face::extract_patches<S>(face::faces_of(set), {types[k]}, true, policy, {}, base.jitter);
  train::identity_patches data;
  // Fitted on the originals only: the features are extracted from
  // un-jittered faces, and the statistics must not depend on K.
  auto& norm = e.normalisation(k);
  norm = face::patch_normalisation::fit(batch.original[0]);
  norm.apply(batch.original[0]);
  norm.apply(batch.flipped[0]);
  data.original = std::move(batch.original[0]);
  data.flipped = std::move(batch.flipped[0]);
  if (batch.copies > 0) {
    norm.apply(batch.jittered[0]);
    norm.apply(batch.jittered_flipped[0]);
    data.copies = batch.copies;
    data.jittered = std::move(batch.jittered[0]);
    data.jittered_flipped = std::move(batch.jittered_flipped[0]);
  }
  for (auto i : batch.faces) data.labels.push_back(set.faces[i].identity);
  data.identities = set.identities();
  train::options o = base;
  o.seed = mix64(base.seed + types[k]);
  const std::string stem = "patch_" + std::to_string(types[k]);
  if (!base.checkpoint.empty()) {
    std::filesystem::create_directories(base.checkpoint);
    o.checkpoint = base.checkpoint / (stem + ".ckpt");
  }
  if (!base.csv_log.empty()) {
    std::filesystem::create_directories(base.csv_log);
    o.csv_log = base.csv_log / (stem + ".csv");
  }
  return train_patch_net(e, k, data, o);
}
}  // namespace detail

// Trains every net of `e` on `set` (identity-labelled faces): patches cut
// once per type (with base.jitter.copies jittered copies of each face),
// normalisation learnt from the original patches and applied to all, then
// the trainer. `on_net` reports (k, result) after each net. When
// base.checkpoint / base.csv_log are set they name FOLDERS: each net gets
// patch_<index>.ckpt / .csv there (an existing checkpoint is resumed).
// With base.ranks every net is trained data-parallel across the ranks.
// Returns false when interrupted.
template <face::patch_scheme S, net_family Family, class Placement, class Report>
bool train_ensemble(ensemble<S, Family, Placement>& e, const face::face_set& set, const train::options& base, Report&& on_net,
                    face::on_bad_item policy = face::on_bad_item::fail) {
  for (std::size_t k = 0; k < e.types().size(); ++k) {
    const auto result = detail::train_ensemble_net(e, k, set, base, policy);
    on_net(k, result);
    if (result.interrupted) return false;
  }
  return true;
}

// Trains the nets of `e` spread over `ranks`, whole nets per rank and no
// traffic while they train: net k on rank k mod N, alone (base.ranks is
// ignored). `on_net` reports the nets this rank trained. Afterwards every
// rank holds every net: parameters and normalisation come from the rank
// that trained it. The nets are the ones train_ensemble gives, bit for bit.
// Returns false, on every rank, when any rank was interrupted.
template <face::patch_scheme S, net_family Family, class Placement, class Report>
bool train_ensemble_by_nets(ensemble<S, Family, Placement>& e, const face::face_set& set, const train::options& base,
                            train::rank_group& ranks, Report&& on_net,
                            face::on_bad_item policy = face::on_bad_item::fail) {
  const std::size_t count = e.types().size(), n = ranks.size(), me = ranks.rank();
  train::options alone = base;
  alone.ranks = nullptr;
  bool interrupted = false;
  for (std::size_t k = me; k < count && !interrupted; k += n) {
    const auto result = detail::train_ensemble_net(e, k, set, alone, policy);
    on_net(k, result);
    interrupted = result.interrupted;
  }
  std::array<double, 1> stopped{interrupted ? 1.0 : 0.0};
  ranks.sum(stopped);
  if (stopped[0] > 0) return false;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t owner = k % n;
    std::vector<float> values = e.net(k).parameters();
    ranks.broadcast(values, owner);
    auto& norm = e.normalisation(k);
    std::vector<float> statistics(e.net(k).input_shape().size() + 1);  // mean, then scale
    if (me == owner) {
      std::copy(norm.mean.begin(), norm.mean.end(), statistics.begin());
      statistics.back() = norm.scale;
    }
    ranks.broadcast(statistics, owner);
    if (me == owner) continue;
    e.net(k).set_parameters(values, "rank " + std::to_string(owner));
    norm.mean.assign(statistics.begin(), statistics.end() - 1);
    norm.scale = statistics.back();
  }
  return true;
}

}  // namespace features
DEEPID_NAMESPACE_END
