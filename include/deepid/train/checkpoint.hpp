#pragma once
// Training checkpoints: one versioned, checksummed record file (kind
// "checkpoint") holding the architecture name, the parameters, the optimiser
// state, the classifier head, the best epoch so far, the margin and its
// re-fit window, the learning-rate schedule state, the log and the position
// (epoch, batch) — everything a resumed run needs to continue exactly.
// Version 2 adds the same state for each supervised head of a model with
// several outputs (DeepID2+, DeepID3); version 1 files (no heads) still read.
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

// One supervised head's figures for an epoch.
struct head_log {
  double ident_loss = 0, verif_loss = 0, train_error = 0, validation_error = 0, margin = 0;
};
inline constexpr std::size_t head_log_values = 5;

// The top-level figures are the main output's; `heads` holds the other
// outputs' (a model's heads, in its order), empty for single-output nets.
struct epoch_log {
  int epoch = 0;
  double lr = 0, ident_loss = 0, verif_loss = 0, train_error = 0, validation_error = 0, margin = 0;
  double samples_per_second = 0, seconds = 0;
  std::vector<head_log> heads;
};

// Sums over the batches of an epoch that is under way: the main output's,
// then (ident, verif, errors) of each head.
struct epoch_progress {
  double ident = 0, verif = 0, errors = 0, samples = 0, batches = 0, seconds = 0;
  std::vector<double> heads;
};

// The training state of one supervised head: its classifier and optimiser
// state, the classifier at the best epoch, its margin and re-fit window.
struct head_checkpoint {
  std::vector<float> classifier, classifier_velocity, best_classifier;
  double margin = 1, cos_w = 0, cos_b = 0, vel_w = 0, vel_b = 0;
  std::vector<double> refit_distances;
  std::vector<std::int64_t> refit_same;
  std::uint64_t refit_seen = 0;
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
  std::vector<std::string> head_names;  // the supervised heads, in the model's order
  std::vector<head_checkpoint> heads;
};

inline constexpr std::uint32_t checkpoint_version = 2;

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
  std::string names;
  for (const auto& n : s.head_names) names += (names.empty() ? "" : ",") + n;
  w.add_text("head_names", names);
  for (std::size_t h = 0; h < s.heads.size(); ++h) {
    const head_checkpoint& c = s.heads[h];
    const std::string p = "head" + std::to_string(h) + ".";
    w.add(p + "classifier", std::span<const float>(c.classifier));
    w.add(p + "classifier_velocity", std::span<const float>(c.classifier_velocity));
    w.add(p + "best_classifier", std::span<const float>(c.best_classifier));
    const std::vector<double> state{c.margin, c.cos_w, c.cos_b, c.vel_w, c.vel_b, double(c.refit_seen)};
    w.add(p + "state", std::span<const double>(state));
    w.add(p + "refit_distances", std::span<const double>(c.refit_distances));
    w.add(p + "refit_same", std::span<const std::int64_t>(c.refit_same));
  }
  w.add("partial_heads", std::span<const double>(s.partial.heads));
  std::vector<double> head_history;
  for (const auto& e : s.history)
    for (const auto& h : e.heads)
      head_history.insert(head_history.end(), {h.ident_loss, h.verif_loss, h.train_error, h.validation_error, h.margin});
  w.add("history_heads", std::span<const double>(head_history));
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
  s.partial = {state[11], state[12], state[13], state[14], state[15], state[16], {}};
  s.refit_distances = r.f64("refit_distances");
  s.refit_same = r.i64("refit_same", s.refit_distances.size());
  const auto history = r.f64("history");
  if (history.size() % 9) throw error(path.string() + ": corrupt training history");
  for (std::size_t i = 0; i < history.size(); i += 9)
    s.history.push_back({int(history[i]), history[i + 1], history[i + 2], history[i + 3], history[i + 4],
                         history[i + 5], history[i + 6], history[i + 7], history[i + 8], {}});
  if (r.version() >= 2) {
    const std::string names = r.text("head_names");
    for (std::size_t start = 0; start < names.size();) {
      const std::size_t comma = std::min(names.find(',', start), names.size());
      s.head_names.push_back(names.substr(start, comma - start));
      start = comma + 1;
    }
    for (std::size_t h = 0; h < s.head_names.size(); ++h) {
      head_checkpoint c;
      const std::string p = "head" + std::to_string(h) + ".";
      c.classifier = r.f32(p + "classifier");
      c.classifier_velocity = r.f32(p + "classifier_velocity", c.classifier.size());
      c.best_classifier = r.f32(p + "best_classifier");
      const auto state = r.f64(p + "state", 6);
      c.margin = state[0], c.cos_w = state[1], c.cos_b = state[2], c.vel_w = state[3], c.vel_b = state[4];
      c.refit_seen = std::uint64_t(state[5]);
      c.refit_distances = r.f64(p + "refit_distances");
      c.refit_same = r.i64(p + "refit_same", c.refit_distances.size());
      s.heads.push_back(std::move(c));
    }
    const std::size_t heads = s.heads.size();
    s.partial.heads = r.f64("partial_heads", 3 * heads);
    const auto head_history = r.f64("history_heads", s.history.size() * heads * head_log_values);
    for (std::size_t e = 0, i = 0; e < s.history.size(); ++e)
      for (std::size_t h = 0; h < heads; ++h, i += head_log_values)
        s.history[e].heads.push_back({head_history[i], head_history[i + 1], head_history[i + 2],
                                      head_history[i + 3], head_history[i + 4]});
  }
  for (float v : s.params)
    if (!std::isfinite(v)) throw error(path.string() + ": the parameters hold a value that is not finite");
  return s;
}

}  // namespace train
DEEPID_NAMESPACE_END
