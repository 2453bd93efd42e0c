#pragma once
// Training one patch ConvNet the DeepID2 way: batches of pairs, each pair
// giving Ident(f_i) + Ident(f_j) + lambda * Verif(f_i, f_j),
// SGD with momentum, an optional warm-up with lambda = 0, the L2 margin re-set
// every N pairs, validation on 10% of each identity's images with the best
// epoch kept, checkpoints and a clean stop on SIGINT.
//
// A model with supervision heads (DeepID2+, DeepID3) has that signal on every
// output at once: each output k has its own softmax classifier, margin and
// re-fit window, and the loss is sum_k w_k (Ident_k + lambda Verif_k), w_k = 1
// by default; the auxiliary heads' weights may decay by a factor per epoch.
// The best epoch is chosen by the main output's validation error.
//
// Loss normalisation: the batch loss is the SUM over its B pairs divided by
// B, both terms alike, so lambda keeps the meaning it has in the DeepID2
// paper's experiments (losses summed per pair).
//
// Augmentation (face/jitter.hpp): when the patches hold K jittered copies of
// every face, a training sample is the original or one of its copies,
// uniformly (then flipped or not); validation reads the originals only, so
// its error stays comparable with and without augmentation, and the copies
// of a validation face are never read at all.
//
// Divergence: the loss is checked after every batch (a few additions); when
// it is not finite the run stops with an error naming the step, the output
// and the first layer holding non-finite values, found only then. The
// parameters are checked before every checkpoint, so a checkpoint never holds
// diverged weights and the last one written stays the last good state.
//
// Determinism: every random choice (split, epoch order, partners, flips) is
// drawn from a generator seeded by (seed, epoch, batch), dropout masks from
// a stream keyed by (epoch, batch), and the kernels do not depend on the
// thread count, so the same seed gives bitwise the same weights for any
// thread count, and a run resumed from a checkpoint continues exactly as an
// uninterrupted one.
//
// Data parallelism (options::ranks, train/rank_group.hpp): each rank draws
// the whole batch as one process would, keeps its share of the pairs, and
// runs forward and backward on it. The sums that cross pairs are made over
// the ranks: the gradients of the model and of the classifiers, the losses,
// and the pair distances the margin is re-fitted on, which every rank then
// replays in batch order. Every rank so takes the same step as one process
// with the same batch, up to the order in which the gradient terms are added.
// The classifiers' gradients, and the model's in pieces from the last layer
// down (options::overlap_sum_floats), are summed while the backward pass
// still runs. Rank 0 alone writes checkpoints, logs and progress.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <span>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/progress.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/face/jitter.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/checksum.hpp"
#include "deepid/layers/softmax.hpp"
#include "deepid/loss/verification.hpp"
#include "deepid/net/model.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/train/interrupt.hpp"
#include "deepid/train/joint_signal.hpp"
#include "deepid/train/rank_group.hpp"
#include "deepid/train/sgd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

// Training patches of one patch type with identity labels 0..identities-1.
struct identity_patches {
  batch4<float> original;   // N x C x H x W, normalised
  batch4<float> flipped;    // the flipped counterparts (N x ...), or empty
  std::vector<int> labels;  // N
  std::size_t identities = 0;
  // K jittered copies of every row (face::extract_patches with
  // jitter_options::copies = K), normalised like the originals: N K x C x H x
  // W, copy j of row i at row i K + j, and their flipped counterparts when
  // flips are on. Empty when K = 0.
  std::size_t copies = 0;
  batch4<float> jittered;
  batch4<float> jittered_flipped;
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
  long checkpoint_every = 0;         // also every this many batches within an epoch; 0: never
  std::filesystem::path csv_log;     // one row per epoch when set
  progress_style progress = progress_style::automatic;
  std::string architecture = "model";  // stored in and checked against checkpoints
  long stop_after_batches = -1;        // stop (as on SIGINT) after this many batches; for tests
  // Loss weight of each output (the model's heads in order, then the main
  // output); empty: 1 for every output.
  std::vector<double> output_weights;
  double head_decay = 1.0;  // the heads' weights are multiplied by this once per epoch
  // Jittered copies of the training faces. They are cut with the patches
  // (features::train_ensemble reads this); the trainer checks that the
  // patches it is given hold `jitter.copies` copies per face.
  face::jitter_options jitter{};
  // The ranks of a data-parallel run (distributed/mpi.hpp); null: this
  // process alone. batch_pairs is the whole batch over all ranks.
  std::shared_ptr<rank_group> ranks;
  // With ranks: sum the model's gradients in pieces of at least this many
  // floats, each started as soon as the backward pass has finished its
  // layers, so the sum of the last layers travels while the first are
  // computed; 0: one sum after the whole backward pass. Every rank must use
  // the same value (the pieces fix the order in which terms are added).
  std::size_t overlap_sum_floats = std::size_t(1) << 20;
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

// Where the joint signal of a model's outputs is computed: in host memory
// (host_joint_signal), or where the model names (Model::joint_signal).
template <class Model>
struct joint_signal_of {
  using type = host_joint_signal<float>;
};
template <class Model>
  requires requires { typename Model::joint_signal; }
struct joint_signal_of<Model> {
  using type = typename Model::joint_signal;
};

// The model's SGD momentum: sgd_state in host memory, stepped by the trainer,
// or the model's own (Model::optimiser_state), stepped by Model::descend.
template <class Model>
struct optimiser_state_of {
  using type = sgd_state<float>;
};
template <class Model>
  requires requires { typename Model::optimiser_state; }
struct optimiser_state_of<Model> {
  using type = typename Model::optimiser_state;
};

// Model: model<Net, float>, or a type with its interface that runs the
// passes elsewhere (cuda::device_model<Net, float> on a GPU, which computes
// the joint signal and takes the SGD steps there too).
template <class Net, class Model = model<Net, float>>
class trainer {
  using model_type = Model;
  using signal_type = typename joint_signal_of<Model>::type;
  using optimiser_state = typename optimiser_state_of<Model>::type;
  static constexpr std::size_t outputs = model_type::output_count;
  static constexpr std::size_t heads = model_type::head_count;  // outputs [0, heads) are the heads
  static constexpr std::size_t main = heads;

