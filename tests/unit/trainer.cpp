// The trainer on synthetic identities: it learns, it is deterministic for a
// seed and any thread count, a run resumed from a checkpoint ends bitwise
// where an uninterrupted one does, and bad checkpoints are refused clearly.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>
#include <deepid/train/trainer.hpp>

#include "test_files.hpp"
#include "trainer_setup.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <span>
#include <fstream>

namespace dp = deepid;
namespace fc = deepid::face;
namespace tr = deepid::train;

namespace {
using deepid_test::small_net;

static_assert(dp::require_patch_input<small_net, fc::deepid1_scheme, deepid_test::synthetic_patch_type>());
const tr::identity_patches& patches() { return deepid_test::synthetic_patches(); }
const deepid_test::scratch_folder scratch{"trainer"};

tr::options small_options(int epochs) {
  auto o = deepid_test::quick_options(epochs);
  o.architecture = "small-test-net";
  return o;
}

std::vector<float> train_once(const tr::options& o, int threads) {
  return deepid_test::trained_weights<small_net>(o, threads);
}
}  // namespace

TEST_CASE("sgd_state: two steps of v = m v - lr (g + decay w), w += v, for any thread count") {
  // Several blocks of the parallel pass and a ragged last one.
  const std::size_t size = 3 * 16384 + 77;
  std::vector<float> w0(size), g(size);
  for (std::size_t i = 0; i < size; ++i) {
    w0[i] = float(std::sin(0.37 * double(i)));
    g[i] = float(std::cos(0.11 * double(i)));
  }
  const dp::sgd o{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3};
  std::vector<float> expected = w0, v(size, 0.f);
  for (int step = 0; step < 2; ++step)
    for (std::size_t i = 0; i < size; ++i) {
      v[i] = 0.9f * v[i] - 0.05f * (g[i] + 1e-3f * expected[i]);
      expected[i] += v[i];
    }
  for (const int threads : {1, 2}) {
    dp::set_num_threads(threads);
    std::vector<float> w = w0;
    dp::sgd_state<float> state(size);
    for (int step = 0; step < 2; ++step) state.step(o, 0.05, w, g);
    CHECK(w == expected);
    CHECK(std::equal(v.begin(), v.end(), state.velocity().begin()));
  }
  dp::set_num_threads(2);
}

TEST_CASE("trainer: the joint signal learns synthetic identities") {
  dp::model<small_net> m(dp::init::seed{3});
  auto o = small_options(8);
  tr::trainer<small_net> t(m, patches().identities, o);
  const double margin_before = t.margin();
  const auto r = t.fit(patches());
  REQUIRE(r.epochs.size() == 8);
  CHECK(r.epochs.back().ident_loss < r.epochs.front().ident_loss);
  // 12 identities: chance is 91.7% top-1 error.
  CHECK(r.best_validation_error < 0.6);
  CHECK(t.margin() != margin_before);  // re-fit every 64 pairs
  CHECK(r.epochs.back().verif_loss > 0);
}

TEST_CASE("trainer: same seed gives bitwise the same weights, for 1 and 2 threads") {
  const auto a = train_once(small_options(2), 1);
  const auto b = train_once(small_options(2), 2);
  const auto c = train_once(small_options(2), 2);
  CHECK(a == b);
  CHECK(b == c);
  auto other = small_options(2);
  other.seed = 10;
  CHECK(train_once(other, 2) != a);
}

