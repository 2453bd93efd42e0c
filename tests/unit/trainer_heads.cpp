// The trainer on a net with supervision heads (the DeepID2+ way): the joint
// signal on every output, its gradient against finite differences through
// the shared trunk, learning on synthetic identities, bitwise resume with
// dropout, output weights and their decay, and checkpoints that name the
// heads they hold.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>
#include <deepid/train/trainer.hpp>

#include "test_files.hpp"
#include "trainer_setup.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

namespace dp = deepid;
namespace fc = deepid::face;
namespace tr = deepid::train;

namespace {
using deepid_test::headed_net;
using headed_model = dp::model<headed_net>;
static_assert(headed_model::output_count == 3 && headed_model::head_count == 2);

const tr::identity_patches& patches() { return deepid_test::synthetic_patches(); }
const deepid_test::scratch_folder scratch{"trainer_heads"};

tr::options headed_options(int epochs) {
  auto o = deepid_test::quick_options(epochs);
  o.architecture = "headed-test-net";
  return o;
}

std::vector<float> train_once(const tr::options& o, int threads) {
  return deepid_test::trained_weights<headed_net>(o, threads);
}
}  // namespace

namespace {
// A batch of `pairs` pairs from the synthetic patches, odd pairs of one identity.
struct probe_batch {
  std::vector<float> input;
  std::vector<std::int32_t> labels;
  std::vector<bool> same;
};
probe_batch make_probe_batch(std::size_t pairs) {
  constexpr std::size_t sample = headed_model::input_shape.size();
  probe_batch b{std::vector<float>(2 * pairs * sample), std::vector<std::int32_t>(2 * pairs), std::vector<bool>(pairs)};
  for (std::size_t k = 0; k < pairs; ++k) {
    const std::size_t a = 10 * k, p = k % 2 ? a + 1 : a + 13;
    std::copy_n(patches().original.data() + a * sample, sample, b.input.data() + k * sample);
    std::copy_n(patches().original.data() + p * sample, sample, b.input.data() + (pairs + k) * sample);
    b.labels[k] = patches().labels[a];
    b.labels[pairs + k] = patches().labels[p];
    b.same[k] = b.labels[k] == b.labels[pairs + k];
  }
  return b;
}
}  // namespace

TEST_CASE("trainer with heads: the trunk's gradient is the weighted sum of every output's") {
  // Each output's own gradient through the net is checked against finite
  // differences in deeper_nets.cpp (double precision); here the trainer's
  // combination of them: one trainer per output alone (weight 1 there, 0
  // elsewhere) against one with all weights.
  const auto batch = make_probe_batch(6);
  const std::vector<double> weights{0.5, 2.0, 1.0};
  const auto gradients = [&](std::vector<double> w) {
    headed_model m(dp::init::seed{5});
    auto o = headed_options(1);
    o.output_weights = std::move(w);
    tr::trainer<headed_net> t(m, patches().identities, o);
    const double loss = t.batch_loss(batch.input.data(), batch.labels, batch.same, 0.5, 0, 77);
    return std::pair{loss, std::vector<float>(m.gradients().begin(), m.gradients().end())};
  };
  const auto [total_loss, total] = gradients(weights);
  std::vector<double> sum(total.size(), 0.0);
  double loss_sum = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    std::vector<double> alone(3, 0.0);
    alone[k] = 1.0;
    const auto [loss, g] = gradients(alone);
    CHECK(loss > 0);
    loss_sum += weights[k] * loss;
    for (std::size_t i = 0; i < g.size(); ++i) sum[i] += weights[k] * g[i];
  }
  CHECK(total_loss == doctest::Approx(loss_sum).epsilon(1e-6));
  // conv1's parameters come first; every output's gradient flows into them.
  double largest = 0, error = 0, conv1 = 0;
  for (std::size_t i = 0; i < total.size(); ++i) {
    largest = std::max(largest, std::abs(sum[i]));
    error = std::max(error, std::abs(double(total[i]) - sum[i]));
  }
  for (std::size_t i = 0; i < 8 * 16 + 8; ++i) conv1 += std::abs(total[i]);
  CHECK(conv1 > 0);
  CHECK(error <= 1e-5 * largest);
}

