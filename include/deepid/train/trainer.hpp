#pragma once
// Training one patch ConvNet the DeepID2 way: batches of pairs, each pair
// giving Ident(f_i) + Ident(f_j) + lambda * Verif(f_i, f_j) (reference 4.3),
// SGD with momentum, an optional warm-up with lambda = 0, the L2 margin re-set
// every N pairs, validation on 10% of each identity's images with the best
// epoch kept (reference 1.5), checkpoints and a clean stop on SIGINT.
//
// Loss normalisation: the batch loss is the SUM over its B pairs divided by
// B, both terms alike, so lambda keeps the meaning of P2 Table 1 (per-pair
// summed losses).
//
// Determinism: every random choice (split, epoch order, partners, flips) is
// drawn from a generator seeded by (seed, epoch, batch), and the kernels do
// not depend on the thread count, so the same seed gives bitwise the same
// weights for any thread count, and a run resumed from a checkpoint continues
// exactly as an uninterrupted one. (Nets with dropout draw masks from a
// per-model counter that a checkpoint does not hold: resumed runs of such
// nets differ in their masks.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/progress.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/layers/softmax.hpp"
#include "deepid/loss/verification.hpp"
#include "deepid/net/model.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/train/interrupt.hpp"
#include "deepid/train/sgd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

// Training patches of one patch type with identity labels 0..identities-1.
struct identity_patches {
  batch4<float> original;   // N x C x H x W, normalised
  batch4<float> flipped;    // the flipped counterparts (N x ...), or empty
  std::vector<int> labels;  // N
  std::size_t identities = 0;
};

struct options {
  int epochs = 10;
  std::size_t batch_pairs = 64;   // 2 x this many samples per batch
  double positive_ratio = 0.5;    // share of same-identity pairs
  double lambda = 0.05;           // weight of the verification signal
  int warmup_epochs = 0;          // epochs with lambda = 0 first
  loss::verification_kind verification = loss::verification_kind::l2;
  std::size_t margin_window = 200000;  // pairs between margin re-fits
  sgd optimiser{};
  lr_schedule schedule = lr_schedule::constant(0.01);
  double validation_fraction = 0.1;
  bool flips = true;              // random horizontal flips (needs `flipped`)
  std::uint64_t seed = 1;
  std::filesystem::path checkpoint;  // written after each epoch and on SIGINT when set
  std::filesystem::path csv_log;     // one row per epoch when set
  progress_style progress = progress_style::automatic;
  std::string architecture = "model";  // stored in and checked against checkpoints
  long stop_after_batches = -1;        // stop (as on SIGINT) after this many batches; for tests
};


struct result {
  std::vector<epoch_log> epochs;
  int best_epoch = -1;
  double best_validation_error = 1;
  bool interrupted = false;
};

// Splits each identity's samples: validation_fraction of them (rounded, and
// never all) for validation, drawn from `seed`.
inline void split_validation(const std::vector<int>& labels, double fraction, std::uint64_t seed,
                             std::vector<std::size_t>& train, std::vector<std::size_t>& validation) {
  std::map<int, std::vector<std::size_t>> by_id;
  for (std::size_t i = 0; i < labels.size(); ++i) by_id[labels[i]].push_back(i);
  rng gen(mix64(seed ^ 0x51u));
  for (auto& [id, rows] : by_id) {
    for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[gen.next() % i]);
    std::size_t held = std::size_t(std::lround(fraction * double(rows.size())));
    held = std::min(held, rows.size() - 1);
    for (std::size_t k = 0; k < rows.size(); ++k) (k < held ? validation : train).push_back(rows[k]);
  }
  std::sort(train.begin(), train.end());
  std::sort(validation.begin(), validation.end());
}

template <class Net>
class trainer {
 public:
  trainer(model<Net, float>& m, std::size_t identities, options o)
      : model_(m), o_(std::move(o)), classifier_(model<Net, float>::output_shape.size(), identities, mix64(o_.seed ^ 0xc1a55)),
        model_state_(model<Net, float>::param_count), classifier_state_(classifier_.parameters().size()),
        refit_(o_.margin_window), lr_(o_.schedule) {
    if (identities < 2) throw error("trainer: need at least two identities to train on");
  }

