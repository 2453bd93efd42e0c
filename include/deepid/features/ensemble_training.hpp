#pragma once
// Training the nets of an ensemble (features/ensemble.hpp) on
// identity-labelled faces, one net after another, each with the trainer of
// its own type. Kept apart from the ensemble so that extracting features
// does not compile the trainer.
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>

#include "deepid/core/rng.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/patch_batch.hpp"
#include "deepid/face/patch_scheme.hpp"
#include "deepid/features/ensemble.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/train/trainer.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

namespace detail {
// Trains net k of `e` on `data`: the net's architecture goes into the
// options, and an existing checkpoint o.checkpoint is resumed.
template <face::patch_scheme S, net_family Family>
train::result train_patch_net(ensemble<S, Family>& e, std::size_t k, const train::identity_patches& data,
                              const train::options& o) {
  train::result result;
  // make_patch_net built net k from the same patch index, so it has this type.
  visit_patch_net_type<S, Family>(e.types()[k], [&]<class Net>() {
    auto& net = dynamic_cast<typed_patch_net<Net, Family>&>(e.net(k));
    train::options options = o;
    options.architecture = net.architecture();
    train::trainer<Net> t(net.typed_model(), data.identities, options);
    if (!o.checkpoint.empty() && train::checkpoint_exists(o.checkpoint)) t.resume(o.checkpoint);
    result = t.fit(data);
    net.typed_model().release_buffers();  // 30 to 60 nets: keep only their parameters
  });
  return result;
}
}  // namespace detail

// Trains every net of `e` on `set` (identity-labelled faces): patches cut
// once per type (with base.jitter.copies jittered copies of each face),
// normalisation learnt from the original patches and applied to all, then
// the trainer. `on_net` reports (k, result) after each net. When
// base.checkpoint / base.csv_log are set they name FOLDERS: each net gets
// patch_<index>.ckpt / .csv there (an existing checkpoint is resumed).
// Returns false when interrupted.
template <face::patch_scheme S, net_family Family, class Report>
bool train_ensemble(ensemble<S, Family>& e, const face::face_set& set, const train::options& base, Report&& on_net,
                    face::on_bad_item policy = face::on_bad_item::fail) {
  const auto& types = e.types();
  for (std::size_t k = 0; k < types.size(); ++k) {
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
    const auto result = detail::train_patch_net(e, k, data, o);
    on_net(k, result);
    if (result.interrupted) return false;
  }
  return true;
}

}  // namespace features
DEEPID_NAMESPACE_END