 public:
  trainer(model_type& m, std::size_t identities, options o)
      : model_(m), o_(std::move(o)), model_state_(model_type::param_count), lr_(o_.schedule) {
    if (identities < 2) throw error("trainer: need at least two identities to train on");
    if (!o_.output_weights.empty() && o_.output_weights.size() != outputs)
      throw error("trainer: " + std::to_string(o_.output_weights.size()) + " output weights for a model with " +
                  std::to_string(outputs) + " outputs");
    for (double w : o_.output_weights)
      if (!std::isfinite(w) || w < 0) throw error("trainer: an output weight is negative or not finite");
    if (!std::isfinite(o_.head_decay) || o_.head_decay < 0 || o_.head_decay > 1)
      throw error("trainer: the head weight decay must be in [0, 1]");
    o_.jitter.validate();
    for (std::size_t k = 0; k < outputs; ++k) {
      // The main output's classifier keeps the seed it had before heads existed.
      const std::uint64_t seed = k == main ? mix64(o_.seed ^ 0xc1a55) : mix64(o_.seed ^ 0xc1a55 ^ mix64(k + 1));
      outs_.emplace_back(model_type::output_shape_of(k).size(), identities, seed, o_.margin_window);
    }
  }

  // The main output's classifier (the one a single-output net has).
  softmax_classifier<float>& classifier() { return outs_[main].classifier; }
  softmax_classifier<float>& classifier(std::size_t output) { return outs_.at(output).classifier; }
  double margin() const { return outs_[main].margin; }
  double margin(std::size_t output) const { return outs_.at(output).margin; }
  // Loss weight of output k in epoch `epoch` (0-based).
  double output_weight(std::size_t k, int epoch) const {
    const double base = o_.output_weights.empty() ? 1.0 : o_.output_weights[k];
    return k == main ? base : base * std::pow(o_.head_decay, double(epoch));
  }
  // The next fit() stops (as on SIGINT) after this many batches; -1: runs to
  // the last epoch. For tests and benchmarks that step a run in pieces.
  void stop_after(long batches) { o_.stop_after_batches = batches; }

  // Continues from a checkpoint written by this trainer's configuration, or
  // from the one before it when `path` is damaged (a one-line warning on
  // stderr says so). Returns the file it continued from.
  std::filesystem::path resume(const std::filesystem::path& path) {
    std::filesystem::path used;
    std::string warning;
    checkpoint_state s = read_newest_checkpoint(path, o_.architecture, model_type::param_count, used, warning);
    if (!warning.empty()) std::fprintf(stderr, "deepid: warning: %s\n", warning.c_str());
    if (s.head_names.size() != heads)
      throw error(path.string() + ": written for " + std::to_string(s.head_names.size()) +
                  " supervised heads, this model has " + std::to_string(heads));
    for (std::size_t k = 0; k < heads; ++k)
      if (s.head_names[k] != model_type::output_name(k))
        throw error(path.string() + ": head " + std::to_string(k) + " is '" + s.head_names[k] + "', this model's is '" +
                    std::string(model_type::output_name(k)) + "'");
    std::copy(s.params.begin(), s.params.end(), model_.parameters().begin());
    std::copy(s.velocity.begin(), s.velocity.end(), model_state_.velocity().begin());
    head_checkpoint main_state{std::move(s.classifier), std::move(s.classifier_velocity), std::move(s.best_classifier),
                               s.margin, s.cos_w, s.cos_b, s.vel_w, s.vel_b, std::move(s.refit_distances),
                               std::move(s.refit_same), s.refit_seen};
    for (std::size_t k = 0; k < outputs; ++k) outs_[k].restore(k == main ? main_state : s.heads[k], path);
    best_params_ = s.best_params;
    position_ = s.position;
    lr_.lr = s.lr, lr_.best_error = s.lr_best_error, lr_.since_best = s.lr_since_best;
    history_ = s.history;
    partial_ = s.partial;
    for (const auto& e : history_)
      if (e.heads.size() != heads) throw error(path.string() + ": the training history has the wrong number of heads");
    if (partial_.heads.size() != 3 * heads) partial_.heads.assign(3 * heads, 0.0);
    margin_ready_ = true;
    return used;
  }