  softmax_classifier<float>& classifier() { return classifier_; }
  double margin() const { return margin_; }
  // The next fit() stops (as on SIGINT) after this many batches; -1: runs to
  // the last epoch. For tests and benchmarks that step a run in pieces.
  void stop_after(long batches) { o_.stop_after_batches = batches; }

  // Continues from a checkpoint written by this trainer's configuration.
  void resume(const std::filesystem::path& path) {
    checkpoint_state s = read_checkpoint(path, o_.architecture, model<Net, float>::param_count);
    std::copy(s.params.begin(), s.params.end(), model_.parameters().begin());
    if (s.classifier.size() != classifier_.parameters().size())
      throw error(path.string() + ": the classifier has " + std::to_string(s.classifier.size()) +
                  " parameters, this run's has " + std::to_string(classifier_.parameters().size()) +
                  " (a different number of identities?)");
    std::copy(s.classifier.begin(), s.classifier.end(), classifier_.parameters().begin());
    std::copy(s.velocity.begin(), s.velocity.end(), model_state_.velocity().begin());
    std::copy(s.classifier_velocity.begin(), s.classifier_velocity.end(), classifier_state_.velocity().begin());
    best_params_ = s.best_params;
    best_classifier_ = s.best_classifier;
    position_ = s.position;
    lr_.lr = s.lr, lr_.best_error = s.lr_best_error, lr_.since_best = s.lr_since_best;
    margin_ = s.margin, cos_w_ = s.cos_w, cos_b_ = s.cos_b, vel_w_ = s.vel_w, vel_b_ = s.vel_b;
    refit_ = loss::margin_refitter(o_.margin_window);
    refit_.restore(s.refit_distances, s.refit_same, s.refit_seen);
    history_ = s.history;
    partial_ = s.partial;
    margin_ready_ = true;
  }