TEST_CASE("trainer: a run resumed from a checkpoint ends bitwise where an uninterrupted one does") {
  const auto dir = scratch("resume");
  const auto uninterrupted = train_once(small_options(3), 2);

  auto o = small_options(3);
  o.checkpoint = dir / "run.ckpt";
  o.stop_after_batches = 9;  // mid-way through the second epoch (6 batches per epoch)
  {
    dp::model<small_net> m(dp::init::seed{3});
    tr::trainer<small_net> t(m, patches().identities, o);
    CHECK(t.fit(patches()).interrupted);
  }
  REQUIRE(std::filesystem::exists(o.checkpoint));
  std::filesystem::copy_file(o.checkpoint, dir / "mid.ckpt", std::filesystem::copy_options::overwrite_existing);
  o.stop_after_batches = -1;
  dp::model<small_net> m(dp::init::seed{99});  // different start: the checkpoint must override it
  tr::trainer<small_net> t(m, patches().identities, o);
  t.resume(o.checkpoint);
  const auto r = t.fit(patches());
  CHECK(!r.interrupted);
  CHECK(r.epochs.size() == 3);
  const std::vector<float> resumed(m.parameters().begin(), m.parameters().end());
  CHECK(resumed == uninterrupted);

  SUBCASE("a version 1 checkpoint (before heads existed) still resumes exactly") {
    // The interrupted run's state re-written as version 1: its sections
    // without the heads'. Resumed, it ends where the uninterrupted run does.
    const deepid::io::record_reader v2(dir / "mid.ckpt", "checkpoint", tr::checkpoint_version);
    deepid::io::record_writer v1("checkpoint", 1);
    v1.add_text("architecture", v2.text("architecture"));
    v1.add_scalar("param_count", v2.scalar("param_count"));
    for (const char* name : {"params", "velocity", "classifier", "classifier_velocity", "best_params", "best_classifier"}) {
      const auto values = v2.f32(name);
      v1.add(name, std::span<const float>(values));
    }
    for (const char* name : {"classifier_dims", "refit_same"}) {
      const auto values = v2.i64(name);
      v1.add(name, std::span<const std::int64_t>(values));
    }
    for (const char* name : {"state", "refit_distances", "history"}) {
      const auto values = v2.f64(name);
      v1.add(name, std::span<const double>(values));
    }
    v1.save(dir / "v1.ckpt");
    auto o1 = small_options(3);
    dp::model<small_net> m1(dp::init::seed{42});
    tr::trainer<small_net> t1(m1, patches().identities, o1);
    t1.resume(dir / "v1.ckpt");
    t1.fit(patches());
    CHECK(std::vector<float>(m1.parameters().begin(), m1.parameters().end()) == uninterrupted);
  }

  SUBCASE("bad checkpoints are refused with the file named") {
    auto wrong = small_options(3);
    wrong.architecture = "deepid1-31x31x1";
    dp::model<small_net> m2;
    tr::trainer<small_net> t2(m2, patches().identities, wrong);
    CHECK_THROWS_WITH(t2.resume(o.checkpoint), doctest::Contains("written for 'small-test-net'"));
    const auto size = std::filesystem::file_size(o.checkpoint);
    std::filesystem::copy_file(o.checkpoint, dir / "cut.ckpt");
    std::filesystem::resize_file(dir / "cut.ckpt", size / 2);
    CHECK_THROWS_WITH(t.resume(dir / "cut.ckpt"), doctest::Contains("cut.ckpt: truncated"));
    std::filesystem::copy_file(o.checkpoint, dir / "flip.ckpt");
    {
      std::fstream f(dir / "flip.ckpt", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(std::streamoff(size / 2));
      f.put('\x7f');
    }
    CHECK_THROWS_WITH(t.resume(dir / "flip.ckpt"), doctest::Contains("flip.ckpt: checksum mismatch"));
    CHECK_THROWS_WITH(t.resume(dir / "none.ckpt"), doctest::Contains("none.ckpt: cannot open"));
  }
}

TEST_CASE("trainer: bad training data is refused") {
  dp::model<small_net> m;
  auto o = small_options(1);
  tr::trainer<small_net> t(m, patches().identities, o);
  auto bad = patches();
  bad.labels[3] = 99;
  CHECK_THROWS_WITH(t.fit(bad), doctest::Contains("label 99 is outside [0, 12)"));
  bad = patches();
  bad.original.data()[5] = std::nanf("");
  CHECK_THROWS_WITH(t.fit(bad), doctest::Contains("not finite"));
  bad = patches();
  bad.flipped = {};
  CHECK_THROWS_WITH(t.fit(bad), doctest::Contains("no flipped patches"));
}

namespace {
void flip_byte(const std::filesystem::path& path) {
  const auto size = std::filesystem::file_size(path);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(size / 2));
  const char old = char(f.get());
  f.seekp(std::streamoff(size / 2));
  f.put(char(old ^ 0x5a));
}

// Trains from `o` (resuming o.checkpoint when it exists) until o.stop_after_batches.
bool train_piece(const tr::options& o) {
  dp::model<small_net> m(dp::init::seed{3});
  tr::trainer<small_net> t(m, patches().identities, o);
  if (std::filesystem::exists(o.checkpoint)) t.resume(o.checkpoint);
  return t.fit(patches()).interrupted;
}
}  // namespace