TEST_CASE("trainer with heads: the loss's gradient matches finite differences on the heads and the feature layer") {
  headed_model m(dp::init::seed{5});
  auto o = headed_options(1);
  o.margin_window = 1u << 20;  // no margin re-fit while the loss is probed
  o.output_weights = {0.5, 2.0, 1.0};
  tr::trainer<headed_net> t(m, patches().identities, o);
  const auto [input, labels, same] = make_probe_batch(6);
  const double lambda = 0.5;
  const std::uint64_t key = 77;
  t.batch_loss(input.data(), labels, same, lambda, 0, key);
  const std::vector<float> grads(m.gradients().begin(), m.gradients().end());
  // Parameters of fc1's and fc2's heads, of conv4 and of the feature layer
  // (float finite differences on conv1 straddle too many ReLU kinks).
  std::size_t checked = 0, agreeing = 0, offset = 0;
  for (const auto& layer : m.layers()) {
    const std::size_t first = offset;
    offset += layer.params;
    const bool wanted = layer.head == "fc1" || layer.head == "fc2" || layer.name.find("multi_scale") == 0 ||
                        layer.name.find("locally_connected") == 0;
    if (!wanted || layer.params == 0) continue;
    for (std::size_t i = 0; i < layer.params; i += std::max<std::size_t>(1, layer.params / 12)) {
      const std::size_t at = first + i;
      if (std::abs(grads[at]) < 1e-3) continue;
      const float keep = m.parameters()[at];
      const float h = 2e-3f * std::max(1.0f, std::abs(keep));
      m.parameters()[at] = keep + h;
      const double up = t.batch_loss(input.data(), labels, same, lambda, 0, key);
      m.parameters()[at] = keep - h;
      const double down = t.batch_loss(input.data(), labels, same, lambda, 0, key);
      m.parameters()[at] = keep;
      const double numeric = (up - down) / (2.0 * double(h));
      ++checked;
      const bool agrees = std::abs(numeric - grads[at]) <= 0.03 * std::abs(grads[at]) + 2e-4;
      agreeing += agrees;
      if (!agrees) MESSAGE(layer.name << " [" << i << "]: analytic " << grads[at] << ", numeric " << numeric);
    }
  }
  REQUIRE(offset == headed_model::param_count);
  REQUIRE(checked >= 20);
  // Float sums and ReLU kinks: a probe may straddle a kink.
  CHECK(agreeing >= checked * 9 / 10);
}

TEST_CASE("trainer with heads: every output learns synthetic identities") {
  headed_model m(dp::init::seed{3});
  tr::trainer<headed_net> t(m, patches().identities, headed_options(8));
  const auto r = t.fit(patches());
  REQUIRE(r.epochs.size() == 8);
  REQUIRE(r.epochs.back().heads.size() == 2);
  // 12 identities: chance is 91.7% top-1 error.
  CHECK(r.best_validation_error < 0.6);
  for (std::size_t k = 0; k < 2; ++k) {
    INFO("head " << headed_model::output_name(k));
    CHECK(r.epochs.back().heads[k].ident_loss < r.epochs.front().heads[k].ident_loss);
    CHECK(r.epochs.back().heads[k].validation_error < 0.75);
    CHECK(r.epochs.back().heads[k].verif_loss > 0);
  }
  CHECK(t.margin(0) != t.margin(2));  // each output has its own margin
}

TEST_CASE("trainer with heads: output weights and their decay") {
  headed_model m;
  auto o = headed_options(1);
  o.output_weights = {0.5, 0.25, 2.0};
  o.head_decay = 0.5;
  tr::trainer<headed_net> t(m, patches().identities, o);
  CHECK(t.output_weight(0, 0) == 0.5);
  CHECK(t.output_weight(1, 2) == 0.25 * 0.25);
  CHECK(t.output_weight(2, 3) == 2.0);  // the main output does not decay
  o.output_weights = {1.0, 1.0};
  CHECK_THROWS_WITH(tr::trainer<headed_net>(m, patches().identities, o), doctest::Contains("2 output weights"));
  o.output_weights = {1.0, -1.0, 1.0};
  CHECK_THROWS_WITH(tr::trainer<headed_net>(m, patches().identities, o), doctest::Contains("negative"));
}

TEST_CASE("trainer with heads: a resumed run ends bitwise where an uninterrupted one does, dropout included") {
  const auto dir = scratch("resume");
  const auto uninterrupted = train_once(headed_options(3), 2);
  CHECK(train_once(headed_options(3), 1) == uninterrupted);

  auto o = headed_options(3);
  o.checkpoint = dir / "run.ckpt";
  o.csv_log = dir / "run.csv";
  o.stop_after_batches = 9;  // mid-way through the second epoch (6 batches per epoch)
  {
    headed_model m(dp::init::seed{3});
    tr::trainer<headed_net> t(m, patches().identities, o);
    CHECK(t.fit(patches()).interrupted);
  }
  o.stop_after_batches = -1;
  headed_model m(dp::init::seed{99});
  tr::trainer<headed_net> t(m, patches().identities, o);
  t.resume(o.checkpoint);
  const auto r = t.fit(patches());
  CHECK(r.epochs.size() == 3);
  CHECK(r.epochs.front().heads.size() == 2);  // the first epoch's head figures came from the checkpoint
  CHECK(std::vector<float>(m.parameters().begin(), m.parameters().end()) == uninterrupted);
  {
    std::ifstream csv(o.csv_log);
    std::string header;
    std::getline(csv, header);
    CHECK(header.find("fc1_validation_top1_error") != std::string::npos);
    CHECK(header.find("fc2_margin") != std::string::npos);
  }

  SUBCASE("a checkpoint of another head layout is refused") {
    using single = dp::stack<dp::input<1, 31, 31>, dp::conv<8, 4>, dp::relu, dp::max_pool<2>, dp::fully_connected<16>,
                             dp::relu>;
    auto so = headed_options(1);
    so.checkpoint = dir / "single.ckpt";
    so.stop_after_batches = 1;
    dp::model<single> sm;
    tr::trainer<single> st(sm, patches().identities, so);
    st.fit(patches());
    // Same architecture name, so the parameter count decides first.
    CHECK_THROWS_WITH(t.resume(so.checkpoint), doctest::Contains("single.ckpt: written for 'headed-test-net'"));
  }
}
