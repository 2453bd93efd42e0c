#pragma once
// Training checkpoints: one versioned, checksummed record file (kind
// "checkpoint") holding the architecture name, the parameters, the optimiser
// state, the classifier head, the best epoch so far, the margin and its
// re-fit window, the learning-rate schedule state, the log and the position
// (epoch, batch) — everything a resumed run needs to continue exactly.
// Written atomically; a file for another architecture, a truncated or a
// corrupt one is refused with a message naming the file and what differs.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/io/record_file.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

struct training_position {
  int epoch = 0;   // next epoch to run
  long batch = 0;  // next batch within it
};

struct epoch_log {
  int epoch = 0;
  double lr = 0, ident_loss = 0, verif_loss = 0, train_error = 0, validation_error = 0, margin = 0;
  double samples_per_second = 0, seconds = 0;
};

// Sums over the batches of an epoch that is under way.
struct epoch_progress {
  double ident = 0, verif = 0, errors = 0, samples = 0, batches = 0, seconds = 0;
};

struct checkpoint_state {
  std::string architecture;
  std::vector<float> params, velocity, classifier, classifier_velocity, best_params, best_classifier;
  std::vector<std::uint64_t> classifier_dims;  // {dim, classes}
  training_position position;
  double lr = 0, lr_best_error = 1e300, margin = 1, cos_w = 0, cos_b = 0, vel_w = 0, vel_b = 0;
  int lr_since_best = 0;
  std::vector<double> refit_distances;
  std::vector<std::int64_t> refit_same;
  std::uint64_t refit_seen = 0;
  std::vector<epoch_log> history;
  epoch_progress partial;
};

inline constexpr std::uint32_t checkpoint_version = 1;

inline void write_checkpoint(const std::filesystem::path& path, const checkpoint_state& s) {
  io::record_writer w("checkpoint", checkpoint_version);
  w.add_text("architecture", s.architecture);
  w.add_scalar("param_count", double(s.params.size()));
  w.add("params", std::span<const float>(s.params));
  w.add("velocity", std::span<const float>(s.velocity));
  w.add("classifier", std::span<const float>(s.classifier));
  w.add("classifier_velocity", std::span<const float>(s.classifier_velocity));
  w.add("best_params", std::span<const float>(s.best_params));
  w.add("best_classifier", std::span<const float>(s.best_classifier));
  const std::vector<std::int64_t> dims(s.classifier_dims.begin(), s.classifier_dims.end());
  w.add("classifier_dims", std::span<const std::int64_t>(dims));
  const std::vector<double> state{double(s.position.epoch), double(s.position.batch), s.lr, s.lr_best_error,
                                  double(s.lr_since_best), s.margin, s.cos_w, s.cos_b, s.vel_w, s.vel_b,
                                  double(s.refit_seen), s.partial.ident, s.partial.verif, s.partial.errors,
                                  s.partial.samples, s.partial.batches, s.partial.seconds};
  w.add("state", std::span<const double>(state));
  w.add("refit_distances", std::span<const double>(s.refit_distances));
  w.add("refit_same", std::span<const std::int64_t>(s.refit_same));
  std::vector<double> history;
  for (const auto& e : s.history)
    history.insert(history.end(), {double(e.epoch), e.lr, e.ident_loss, e.verif_loss, e.train_error,
                                   e.validation_error, e.margin, e.samples_per_second, e.seconds});
  w.add("history", std::span<const double>(history));
  w.save(path);
}

// Reads a checkpoint for `architecture` with `param_count` parameters.
inline checkpoint_state read_checkpoint(const std::filesystem::path& path, const std::string& architecture,
                                        std::size_t param_count) {
  const io::record_reader r(path, "checkpoint", checkpoint_version);
  checkpoint_state s;
  s.architecture = r.text("architecture");
  const auto stored = std::size_t(r.scalar("param_count"));
  if (s.architecture != architecture || stored != param_count)
    throw error(path.string() + ": written for '" + s.architecture + "' (" + std::to_string(stored) +
                " parameters), not for '" + architecture + "' (" + std::to_string(param_count) + " parameters)");
  s.params = r.f32("params", param_count);
  s.velocity = r.f32("velocity", param_count);
  s.classifier = r.f32("classifier");
  s.classifier_velocity = r.f32("classifier_velocity", s.classifier.size());
  s.best_params = r.f32("best_params");
  s.best_classifier = r.f32("best_classifier");
  const auto dims = r.i64("classifier_dims", 2);
  s.classifier_dims = {std::uint64_t(dims[0]), std::uint64_t(dims[1])};
  const auto state = r.f64("state", 17);
  s.position = {int(state[0]), long(state[1])};
  s.lr = state[2], s.lr_best_error = state[3], s.lr_since_best = int(state[4]);
  s.margin = state[5], s.cos_w = state[6], s.cos_b = state[7], s.vel_w = state[8], s.vel_b = state[9];
  s.refit_seen = std::uint64_t(state[10]);
  s.partial = {state[11], state[12], state[13], state[14], state[15], state[16]};
  s.refit_distances = r.f64("refit_distances");
  s.refit_same = r.i64("refit_same", s.refit_distances.size());
  const auto history = r.f64("history");
  if (history.size() % 9) throw error(path.string() + ": corrupt training history");
  for (std::size_t i = 0; i < history.size(); i += 9)
    s.history.push_back({int(history[i]), history[i + 1], history[i + 2], history[i + 3], history[i + 4],
                         history[i + 5], history[i + 6], history[i + 7], history[i + 8]});
  for (float v : s.params)
    if (!std::isfinite(v)) throw error(path.string() + ": the parameters hold a value that is not finite");
  return s;
}

}  // namespace train
DEEPID_NAMESPACE_END