  result fit(const identity_patches& data) {
    validate(data);
    std::vector<std::size_t> train, validation;
    split_validation(data.labels, o_.validation_fraction, o_.seed, train, validation);
    same_id_.clear();
    for (auto i : train) same_id_[data.labels[i]].push_back(i);
    const std::size_t sample = model_type::input_shape.size(), b = o_.batch_pairs;
    const std::size_t batches = std::max<std::size_t>(1, train.size() / b);
    const std::size_t ranks = o_.ranks ? o_.ranks->size() : 1;
    if (b < ranks)
      throw error("trainer: a batch of " + std::to_string(b) + " pairs cannot be shared by " + std::to_string(ranks) +
                  " ranks (each needs at least one pair)");
    if (o_.ranks) o_.ranks->require_same("the training run", run_description(data));
    const pair_share mine = share_of(b, o_.ranks ? o_.ranks->rank() : 0, ranks);
    const std::size_t m = mine.count();
    sample_numbers_.clear();
    if (ranks > 1) {  // anchors first..last-1, partners B+first..B+last-1
      for (std::size_t k = mine.first; k < mine.last; ++k) sample_numbers_.push_back(k);
      for (std::size_t k = mine.first; k < mine.last; ++k) sample_numbers_.push_back(b + k);
    }

    if (!margin_ready_) initial_margins(data, train);
    if (partial_.heads.size() != 3 * heads) partial_.heads.assign(3 * heads, 0.0);
    result out;
    out.epochs = history_;
    out.best_epoch = best_epoch_from(history_);
    out.best_validation_error = out.best_epoch >= 0 ? history_[std::size_t(out.best_epoch)].validation_error : 1.0;
    std::vector<float> input(2 * m * sample);
    std::vector<std::int32_t> labels(2 * m);
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
      po.style = writer() ? o_.progress : progress_style::silent;
      progress_bar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o_.epochs), batches * b, po);
      if (position_.batch > 0) bar.update(std::size_t(position_.batch) * b);
      for (std::size_t batch = std::size_t(position_.batch); batch < batches; ++batch) {
        // Pairs: anchors in epoch order; partners and flips from (seed, epoch, batch).
        rng gen(mix64(o_.seed ^ mix64((std::uint64_t(epoch) << 32) + batch + 7)));
        // Every rank draws every pair (the draws stay in step) and keeps its share.
        for (std::size_t k = 0; k < b; ++k) {
          const std::size_t a = order[(batch * b + k) % order.size()];
          const std::size_t p = partner(a, data.labels, train, gen);
          same[k] = data.labels[a] == data.labels[p];
          const bool kept = k >= mine.first && k < mine.last;
          const std::size_t j = k - mine.first;
          gather(data, a, kept ? input.data() + j * sample : nullptr, gen);
          gather(data, p, kept ? input.data() + (m + j) * sample : nullptr, gen);
          if (!kept) continue;
          labels[j] = data.labels[a];
          labels[m + j] = data.labels[p];
        }
        const std::uint64_t key = mix64((std::uint64_t(epoch) << 32) + batch + 0xd409);
        evaluate(input.data(), labels, same, mine, lambda, epoch, key, sums_);
        const step_place here{epoch, batch, batches};
        for (std::size_t k = 0; k < outputs; ++k)
          if (!std::isfinite(sums_[k].ident) || !std::isfinite(sums_[k].verif)) {
            std::string where = non_finite_place(true);
            if (where.empty()) where = loss_overflow(k, !std::isfinite(sums_[k].ident), labels.size());
            diverged(here, "the loss of output '" + std::string(model_type::output_name(k)) + "' is " +
                               number_text(sums_[k].ident + lambda * sums_[k].verif),
                     where);
          }
        const auto& sums = sums_;
        if constexpr (requires { model_.descend(model_state_, o_.optimiser, lr_.lr); })
          model_.descend(model_state_, o_.optimiser, lr_.lr);
        else
          model_state_.step(o_.optimiser, lr_.lr, model_.parameters(), model_.gradients());
        for (auto& s : outs_) s.step(o_.optimiser, lr_.lr, o_.verification);
        partial_.ident += sums[main].ident;
        partial_.verif += sums[main].verif;
        partial_.errors += sums[main].errors;
        for (std::size_t k = 0; k < heads; ++k) {
          partial_.heads[3 * k] += sums[k].ident;
          partial_.heads[3 * k + 1] += sums[k].verif;
          partial_.heads[3 * k + 2] += sums[k].errors;
        }
        partial_.samples += double(2 * b);
        partial_.batches += 1;
        bar.set_status(status_line());
        bar.update((batch + 1) * b);
        ++batches_run;
        if (stop_requested(batches_run)) {
          position_ = {epoch, long(batch + 1)};
          partial_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          bar.finish();
          save_checkpoint_if_set(here);
          out.interrupted = true;
          return out;
        }
        // Within the epoch; its last batch is followed by the epoch's own checkpoint.
        if (o_.checkpoint_every > 0 && (batch + 1) % std::size_t(o_.checkpoint_every) == 0 && batch + 1 < batches) {
          position_ = {epoch, long(batch + 1)};
          save_checkpoint_if_set(here, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      bar.finish();
      // End of epoch: validation, best model, schedule, logs, checkpoint.
      const step_place last{epoch, batches - 1, batches};
      if (const std::string where = non_finite_place(false); !where.empty())
        diverged(last, "the parameters are no longer finite", where);
      const std::vector<double> errors = validation.empty() ? std::vector<double>{} : top1_errors(data, validation);
      const double batches_done = std::max(1.0, partial_.batches), samples = std::max(1.0, partial_.samples);
      epoch_log log;
      log.epoch = epoch + 1;
      log.lr = lr_.lr;
      log.ident_loss = partial_.ident / batches_done;
      log.verif_loss = partial_.verif / batches_done;
      log.train_error = partial_.errors / samples;
      log.validation_error = validation.empty() ? log.train_error : errors[main];
      log.margin = outs_[main].margin;
      for (std::size_t k = 0; k < heads; ++k) {
        head_log h{partial_.heads[3 * k] / batches_done, partial_.heads[3 * k + 1] / batches_done,
                   partial_.heads[3 * k + 2] / samples, 0.0, outs_[k].margin};
        h.validation_error = validation.empty() ? h.train_error : errors[k];
        log.heads.push_back(h);
      }
      log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() + partial_.seconds;
      log.samples_per_second = partial_.samples / std::max(log.seconds, 1e-9);
      history_.push_back(log);
      out.epochs = history_;
      if (out.best_epoch < 0 || log.validation_error < out.best_validation_error) {
        out.best_epoch = int(history_.size()) - 1;
        out.best_validation_error = log.validation_error;
        best_params_.assign(model_.parameters().begin(), model_.parameters().end());
        for (auto& s : outs_) s.best.assign(s.classifier.parameters().begin(), s.classifier.parameters().end());
      }
      lr_.end_epoch(epoch, log.validation_error);
      if (o_.progress != progress_style::silent && writer()) {
        const std::string on_ranks = o_.ranks && o_.ranks->size() > 1 ? " on " + std::to_string(o_.ranks->size()) + " ranks" : "";
        std::fprintf(stderr, "epoch %d: ident %.4f verif %.4f train err %.2f%% val err %.2f%% lr %.3g margin %.4g %.0f samples/s%s\n",
                     log.epoch, log.ident_loss, log.verif_loss, 100 * log.train_error, 100 * log.validation_error, log.lr,
                     log.margin, log.samples_per_second, on_ranks.c_str());
        for (std::size_t k = 0; k < heads; ++k)
          std::fprintf(stderr, "  head %s (weight %.3g): ident %.4f verif %.4f train err %.2f%% val err %.2f%% margin %.4g\n",
                       std::string(model_type::output_name(k)).c_str(), output_weight(k, epoch), log.heads[k].ident_loss,
                       log.heads[k].verif_loss, 100 * log.heads[k].train_error, 100 * log.heads[k].validation_error,
                       log.heads[k].margin);
      }
      partial_ = {};
      partial_.heads.assign(3 * heads, 0.0);
      position_ = {epoch + 1, 0};
      write_csv();
      save_checkpoint_if_set(last);
    }
    // Keep the epoch with the lowest validation error.
    if (!best_params_.empty()) {
      std::copy(best_params_.begin(), best_params_.end(), model_.parameters().begin());
      for (auto& s : outs_)
        if (!s.best.empty()) std::copy(s.best.begin(), s.best.end(), s.classifier.parameters().begin());
    }
    return out;
  }

  // The loss a training step descends on one batch of B pairs (`input`:
  // anchors, then partners; labels likewise), sum_k w_k (Ident_k + lambda
  // Verif_k) with the weights of `epoch`, and its gradients: the model's in
  // gradients(), each classifier's in classifier(k).gradients(). `key`
  // keys the dropout masks. The margins' re-fit windows see the pairs.
  double batch_loss(const float* input, std::span<const std::int32_t> labels, const std::vector<bool>& same,
                    double lambda, int epoch, std::uint64_t key) {
    if (labels.size() != 2 * same.size()) throw error("trainer::batch_loss: labels must be twice the pairs");
    if (o_.ranks && o_.ranks->size() > 1) throw error("trainer::batch_loss: takes a whole batch, not a rank's share");
    evaluate(input, labels, same, {0, same.size()}, lambda, epoch, key, sums_);
    double total = 0;
    for (std::size_t k = 0; k < outputs; ++k)
      total += output_weight(k, epoch) * (sums_[k].ident + lambda * sums_[k].verif);
    return total;
  }

  // Top-1 identification error of the main output on rows `rows`.
  double top1_error(const identity_patches& data, const std::vector<std::size_t>& rows) {
    return top1_errors(data, rows)[main];
  }

  // Top-1 identification error of every output (its own classifier) on rows `rows`.
  std::vector<double> top1_errors(const identity_patches& data, const std::vector<std::size_t>& rows) {
    const shape3 in = model_type::input_shape;
    const std::size_t chunk = 256;
    std::vector<float> input, logits;
    std::vector<std::size_t> wrong(outputs, 0);
    for (std::size_t start = 0; start < rows.size(); start += chunk) {
      const std::size_t n = std::min(chunk, rows.size() - start);
      input.resize(n * in.size());
      for (std::size_t k = 0; k < n; ++k)
        std::copy_n(data.original.data() + rows[start + k] * in.size(), in.size(), input.data() + k * in.size());
      model_.forward(input.data(), n, mode::inference, heads > 0 ? head_pass::run : head_pass::skip);
      for (std::size_t o = 0; o < outputs; ++o) {
        auto& c = outs_[o].classifier;
        const std::size_t classes = c.classes();
        logits.resize(n * classes);
        c.logits(model_.output(o), n, logits.data());
        for (std::size_t k = 0; k < n; ++k) {
          const float* z = logits.data() + k * classes;
          wrong[o] += std::size_t(std::max_element(z, z + classes) - z) != std::size_t(data.labels[rows[start + k]]);
        }
      }
    }
    std::vector<double> errors(outputs, 0.0);
    for (std::size_t o = 0; o < outputs && !rows.empty(); ++o) errors[o] = double(wrong[o]) / double(rows.size());
    return errors;
  }

 private:
  // A training step: batch `batch` (0-based) of `epoch`, of `batches` per epoch.
  struct step_place {
    int epoch;
    std::size_t batch, batches;
    std::size_t step() const { return std::size_t(epoch) * batches + batch + 1; }
  };

  static std::string number_text(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
  }

  [[noreturn]] void diverged(const step_place& at, const std::string& what, const std::string& where) const {
    std::string message = "training diverged at step " + std::to_string(at.step()) + " (epoch " +
                          std::to_string(at.epoch + 1) + ", batch " + std::to_string(at.batch + 1) + "): " + what;
    message += "; first non-finite values in " + where;
    message += "; learning rate " + number_text(lr_.lr);
    if (!o_.checkpoint.empty() && std::filesystem::exists(o_.checkpoint))
      message += "; " + o_.checkpoint.string() + " keeps the last good state";
    throw error(message);
  }

  // Where the first non-finite value is: a parameter tensor (layer order),
  // with `activations` the outputs of the last forward pass, then the
  // classifiers' parameters. Empty when everything is finite. Costs a pass over the
  // parameters; called once per epoch and when a loss is not finite.
  std::string non_finite_place(bool activations) const {
    const auto finite = [](std::span<const float> v) {
      return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
    };
    const auto layers = model_.layers();
    const auto layer_text = [&](std::size_t index) {  // index: 1-based, as in layers()
      const auto& l = layers[index - 1];
      return "layer " + std::to_string(index) + " " + l.name + (l.head.empty() ? "" : " (head " + l.head + ")");
    };
    if (!finite(std::as_const(model_).parameters()))
      for (const auto& t : model_.parameter_tensors())
        if (const auto values = model_.get_parameter(t.name); !finite(values))
          return layer_text(std::stoul(t.name.substr(0, t.name.find('.')))) + " (parameters: " + t.name + ")";
    if (activations)
      if (const std::size_t l = model_.first_non_finite_layer(); l < layers.size())
        return layer_text(l + 1) + " (activations)";
    for (std::size_t k = 0; k < outputs; ++k)
      if (!finite(outs_[k].classifier.parameters()))
        return "the softmax classifier of output '" + std::string(model_type::output_name(k)) + "' (parameters)";
    return {};
  }

  // Every weight and activation is finite but the loss of output k is not:
  // the softmax classifier (identification) or the verification loss
  // overflowed on features that are finite but huge.
  std::string loss_overflow(std::size_t k, bool identification, std::size_t samples) const {
    const float* f = model_.output(k);
    float largest = 0;
    for (std::size_t i = 0; i < samples * model_type::output_shape_of(k).size(); ++i)
      largest = std::max(largest, std::abs(f[i]));
    return std::string(identification ? "the softmax classifier" : "the verification loss") + " of output '" +
           std::string(model_type::output_name(k)) + "' (an overflow: its input features reach " +
           number_text(largest) + ")";
  }

  struct batch_sums {
    double ident = 0, verif = 0, errors = 0;  // this batch's mean losses (pair-summed) and misclassified samples
  };

  // One supervised output: classifier, its optimiser state, margin, re-fit
  // window, the cosine loss's scale and shift, and the batch's gradients.
  struct supervised {
    softmax_classifier<float> classifier;
    sgd_state<float> state;
    loss::margin_refitter refit;
    double margin = 1.0, cos_w = 5.0, cos_b = -2.5, vel_w = 0, vel_b = 0;
    std::vector<float> best;  // the classifier at the best epoch
    signal_type arithmetic;
    const float* dfeat = nullptr;  // d(loss)/d(features) of the last batch, where `arithmetic` keeps it
    std::vector<float> cgrad;
    std::vector<double> measures, margins;  // this batch's pair distances and the margin each is scored with
    std::vector<double> pair_margins;       // the margins of this rank's pairs
    std::vector<unsigned char> pair_same;   // whether each of this rank's pairs is of one identity
    double weight = 1, scale = 0, dw = 0, db = 0;  // this batch's weight, lambda / B and cosine gradients

    supervised(std::size_t dim, std::size_t classes, std::uint64_t seed, std::size_t window)
        : classifier(dim, classes, seed), state(classifier.parameters().size()), refit(window),
          cgrad(classifier.parameters().size()) {}

    // The weighted joint signal on features f of the pairs `mine` of a batch
    // of B = same.size() pairs (f: their anchors, then their partners);
    // leaves d(loss)/d(f) at dfeat. Sums over `ranks` when given.
    batch_sums signal(const float* f, std::span<const std::int32_t> labels, const std::vector<bool>& same,
                      pair_share mine, double lambda, double w, loss::verification_kind kind, rank_group* ranks) {
      const std::size_t b = same.size(), m = mine.count(), dim = classifier.dim();
      weight = w;
      std::size_t correct = 0;
      const double ident = arithmetic.identification(classifier, f, labels, &correct, 2 * b);
      dw = db = 0;
      if (kind != loss::verification_kind::cosine) {
        // The margin is re-fitted every N pairs in batch order, so a pair is
        // scored with the margin the pairs before it left, whichever rank
        // holds them: every rank replays the whole batch's distances.
        measures.assign(b, 0.0);
        arithmetic.measures(kind, f, m, dim, measures.data() + mine.first);
        if (ranks) ranks->sum(measures);
        margins.resize(b);
        for (std::size_t k = 0; k < b; ++k) {
          margins[k] = margin;
          refit.add(measures[k], same[k]);
          if (refit.due()) margin = refit.refit();
        }
      }
      pair_margins.resize(m);
      pair_same.resize(m);
      for (std::size_t j = 0; j < m; ++j) {
        const std::size_t k = mine.first + j;
        pair_margins[j] = kind == loss::verification_kind::cosine ? margin : margins[k];
        pair_same[j] = same[k];
      }
      const double verif = arithmetic.verification(kind, f, m, dim, pair_same, pair_margins, cos_w, cos_b, dw, db);
      if (ranks && kind == loss::verification_kind::cosine) {
        std::array<double, 2> cosine{dw, db};
        ranks->sum(cosine);
        dw = cosine[0], db = cosine[1];
      }
      // d/d f of (1/B) sum over pairs: the classifier's mean over 2B samples, times 2.
      scale = lambda / double(b);
      dfeat = arithmetic.joint_gradient(w, scale);
      return {2 * ident, verif / double(b), double(2 * m - correct)};
    }

    // The classifier's gradient of the batch's loss, weighted, into cgrad
    // (which the ranks then sum).
    void classifier_gradient() {
      const auto g = arithmetic.classifier_gradients(classifier);
      for (std::size_t i = 0; i < cgrad.size(); ++i) cgrad[i] = float(2 * weight) * g[i];
    }

    void step(const sgd& optimiser, double lr, loss::verification_kind kind) {
      state.step(optimiser, lr, classifier.parameters(), cgrad);
      if (kind == loss::verification_kind::cosine) {
        vel_w = optimiser.momentum * vel_w - lr * weight * scale * dw;
        vel_b = optimiser.momentum * vel_b - lr * weight * scale * db;
        cos_w += vel_w, cos_b += vel_b;
      }
    }

    head_checkpoint snapshot() const {
      head_checkpoint c;
      c.classifier.assign(classifier.parameters().begin(), classifier.parameters().end());
      c.classifier_velocity.assign(state.velocity().begin(), state.velocity().end());
      c.best_classifier = best;
      c.margin = margin, c.cos_w = cos_w, c.cos_b = cos_b, c.vel_w = vel_w, c.vel_b = vel_b;
      refit.snapshot(c.refit_distances, c.refit_same, c.refit_seen);
      return c;
    }

    void restore(const head_checkpoint& c, const std::filesystem::path& path) {
      if (c.classifier.size() != classifier.parameters().size())
        throw error(path.string() + ": a classifier has " + std::to_string(c.classifier.size()) +
                    " parameters, this run's has " + std::to_string(classifier.parameters().size()) +
                    " (a different number of identities?)");
      if (!c.best_classifier.empty() && c.best_classifier.size() != c.classifier.size())
        throw error(path.string() + ": the best epoch's classifier has the wrong size");
      std::copy(c.classifier.begin(), c.classifier.end(), classifier.parameters().begin());
      std::copy(c.classifier_velocity.begin(), c.classifier_velocity.end(), state.velocity().begin());
      best = c.best_classifier;
      margin = c.margin, cos_w = c.cos_w, cos_b = c.cos_b, vel_w = c.vel_w, vel_b = c.vel_b;
      refit = loss::margin_refitter(refit.window());
      refit.restore(c.refit_distances, c.refit_same, c.refit_seen);
    }
  };

  // Forward (heads included), the joint signal on every output, backward.
  // `input` and `labels` hold the pairs `mine` of the batch; `same` all of
  // its pairs. With ranks the sums and gradients are the whole batch's.
  void evaluate(const float* input, std::span<const std::int32_t> labels, const std::vector<bool>& same,
                pair_share mine, double lambda, int epoch, std::uint64_t key, std::array<batch_sums, outputs>& sums) {
    rank_group* ranks = o_.ranks.get();
    model_.set_random_stream(key, sample_numbers_);
    model_.forward(input, labels.size(), mode::training, head_pass::run);
    std::array<const float*, outputs> douts{};
    for (std::size_t k = 0; k < outputs; ++k) {
      sums[k] = outs_[k].signal(signal_type::features(model_, k), labels, same, mine, lambda, output_weight(k, epoch),
                                o_.verification, ranks);
      douts[k] = outs_[k].dfeat;
    }
    for (auto& out : outs_) {
      out.classifier_gradient();
      if (ranks) ranks->start_sum(out.cgrad);  // travels during the backward pass
    }
    if (!ranks) return signal_type::backward(model_, douts, {});
    sum_gradients_during_backward(douts, *ranks);
    std::array<double, 3 * outputs> totals{};
    for (std::size_t k = 0; k < outputs; ++k)
      totals[3 * k] = sums[k].ident, totals[3 * k + 1] = sums[k].verif, totals[3 * k + 2] = sums[k].errors;
    ranks->sum(totals);
    for (std::size_t k = 0; k < outputs; ++k) sums[k] = {totals[3 * k], totals[3 * k + 1], totals[3 * k + 2]};
  }

  // The backward pass, with the model's gradients summed over the ranks in
  // pieces of the arena (options::overlap_sum_floats) started as the pass
  // finishes them, from the last layer down; then waits for every sum
  // started (the classifiers' too).
  void sum_gradients_during_backward(const std::array<const float*, outputs>& douts, rank_group& ranks) {
    const std::span<float> gradients = model_.gradients_mutable();
    std::size_t unsent = gradients.size();  // [0, unsent) is not summed yet
    const std::size_t piece = o_.overlap_sum_floats;
    std::function<void(std::size_t)> ready;
    if (piece > 0)
      ready = [&](std::size_t final_from) {
        if (final_from >= unsent || unsent - final_from < piece) return;
        ranks.start_sum(gradients.subspan(final_from, unsent - final_from));
        unsent = final_from;
      };
    try {
      signal_type::backward(model_, douts, ready);
    } catch (...) {
      // The sums started read and write these buffers: let them end first.
      try {
        ranks.wait_sums();
      } catch (...) {
      }
      throw;
    }
    if (unsent > 0) ranks.start_sum(gradients.first(unsent));
    ranks.wait_sums();
  }

  // Rank 0 (or the only process) writes checkpoints, logs and progress.
  bool writer() const { return !o_.ranks || o_.ranks->rank() == 0; }

  // SIGINT or the batch limit; with ranks, on any rank stops them all at the same batch.
  bool stop_requested(long batches_run) const {
    const bool here = interrupt_requested() || (o_.stop_after_batches >= 0 && batches_run >= o_.stop_after_batches);
    if (!o_.ranks) return here;
    std::array<double, 1> votes{here ? 1.0 : 0.0};
    o_.ranks->sum(votes);
    return votes[0] > 0;
  }

  // What every rank of a data-parallel run must agree on.
  std::string run_description(const identity_patches& data) const {
    std::string text = o_.architecture + " params " + std::to_string(model_type::param_count) + " identities " +
                       std::to_string(outs_[main].classifier.classes()) + " seed " + std::to_string(o_.seed) +
                       " epochs " + std::to_string(o_.epochs) + " batch " + std::to_string(o_.batch_pairs) +
                       " lambda " + number_text(o_.lambda) + " verification " + loss::verification_name(o_.verification) +
                       " position " + std::to_string(position_.epoch) + "." + std::to_string(position_.batch) +
                       " overlap " + std::to_string(o_.overlap_sum_floats);
    const auto bytes = [](const auto* p) { return reinterpret_cast<const std::uint8_t*>(p); };
    std::uint64_t h = io::fnv1a(bytes(data.labels.data()), data.labels.size() * sizeof(int));
    h = io::fnv1a(bytes(data.original.data()), data.original.size() * sizeof(float), h);
    return text + " data " + std::to_string(data.labels.size()) + " faces, checksum " + std::to_string(h);
  }

  std::string status_line() const {
    const double batches_done = std::max(1.0, partial_.batches), samples = std::max(1.0, partial_.samples);
    char text[160];
    std::snprintf(text, sizeof text, "ident %.3f verif %.4f top-1 err %.1f%% m %.3g", partial_.ident / batches_done,
                  partial_.verif / batches_done, 100 * partial_.errors / samples, outs_[main].margin);
    std::string line = text;
    for (std::size_t k = 0; k < heads; ++k) {
      std::snprintf(text, sizeof text, " | %s %.3f %.1f%%", std::string(model_type::output_name(k)).c_str(),
                    partial_.heads[3 * k] / batches_done, 100 * partial_.heads[3 * k + 2] / samples);
      line += text;
    }
    return line;
  }

  void validate(const identity_patches& data) const {
    const shape3 in = model_type::input_shape;
    const auto& s = data.original.shape();
    const std::size_t classes = outs_[main].classifier.classes();
    if (s[1] != in.c || s[2] != in.h || s[3] != in.w)
      throw error("trainer: patches are " + shape_string(s) + ", the model takes Nx" + in.str());
    if (data.labels.size() != s[0])
      throw error("trainer: " + std::to_string(data.labels.size()) + " labels for " + std::to_string(s[0]) + " patches");
    if (o_.flips && data.flipped.size() != data.original.size())
      throw error("trainer: flips are on but no flipped patches were given");
    if (data.copies != std::size_t(o_.jitter.copies))
      throw error("trainer: the options ask for " + std::to_string(o_.jitter.copies) +
                  " jittered copies of each face, the patches hold " + std::to_string(data.copies) +
                  " (cut them with face::extract_patches and the same jitter options)");
    const std::size_t jittered = data.copies * data.original.size();
    if (data.copies > 0 && data.jittered.size() != jittered)
      throw error("trainer: the jittered copies are " + shape_string(data.jittered.shape()) + ", " +
                  std::to_string(data.copies) + " copies of " + shape_string(s) + " patches need " +
                  std::to_string(data.copies * s[0]) + "x" + in.str());
    if (data.copies > 0 && o_.flips && data.jittered_flipped.size() != jittered)
      throw error("trainer: flips are on but the jittered copies have no flipped counterparts (" +
                  shape_string(data.jittered_flipped.shape()) + ")");
    for (int label : data.labels)
      if (label < 0 || std::size_t(label) >= classes)
        throw error("trainer: label " + std::to_string(label) + " is outside [0, " + std::to_string(classes) + ")");
    for (std::size_t i = 0; i < data.original.size(); ++i)
      if (!std::isfinite(data.original.data()[i]))
        throw error("trainer: patch " + std::to_string(i / in.size()) + " holds a value that is not finite");
    for (std::size_t i = 0; i < data.jittered.size(); ++i)
      if (!std::isfinite(data.jittered.data()[i]))
        throw error("trainer: jittered copy " + std::to_string(i / in.size() % data.copies) + " of patch " +
                    std::to_string(i / in.size() / data.copies) + " holds a value that is not finite");
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

  // A training sample: row `row`, or one of its jittered copies, flipped or
  // not. With `out` null it only makes the draws (another rank's sample).
  void gather(const identity_patches& data, std::size_t row, float* out, rng& gen) const {
    const std::size_t size = model_type::input_shape.size();
    const bool flip = o_.flips && gen.uniform() < 0.5;
    // Without copies nothing more is drawn, so such runs keep their exact sequence.
    const std::size_t pick = data.copies > 0 ? std::size_t(gen.next() % (data.copies + 1)) : 0;
    if (!out) return;
    if (pick == 0) {
      std::copy_n((flip ? data.flipped : data.original).data() + row * size, size, out);
      return;
    }
    const auto& copies = flip ? data.jittered_flipped : data.jittered;
    std::copy_n(copies.data() + (row * data.copies + pick - 1) * size, size, out);
  }

  // The first margin of each output: the error-minimising threshold on pairs
  // of the freshly initialised network.
  void initial_margins(const identity_patches& data, const std::vector<std::size_t>& train) {
    const std::size_t pairs = std::min<std::size_t>(512, train.size());
    const std::size_t sample = model_type::input_shape.size();
    std::vector<float> input(2 * pairs * sample);
    std::vector<bool> same(pairs);
    rng gen(mix64(o_.seed ^ 0x3a7u));
    for (std::size_t k = 0; k < pairs; ++k) {
      const std::size_t a = train[gen.next() % train.size()], p = partner(a, data.labels, train, gen);
      same[k] = data.labels[a] == data.labels[p];
      std::copy_n(data.original.data() + a * sample, sample, input.data() + k * sample);
      std::copy_n(data.original.data() + p * sample, sample, input.data() + (pairs + k) * sample);
    }
    model_.forward(input.data(), 2 * pairs, mode::inference, heads > 0 ? head_pass::run : head_pass::skip);
    const auto kind = o_.verification == loss::verification_kind::cosine ? loss::verification_kind::l2 : o_.verification;
    for (std::size_t o = 0; o < outputs; ++o) {
      const float* f = model_.output(o);
      const std::size_t dim = model_type::output_shape_of(o).size();
      loss::margin_refitter first(pairs);
      std::vector<float> g(dim);
      for (std::size_t k = 0; k < pairs; ++k) {
        double d = 0;
        loss::verification_pair(kind, f + k * dim, f + (pairs + k) * dim, dim, same[k], 0.0, g.data(), g.data(), 1, 0,
                                nullptr, nullptr, &d);
        first.add(d, same[k]);
      }
      outs_[o].margin = first.refit();
    }
    margin_ready_ = true;
  }

  static int best_epoch_from(const std::vector<epoch_log>& h) {
    int best = -1;
    for (std::size_t i = 0; i < h.size(); ++i)
      if (best < 0 || h[i].validation_error < h[std::size_t(best)].validation_error) best = int(i);
    return best;
  }

  void write_csv() const {
    if (o_.csv_log.empty() || !writer()) return;
    std::string text = "epoch,lr,ident_loss,verif_loss,train_top1_error,validation_top1_error,margin,samples_per_s,seconds";
    for (std::size_t k = 0; k < heads; ++k) {
      const std::string n(model_type::output_name(k));
      text += "," + n + "_ident_loss," + n + "_verif_loss," + n + "_train_top1_error," + n +
              "_validation_top1_error," + n + "_margin";
    }
    text += "\n";
    char line[256];
    for (const auto& e : history_) {
      std::snprintf(line, sizeof line, "%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.6g,%.1f,%.2f", e.epoch, e.lr, e.ident_loss,
                    e.verif_loss, e.train_error, e.validation_error, e.margin, e.samples_per_second, e.seconds);
      text += line;
      for (const auto& h : e.heads) {
        std::snprintf(line, sizeof line, ",%.6f,%.6f,%.6f,%.6f,%.6g", h.ident_loss, h.verif_loss, h.train_error,
                      h.validation_error, h.margin);
        text += line;
      }
      text += "\n";
    }
    io::atomic_file f(o_.csv_log);
    f.write(text);
    f.commit();
  }

  // `seconds`: time spent in the epoch so far and not yet in partial_.
  void save_checkpoint_if_set(const step_place& at, double seconds = 0) const {
    if (o_.checkpoint.empty()) return;
    if (const std::string where = non_finite_place(false); !where.empty())
      diverged(at, "the parameters are no longer finite", where);
    if (!writer()) return;
    checkpoint_state s;
    s.architecture = o_.architecture;
    s.params.assign(model_.parameters().begin(), model_.parameters().end());
    s.velocity.assign(model_state_.velocity().begin(), model_state_.velocity().end());
    head_checkpoint m = outs_[main].snapshot();
    s.classifier = std::move(m.classifier);
    s.classifier_dims = {outs_[main].classifier.dim(), outs_[main].classifier.classes()};
    s.classifier_velocity = std::move(m.classifier_velocity);
    s.best_params = best_params_;
    s.best_classifier = std::move(m.best_classifier);
    s.position = position_;
    s.lr = lr_.lr, s.lr_best_error = lr_.best_error, s.lr_since_best = lr_.since_best;
    s.margin = m.margin, s.cos_w = m.cos_w, s.cos_b = m.cos_b, s.vel_w = m.vel_w, s.vel_b = m.vel_b;
    s.refit_distances = std::move(m.refit_distances);
    s.refit_same = std::move(m.refit_same);
    s.refit_seen = m.refit_seen;
    s.history = history_;
    s.partial = partial_;
    s.partial.seconds += seconds;
    for (std::size_t k = 0; k < heads; ++k) {
      s.head_names.emplace_back(model_type::output_name(k));
      s.heads.push_back(outs_[k].snapshot());
    }
    write_checkpoint(o_.checkpoint, s);
  }

  model_type& model_;
  options o_;
  optimiser_state model_state_;
  std::vector<supervised> outs_;  // one per output: the heads, then the main output
  std::array<batch_sums, outputs> sums_{};
  lr_tracker lr_;
  bool margin_ready_ = false;
  training_position position_{};
  std::vector<float> best_params_;
  std::vector<epoch_log> history_;
  epoch_progress partial_{};
  std::map<int, std::vector<std::size_t>> same_id_;
  std::vector<std::size_t> sample_numbers_;  // with ranks: this rank's samples' places in the batch
};

}  // namespace train
DEEPID_NAMESPACE_END