TEST_CASE("trainer: checkpoints within an epoch change nothing, and the one before the newest is kept") {
  const auto dir = scratch("previous_checkpoint");
  const auto uninterrupted = train_once(small_options(3), 2);

  auto o = small_options(3);
  o.checkpoint = dir / "run.ckpt";
  o.checkpoint_every = 2;
  CHECK(train_once(o, 2) == uninterrupted);  // 9 checkpoints written on the way
  const auto previous = tr::previous_checkpoint(o.checkpoint);
  CHECK(previous == dir / "run.ckpt.prev");
  REQUIRE(std::filesystem::exists(previous));
  // The last two writes: within epoch 3 after its batch 4, then at its end.
  const auto newest = tr::read_checkpoint(o.checkpoint, o.architecture, dp::model<small_net>::param_count);
  const auto before = tr::read_checkpoint(previous, o.architecture, dp::model<small_net>::param_count);
  CHECK(newest.position.epoch == 3);
  CHECK(newest.position.batch == 0);
  CHECK(before.position.epoch == 2);
  CHECK(before.position.batch == 4);

  // Two pieces: stopped after 4 batches, then after one more (the newest
  // checkpoint, at batch 5, and the previous one, at batch 4).
  std::filesystem::remove(o.checkpoint);
  std::filesystem::remove(previous);
  o.checkpoint_every = 0;
  o.stop_after_batches = 4;
  CHECK(train_piece(o));
  o.stop_after_batches = 1;
  CHECK(train_piece(o));
  const auto good_previous = deepid_test::read_bytes(previous);
  CHECK(tr::read_checkpoint(previous, o.architecture, dp::model<small_net>::param_count).position.batch == 4);

  SUBCASE("a damaged newest checkpoint: the previous one is resumed, and the run ends where it would have") {
    flip_byte(o.checkpoint);
    CHECK(!tr::checkpoint_problem(o.checkpoint).empty());
    o.stop_after_batches = -1;
    dp::model<small_net> m(dp::init::seed{99});
    tr::trainer<small_net> t(m, patches().identities, o);
    CHECK(t.resume(o.checkpoint) == previous);
    t.stop_after(1);  // writes a checkpoint: the damaged file must not become the previous one
    CHECK(t.fit(patches()).interrupted);
    CHECK(deepid_test::read_bytes(previous) == good_previous);
    CHECK(tr::checkpoint_problem(o.checkpoint).empty());
    dp::model<small_net> m2(dp::init::seed{98});
    tr::trainer<small_net> t2(m2, patches().identities, o);
    CHECK(t2.resume(o.checkpoint) == o.checkpoint);
    t2.fit(patches());
    CHECK(std::vector<float>(m2.parameters().begin(), m2.parameters().end()) == uninterrupted);
  }

  SUBCASE("a lost newest checkpoint: the previous one is resumed") {
    std::filesystem::remove(o.checkpoint);
    CHECK(tr::checkpoint_exists(o.checkpoint));
    o.stop_after_batches = -1;
    dp::model<small_net> m(dp::init::seed{99});
    tr::trainer<small_net> t(m, patches().identities, o);
    CHECK(t.resume(o.checkpoint) == previous);
    t.fit(patches());
    CHECK(std::vector<float>(m.parameters().begin(), m.parameters().end()) == uninterrupted);
    std::filesystem::remove(o.checkpoint);
    std::filesystem::remove(previous);
    CHECK(!tr::checkpoint_exists(o.checkpoint));
  }

  SUBCASE("both damaged: refused, naming both files") {
    flip_byte(o.checkpoint);
    flip_byte(previous);
    dp::model<small_net> m;
    tr::trainer<small_net> t(m, patches().identities, o);
    const std::string expected = (dir / "run.ckpt").string() + ": checksum mismatch (the file is corrupt); " +
                                 "the previous checkpoint is damaged too: " + previous.string() + ": checksum mismatch";
    CHECK_THROWS_WITH(t.resume(o.checkpoint), doctest::Contains(expected.c_str()));
  }

  SUBCASE("a checkpoint for another net is refused, not skipped for the previous one") {
    auto wrong = o;
    wrong.architecture = "deepid1-31x31x1";
    dp::model<small_net> m;
    tr::trainer<small_net> t(m, patches().identities, wrong);
    CHECK_THROWS_WITH(t.resume(o.checkpoint), doctest::Contains("run.ckpt: written for 'small-test-net'"));
  }
}