  result fit(const identity_patches& data) {
    validate(data);
    std::vector<std::size_t> train, validation;
    split_validation(data.labels, o_.validation_fraction, o_.seed, train, validation);
    same_id_.clear();
    for (auto i : train) same_id_[data.labels[i]].push_back(i);
    const shape3 in = model<Net, float>::input_shape;
    const std::size_t sample = in.size(), dim = model<Net, float>::output_shape.size(), b = o_.batch_pairs;
    const std::size_t batches = std::max<std::size_t>(1, train.size() / b);

    if (!margin_ready_) initial_margin(data, train);
    result out;
    out.epochs = history_;
    out.best_epoch = best_epoch_from(history_);
    out.best_validation_error = out.best_epoch >= 0 ? history_[std::size_t(out.best_epoch)].validation_error : 1.0;
    std::vector<float> input(2 * b * sample), dfeat(2 * b * dim), dident(2 * b * dim), gv(2 * b * dim);
    std::vector<float> cgrad(classifier_.parameters().size());
    std::vector<std::int32_t> labels(2 * b);
    std::vector<bool> same(b);
    long batches_run = 0;

    for (int epoch = position_.epoch; epoch < o_.epochs; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      const double lambda = epoch < o_.warmup_epochs ? 0.0 : o_.lambda;
      std::vector<std::size_t> order = train;
      rng shuffle(mix64(o_.seed ^ mix64(std::uint64_t(epoch) + 101)));
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[shuffle.next() % i]);
      progress_options po;
      po.unit = "pairs";
      po.style = o_.progress;
      progress_bar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o_.epochs), batches * b, po);
      if (position_.batch > 0) bar.update(std::size_t(position_.batch) * b);
      for (std::size_t batch = std::size_t(position_.batch); batch < batches; ++batch) {
        // Pairs: anchors in epoch order; partners and flips from (seed, epoch, batch).
        rng gen(mix64(o_.seed ^ mix64((std::uint64_t(epoch) << 32) + batch + 7)));
        for (std::size_t k = 0; k < b; ++k) {
          const std::size_t a = order[(batch * b + k) % order.size()];
          const std::size_t p = partner(a, data.labels, train, gen);
          same[k] = data.labels[a] == data.labels[p];
          gather(data, a, input.data() + k * sample, gen);
          gather(data, p, input.data() + (b + k) * sample, gen);
          labels[k] = data.labels[a];
          labels[b + k] = data.labels[p];
        }
        const float* f = model_.forward(input.data(), 2 * b, mode::training);
        std::size_t correct = 0;
        const double ident = classifier_.train_step(f, labels, dident.data(), &correct);
        // d/d f of (1/B) sum over pairs: the classifier's mean over 2B samples, times 2.
        for (std::size_t i = 0; i < dfeat.size(); ++i) dfeat[i] = 2 * dident[i];
        double verif = 0, dw = 0, db = 0;
        std::fill(gv.begin(), gv.end(), 0.0f);
        for (std::size_t k = 0; k < b; ++k) {
          double measure = 0;
          verif += loss::verification_pair(o_.verification, f + k * dim, f + (b + k) * dim, dim, same[k], margin_,
                                           gv.data() + k * dim, gv.data() + (b + k) * dim, cos_w_, cos_b_, &dw, &db,
                                           &measure);
          if (o_.verification != loss::verification_kind::cosine) {
            refit_.add(measure, same[k]);
            if (refit_.due()) margin_ = refit_.refit();
          }
        }
        const double scale = lambda / double(b);
        for (std::size_t i = 0; i < dfeat.size(); ++i) dfeat[i] += float(scale * gv[i]);
        model_.backward(dfeat.data());
        model_state_.step(o_.optimiser, lr_.lr, model_.parameters(), model_.gradients());
        const auto cg = classifier_.gradients();
        for (std::size_t i = 0; i < cgrad.size(); ++i) cgrad[i] = 2 * cg[i];
        classifier_state_.step(o_.optimiser, lr_.lr, classifier_.parameters(), cgrad);
        if (o_.verification == loss::verification_kind::cosine) {
          vel_w_ = o_.optimiser.momentum * vel_w_ - lr_.lr * scale * dw;
          vel_b_ = o_.optimiser.momentum * vel_b_ - lr_.lr * scale * db;
          cos_w_ += vel_w_, cos_b_ += vel_b_;
        }
        if (!std::isfinite(ident) || !std::isfinite(verif))
          throw error("trainer: the loss became " + std::to_string(ident + verif) + " at epoch " +
                      std::to_string(epoch + 1) + " batch " + std::to_string(batch + 1) +
                      " (learning rate " + std::to_string(lr_.lr) + " too high?)");
        partial_.ident += 2 * ident;
        partial_.verif += verif / double(b);
        partial_.errors += double(2 * b - correct);
        partial_.samples += double(2 * b);
        partial_.batches += 1;
        char status[160];
        std::snprintf(status, sizeof status, "ident %.3f verif %.4f top-1 err %.1f%% m %.3g",
                      partial_.ident / partial_.batches, partial_.verif / partial_.batches,
                      100 * partial_.errors / partial_.samples, margin_);
        bar.set_status(status);
        bar.update((batch + 1) * b);
        ++batches_run;
        if (interrupt_requested() || (o_.stop_after_batches >= 0 && batches_run >= o_.stop_after_batches)) {
          position_ = {epoch, long(batch + 1)};
          partial_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          bar.finish();
          save_checkpoint_if_set();
          out.interrupted = true;
          return out;
        }
      }
      bar.finish();
      // End of epoch: validation, best model, schedule, logs, checkpoint.
      epoch_log log;
      log.epoch = epoch + 1;
      log.lr = lr_.lr;
      log.ident_loss = partial_.ident / std::max(1.0, partial_.batches);
      log.verif_loss = partial_.verif / std::max(1.0, partial_.batches);
      log.train_error = partial_.errors / std::max(1.0, partial_.samples);
      log.validation_error = validation.empty() ? log.train_error : top1_error(data, validation);
      log.margin = margin_;
      log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() + partial_.seconds;
      log.samples_per_second = partial_.samples / std::max(log.seconds, 1e-9);
      history_.push_back(log);
      out.epochs = history_;
      if (out.best_epoch < 0 || log.validation_error < out.best_validation_error) {
        out.best_epoch = int(history_.size()) - 1;
        out.best_validation_error = log.validation_error;
        best_params_.assign(model_.parameters().begin(), model_.parameters().end());
        best_classifier_.assign(classifier_.parameters().begin(), classifier_.parameters().end());
      }
      lr_.end_epoch(epoch, log.validation_error);
      if (o_.progress != progress_style::silent)
        std::fprintf(stderr, "epoch %d: ident %.4f verif %.4f train err %.2f%% val err %.2f%% lr %.3g margin %.4g %.0f samples/s\n",
                   log.epoch, log.ident_loss, log.verif_loss, 100 * log.train_error, 100 * log.validation_error, log.lr,
                   log.margin, log.samples_per_second);
      partial_ = {};
      position_ = {epoch + 1, 0};
      write_csv();
      save_checkpoint_if_set();
    }
    // Keep the epoch with the lowest validation error.
    if (!best_params_.empty()) {
      std::copy(best_params_.begin(), best_params_.end(), model_.parameters().begin());
      std::copy(best_classifier_.begin(), best_classifier_.end(), classifier_.parameters().begin());
    }
    return out;
  }

  // Top-1 identification error of the current model on rows `rows`.
  double top1_error(const identity_patches& data, const std::vector<std::size_t>& rows) {
    const shape3 in = model<Net, float>::input_shape;
    const std::size_t chunk = 256, classes = classifier_.classes();
    std::vector<float> input, logits;
    std::size_t wrong = 0;
    for (std::size_t start = 0; start < rows.size(); start += chunk) {
      const std::size_t n = std::min(chunk, rows.size() - start);
      input.resize(n * in.size());
      for (std::size_t k = 0; k < n; ++k)
        std::copy_n(data.original.data() + rows[start + k] * in.size(), in.size(), input.data() + k * in.size());
      const float* f = model_.forward(input.data(), n, mode::inference);
      logits.resize(n * classes);
      classifier_.logits(f, n, logits.data());
      for (std::size_t k = 0; k < n; ++k) {
        const float* z = logits.data() + k * classes;
        wrong += std::size_t(std::max_element(z, z + classes) - z) != std::size_t(data.labels[rows[start + k]]);
      }
    }
    return rows.empty() ? 0.0 : double(wrong) / double(rows.size());
  }

 private:
  void validate(const identity_patches& data) const {
    const shape3 in = model<Net, float>::input_shape;
    const auto& s = data.original.shape();
    if (s[1] != in.c || s[2] != in.h || s[3] != in.w)
      throw error("trainer: patches are " + shape_string(s) + ", the model takes Nx" + in.str());
    if (data.labels.size() != s[0])
      throw error("trainer: " + std::to_string(data.labels.size()) + " labels for " + std::to_string(s[0]) + " patches");
    if (o_.flips && data.flipped.size() != data.original.size())
      throw error("trainer: flips are on but no flipped patches were given");
    for (int label : data.labels)
      if (label < 0 || std::size_t(label) >= classifier_.classes())
        throw error("trainer: label " + std::to_string(label) + " is outside [0, " +
                    std::to_string(classifier_.classes()) + ")");
    for (std::size_t i = 0; i < data.original.size(); ++i)
      if (!std::isfinite(data.original.data()[i]))
        throw error("trainer: patch " + std::to_string(i / in.size()) + " holds a value that is not finite");
  }

  std::size_t partner(std::size_t anchor, const std::vector<int>& labels, const std::vector<std::size_t>& train,
                      rng& gen) const {
    const auto& mine = same_id_.at(labels[anchor]);
    if (gen.uniform() < o_.positive_ratio && mine.size() >= 2) {
      std::size_t p = mine[gen.next() % mine.size()];
      while (p == anchor) p = mine[gen.next() % mine.size()];
      return p;
    }
    for (;;) {
      const std::size_t p = train[gen.next() % train.size()];
      if (labels[p] != labels[anchor]) return p;
    }
  }

  void gather(const identity_patches& data, std::size_t row, float* out, rng& gen) const {
    const std::size_t size = model<Net, float>::input_shape.size();
    const bool flip = o_.flips && gen.uniform() < 0.5;
    std::copy_n((flip ? data.flipped : data.original).data() + row * size, size, out);
  }

  // The first margin: the error-minimising threshold on pairs of the freshly
  // initialised network (reference 4.3).
  void initial_margin(const identity_patches& data, const std::vector<std::size_t>& train) {
    const std::size_t pairs = std::min<std::size_t>(512, train.size());
    const std::size_t sample = model<Net, float>::input_shape.size(), dim = model<Net, float>::output_shape.size();
    std::vector<float> input(2 * pairs * sample);
    std::vector<bool> same(pairs);
    rng gen(mix64(o_.seed ^ 0x3a7u));
    for (std::size_t k = 0; k < pairs; ++k) {
      const std::size_t a = train[gen.next() % train.size()], p = partner(a, data.labels, train, gen);
      same[k] = data.labels[a] == data.labels[p];
      std::copy_n(data.original.data() + a * sample, sample, input.data() + k * sample);
      std::copy_n(data.original.data() + p * sample, sample, input.data() + (pairs + k) * sample);
    }
    const float* f = model_.forward(input.data(), 2 * pairs, mode::inference);
    loss::margin_refitter first(pairs);
    for (std::size_t k = 0; k < pairs; ++k) {
      double d = 0;
      std::vector<float> g(dim);
      loss::verification_pair(o_.verification == loss::verification_kind::cosine ? loss::verification_kind::l2
                                                                                  : o_.verification,
                              f + k * dim, f + (pairs + k) * dim, dim, same[k], 0.0, g.data(), g.data(), 1, 0,
                              nullptr, nullptr, &d);
      first.add(d, same[k]);
    }
    margin_ = first.refit();
    margin_ready_ = true;
  }

  static int best_epoch_from(const std::vector<epoch_log>& h) {
    int best = -1;
    for (std::size_t i = 0; i < h.size(); ++i)
      if (best < 0 || h[i].validation_error < h[std::size_t(best)].validation_error) best = int(i);
    return best;
  }

  void write_csv() const {
    if (o_.csv_log.empty()) return;
    std::string text = "epoch,lr,ident_loss,verif_loss,train_top1_error,validation_top1_error,margin,samples_per_s,seconds\n";
    char line[256];
    for (const auto& e : history_) {
      std::snprintf(line, sizeof line, "%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.6g,%.1f,%.2f\n", e.epoch, e.lr, e.ident_loss,
                    e.verif_loss, e.train_error, e.validation_error, e.margin, e.samples_per_second, e.seconds);
      text += line;
    }
    io::atomic_file f(o_.csv_log);
    f.write(text);
    f.commit();
  }

  void save_checkpoint_if_set() const {
    if (o_.checkpoint.empty()) return;
    checkpoint_state s;
    s.architecture = o_.architecture;
    s.params.assign(model_.parameters().begin(), model_.parameters().end());
    s.velocity.assign(model_state_.velocity().begin(), model_state_.velocity().end());
    s.classifier.assign(classifier_.parameters().begin(), classifier_.parameters().end());
    s.classifier_dims = {classifier_.dim(), classifier_.classes()};
    s.classifier_velocity.assign(classifier_state_.velocity().begin(), classifier_state_.velocity().end());
    s.best_params = best_params_;
    s.best_classifier = best_classifier_;
    s.position = position_;
    s.lr = lr_.lr, s.lr_best_error = lr_.best_error, s.lr_since_best = lr_.since_best;
    s.margin = margin_, s.cos_w = cos_w_, s.cos_b = cos_b_, s.vel_w = vel_w_, s.vel_b = vel_b_;
    refit_.snapshot(s.refit_distances, s.refit_same, s.refit_seen);
    s.history = history_;
    s.partial = partial_;
    write_checkpoint(o_.checkpoint, s);
  }

  model<Net, float>& model_;
  options o_;
  softmax_classifier<float> classifier_;
  sgd_state<float> model_state_, classifier_state_;
  loss::margin_refitter refit_;
  lr_tracker lr_;
  double margin_ = 1.0, cos_w_ = 5.0, cos_b_ = -2.5, vel_w_ = 0, vel_b_ = 0;
  bool margin_ready_ = false;
  training_position position_{};
  std::vector<float> best_params_, best_classifier_;
  std::vector<epoch_log> history_;
  epoch_progress partial_{};
  std::map<int, std::vector<std::size_t>> same_id_;

};

}  // namespace train
DEEPID_NAMESPACE_END
