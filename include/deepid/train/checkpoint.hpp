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
//
// The checkpoint before the newest is kept as "<name>.prev": a file damaged
// after it was written (a bad disk, a bad copy) costs one checkpoint's worth
// of training, not the run. read_newest_checkpoint falls back to it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
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

// The checkpoint written before the newest one at `path`.
inline std::filesystem::path previous_checkpoint(const std::filesystem::path& path) {
  return std::filesystem::path(path.string() + ".prev");
}

// Whether there is a run to resume at `path`: the checkpoint, or the previous
// one where the newest is gone (read_newest_checkpoint then warns and uses it).
inline bool checkpoint_exists(const std::filesystem::path& path) {
  std::error_code ignored;
  return std::filesystem::exists(path, ignored) || std::filesystem::exists(previous_checkpoint(path), ignored);
}

// Empty when `path` holds a whole checkpoint record (its checksum matches);
// otherwise what is wrong with it, naming the file.
inline std::string checkpoint_problem(const std::filesystem::path& path) {
  try {
    const io::record_reader r(path, "checkpoint", checkpoint_version);
  } catch (const error& e) {
    return e.what();
  }
  return {};
}

namespace detail {
// Temporaries of writes to `path` that a killed process left behind:
// io::atomic_file's ".<name>.tmp-*" and keep_previous's link.
inline void remove_stale_temporaries(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string mine = "." + path.filename().string() + ".tmp-";
  const std::string previous = "." + previous_checkpoint(path).filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(mine, 0) == 0 || name.rfind(previous, 0) == 0) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

// Makes "<path>.prev" a copy of `path` in one rename, so that at every moment
// both names hold whole checkpoints: a hard link (no bytes copied), or a copy
// where the file system has no links.
inline void keep_previous(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const fs::path previous = previous_checkpoint(path);
  const fs::path staged = previous.parent_path() / ("." + previous.filename().string() + ".tmp-link");
  std::error_code ec;
  fs::remove(staged, ec);
  ec.clear();
  fs::create_hard_link(path, staged, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(path, staged, ec);
  }
  if (!ec) fs::rename(staged, previous, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(staged, ignored);
    throw error(previous.string() + ": cannot keep the previous checkpoint here (" + ec.message() + ")");
  }
}
}  // namespace detail

// Writes `s` to `path`. A whole checkpoint already at `path` becomes
// "<path>.prev" first (a damaged one is not kept: the older .prev is better).
// A kill between any two steps leaves `path` holding the old or the new
// checkpoint, whole, and ".prev" the one before or the same as `path`.
inline void write_checkpoint(const std::filesystem::path& path, const checkpoint_state& s) {
  detail::remove_stale_temporaries(path);
  if (std::filesystem::exists(path) && checkpoint_problem(path).empty()) detail::keep_previous(path);
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

namespace detail {
// A count or position the file stores as a double: converting one that is not
// a whole number in Int's range is undefined behaviour, so a damaged file is
// refused instead.
template <class Int>
Int stored_integer(double value, const std::filesystem::path& path, const char* what) {
  const double end = std::ldexp(1.0, std::numeric_limits<Int>::digits);
  const double first = std::numeric_limits<Int>::is_signed ? -end : 0.0;
  if (!(value >= first && value < end && value == std::floor(value))) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    throw error(path.string() + ": corrupt checkpoint: " + what + " is " + text + ", not a whole number in range");
  }
  return Int(value);
}

}  // namespace detail

// Reads a checkpoint for `architecture` with `param_count` parameters.
inline checkpoint_state read_checkpoint(const std::filesystem::path& path, const std::string& architecture,
                                        std::size_t param_count) {
  const io::record_reader r(path, "checkpoint", checkpoint_version);
  checkpoint_state s;
  s.architecture = r.text("architecture");
  const auto stored = detail::stored_integer<std::size_t>(r.scalar("param_count"), path, "the parameter count");
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
  s.position = {detail::stored_integer<int>(state[0], path, "the epoch"),
                detail::stored_integer<long>(state[1], path, "the batch")};
  s.lr = state[2], s.lr_best_error = state[3];
  s.lr_since_best = detail::stored_integer<int>(state[4], path, "the epochs since the best");
  s.margin = state[5], s.cos_w = state[6], s.cos_b = state[7], s.vel_w = state[8], s.vel_b = state[9];
  s.refit_seen = detail::stored_integer<std::uint64_t>(state[10], path, "the re-fit count");
  s.partial = {state[11], state[12], state[13], state[14], state[15], state[16], {}};
  s.refit_distances = r.f64("refit_distances");
  s.refit_same = r.i64("refit_same", s.refit_distances.size());
  const auto history = r.f64("history");
  if (history.size() % 9) throw error(path.string() + ": corrupt training history");
  for (std::size_t i = 0; i < history.size(); i += 9)
    s.history.push_back({detail::stored_integer<int>(history[i], path, "a history epoch"), history[i + 1],
                         history[i + 2], history[i + 3], history[i + 4], history[i + 5], history[i + 6],
                         history[i + 7], history[i + 8], {}});
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
      c.refit_seen = detail::stored_integer<std::uint64_t>(state[5], path, "a head's re-fit count");
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

// Reads the checkpoint at `path`, or, when that file is damaged (truncated,
// checksum mismatch) and "<path>.prev" is whole, the previous one; `used`
// receives the file read and `warning` one line saying why the newest was
// skipped (empty when it was not). A checkpoint for another architecture is
// refused, not skipped: the previous one was written by the same run.
inline checkpoint_state read_newest_checkpoint(const std::filesystem::path& path, const std::string& architecture,
                                               std::size_t param_count, std::filesystem::path& used,
                                               std::string& warning) {
  used = path;
  warning.clear();
  const std::string problem = checkpoint_problem(path);
  const std::filesystem::path previous = previous_checkpoint(path);
  if (problem.empty() || !std::filesystem::exists(previous)) return read_checkpoint(path, architecture, param_count);
  if (const std::string older = checkpoint_problem(previous); !older.empty())
    throw error(problem + "; the previous checkpoint is damaged too: " + older);
  used = previous;
  warning = problem + "; resuming from the previous checkpoint " + previous.string();
  return read_checkpoint(previous, architecture, param_count);
}

}  // namespace train
DEEPID_NAMESPACE_END