TEST_CASE("trainer: a diverging run stops naming the step and the layer, and writes no checkpoint of it") {
  const auto dir = scratch("diverging");
  auto o = small_options(2);
  o.optimiser.lr = 1e6;
  o.schedule = dp::lr_schedule::constant(1e6);
  o.checkpoint = dir / "run.ckpt";
  o.checkpoint_every = 1;
  dp::model<small_net> m(dp::init::seed{3});
  tr::trainer<small_net> t(m, patches().identities, o);
  std::string message;
  try {
    t.fit(patches());
  } catch (const dp::error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.rfind("training diverged at step ", 0) == 0);
  CHECK(message.find("(epoch 1, batch ") != std::string::npos);
  // A layer (weights or activations), else the loss that overflowed on finite features.
  const bool named = message.find("; first non-finite values in layer ") != std::string::npos ||
                     message.find("; first non-finite values in the softmax classifier of output 'output'") !=
                         std::string::npos ||
                     message.find("; first non-finite values in the verification loss of output 'output'") !=
                         std::string::npos;
  CHECK(named);
  CHECK(message.find("learning rate 1e+06") != std::string::npos);
  // Every checkpoint written holds finite weights (read_checkpoint refuses others).
  for (const auto& path : {o.checkpoint, tr::previous_checkpoint(o.checkpoint)})
    if (std::filesystem::exists(path))
      CHECK_NOTHROW(tr::read_checkpoint(path, o.architecture, dp::model<small_net>::param_count));
}

TEST_CASE("model: first_non_finite_layer finds the layer a bad weight poisons") {
  dp::model<small_net> m(dp::init::seed{3});
  const auto& data = patches().original;
  const std::size_t n = 4, layers = m.layers().size();
  m.forward(data.data(), n, dp::mode::training);
  CHECK(m.first_non_finite_layer() == layers);
  // An infinite weight in the second convolution: the layers before it stay finite.
  std::vector<std::string> weight_tensors;
  for (const auto& t : m.parameter_tensors())
    if (t.name.ends_with(".weight")) weight_tensors.push_back(t.name);
  REQUIRE(weight_tensors.size() >= 2);
  const std::string second = weight_tensors[1];
  const std::size_t layer = std::stoul(second.substr(0, second.find('.')));  // 1-based
  REQUIRE(layer > 1);
  auto weights = m.get_parameter(second);
  weights[0] = std::numeric_limits<float>::infinity();
  m.set_parameter(second, weights);
  m.forward(data.data(), n, dp::mode::training);
  CHECK(m.first_non_finite_layer() == layer - 1);
}
