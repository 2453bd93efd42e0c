// device_model against model: every layer kind's forward and backward, on
// the library's nets and on a net made to reach the rest (an unfused ReLU,
// padded and floor pooling, a strided padded locally connected layer).
//
// Built twice from this source: test_cuda_emulated links the kernels run on
// the CPU (emulated.cpp) and always runs; test_cuda_gpu links the nvcc-built
// kernels and exits 77 (skipped) with a message where no GPU is present.
//
// Tolerances: double, 1e-9 of the largest value compared (the sums run in
// another order than the CPU kernels'); float, 2e-4 of it.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deepid/backend/cuda.hpp>
#include <deepid/deepid.hpp>
#include <deepid/train/trainer.hpp>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "test_files.hpp"
#include "trainer_setup.hpp"

namespace dp = deepid;
namespace cu = deepid::cuda;

namespace {

template <class T>
double tolerance() {
  return std::is_same_v<T, double> ? 1e-9 : 2e-4;
}

template <class T>
std::vector<T> random_values(std::size_t count, std::uint64_t seed, double scale = 1.0) {
  dp::rng gen(seed);
  std::vector<T> v(count);
  for (auto& x : v) x = T(gen.normal() * scale);
  return v;
}

// Largest |a - b| against tolerance x largest |a|; reports where.
template <class T>
void check_close(const T* expected, const T* actual, std::size_t count, const std::string& what) {
  double largest = 0, worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < count; ++i) {
    largest = std::max(largest, std::abs(double(expected[i])));
    const double d = std::abs(double(expected[i]) - double(actual[i]));
    if (!(d <= worst)) worst = d, at = i;
  }
  INFO(what << ": largest difference " << worst << " at " << at << " of " << count << " (values up to " << largest
            << ")");
  CHECK(worst <= tolerance<T>() * std::max(largest, 1e-30));
}

// One training step's forward and backward on both, compared output by
// output, layer by layer (parameter gradients) and at the input.
template <class Net, class T>
void compare(std::size_t n, dp::mode m, std::uint64_t seed) {
  using host = dp::model<Net, T>;
  host cpu(dp::init::seed{seed});
  cu::device_model<Net, T> gpu(dp::init::seed{seed});
  const auto start = gpu.parameters();
  CHECK(std::equal(start.begin(), start.end(), std::as_const(cpu).parameters().begin()));

  const auto x = random_values<T>(n * host::input_shape.size(), seed + 1);
  cpu.set_random_stream(seed + 2);
  gpu.set_random_stream(seed + 2);
  cpu.forward(x.data(), n, m, dp::head_pass::run);
  gpu.forward(x.data(), n, m, dp::head_pass::run);

  std::array<const T*, host::output_count> douts{};
  std::array<std::vector<T>, host::output_count> dout_values;
  for (std::size_t k = 0; k < host::output_count; ++k) {
    const std::size_t size = n * host::output_shape_of(k).size();
    check_close(cpu.output(k), gpu.output(k), size, "output " + std::string(host::output_name(k)));
    dout_values[k] = random_values<T>(size, seed + 10 + k);
    douts[k] = dout_values[k].data();
  }
  std::vector<T> cpu_dinput(x.size()), gpu_dinput(x.size());
  cpu.backward_outputs(douts, cpu_dinput.data());
  std::size_t ready_calls = 0;
  gpu.backward_outputs(douts, gpu_dinput.data(), [&](std::size_t from) { ready_calls += from == 0; });
  CHECK(ready_calls == 1);

  const auto grads = gpu.gradients();
  std::size_t offset = 0;
  for (const auto& layer : cpu.layers()) {
    if (layer.params > 0)
      check_close(cpu.gradients().data() + offset, grads.data() + offset, layer.params,
                  "parameter gradients of layer " + std::to_string(layer.index) + " " + layer.name);
    offset += layer.params;
  }
  check_close(cpu_dinput.data(), gpu_dinput.data(), x.size(), "input gradient");

  // Buffers released, then grown again for a smaller batch; inference.
  gpu.release_buffers();
  const std::size_t fewer = n > 1 ? n - 1 : 1, last = host::output_count - 1;
  cpu.forward(x.data(), fewer, dp::mode::inference);
  gpu.forward(x.data(), fewer, dp::mode::inference);
  check_close(cpu.output(last), gpu.output(last), fewer * host::output_shape_of(last).size(),
              "main output after release_buffers");
}

// A stand-in for the ranks of a data-parallel run: one rank whose sums
// double every value, as two ranks holding the same values would. The
// trainer then sums the gradients in host memory, so a device_model's step
// must take them from there.
struct doubling_ranks final : deepid::train::rank_group {
  std::size_t rank() const override { return 0; }
  std::size_t size() const override { return 1; }
  void sum(std::span<float> values) override {
    for (auto& v : values) v *= 2;
  }
  void sum(std::span<double> values) override {
    for (auto& v : values) v *= 2;
  }
  void broadcast(std::span<float>, std::size_t) override {}
  void require_same(const std::string&, const std::string&) override {}
};

template <std::size_t C, std::size_t H, std::size_t W>
using patch = dp::patch_shape<C, H, W>;

// What the library's nets leave out: a ReLU after pooling (not fused), a
// padded 3x3 pool with stride 1, floor pooling, a strided padded locally
// connected layer, and a dense layer reading two taps.
using odd_net = dp::stack<dp::input<2, 13, 11>, dp::conv<4, 3, 1, 1>, dp::max_pool<3, 1, 1>, dp::relu, dp::tap<"a">,
                          dp::max_pool<2, 2, 0, dp::rounding::floor>, dp::locally_connected<3, 3, 2, 1>, dp::relu,
                          dp::dropout<0.25>, dp::tap<"b">, dp::multi_scale_fc<5, "a", "b">>;

}  // namespace

TEST_CASE("the kernels' build") { MESSAGE("device: " << cu::device_description()); }

TEST_CASE("DeepID1 (locally shared conv3, locally connected conv4) matches the CPU model") {
  SUBCASE("double") { compare<dp::deepid1<patch<3, 39, 31>>, double>(3, dp::mode::training, 11); }
  SUBCASE("float") { compare<dp::deepid1<patch<3, 39, 31>>, float>(5, dp::mode::training, 12); }
  SUBCASE("ordinary convolutions, one sample") { compare<dp::deepid1_plain<patch<1, 31, 31>>, double>(1, dp::mode::inference, 13); }
}

TEST_CASE("DeepID2+ (heads after every stage, dropout) matches the CPU model") {
  compare<dp::deepid2plus<patch<1, 31, 31>>, double>(4, dp::mode::training, 21);
  compare<dp::deepid2plus<patch<1, 31, 31>>, double>(2, dp::mode::inference, 22);
}

TEST_CASE("DeepID3 net2 (Inception modules) matches the CPU model") {
  compare<dp::deepid3_net2<patch<1, 47, 47>, dp::deepid3_reduced_widths>, double>(2, dp::mode::training, 31);
}

TEST_CASE("unfused ReLU, padded and floor pooling, strided padded locally connected layer") {
  compare<odd_net, double>(3, dp::mode::training, 41);
  compare<odd_net, float>(2, dp::mode::training, 42);
}

TEST_CASE("the trainer trains a device_model as it trains a model") {
  // DeepID2+ in miniature (heads, dropout), the joint signal, four SGD steps:
  // the losses and the classifiers' passes on the device (cuda::joint_signal),
  // the model's SGD steps on the device (device_model::descend), the margin
  // re-fits and the classifiers' steps on the host. Then the same four steps
  // as two, stopped with a checkpoint and resumed in a fresh device_model:
  // the momentum and parameters cross to the file and back.
  using net = deepid_test::headed_net;
  namespace tr = deepid::train;
  auto o = deepid_test::quick_options(1);
  o.architecture = "cuda-comparison";
  const auto& data = deepid_test::synthetic_patches();
  dp::model<net> cpu(dp::init::seed{3});
  cu::device_model<net> gpu(dp::init::seed{3});
  const std::vector<float> start(gpu.parameters().begin(), gpu.parameters().end());
  // `steps` batches on the CPU trainer and on the device one.
  const auto run_both = [&](auto& cpu_trainer, auto& gpu_trainer, long steps) {
    cpu_trainer.stop_after(steps);
    gpu_trainer.stop_after(steps);
    CHECK(cpu_trainer.fit(data).interrupted);
    CHECK(gpu_trainer.fit(data).interrupted);
  };
  tr::trainer<net> cpu_trainer(cpu, data.identities, o);
  tr::trainer<net, cu::device_model<net>> gpu_trainer(gpu, data.identities, o);
  run_both(cpu_trainer, gpu_trainer, 4);
  const auto cpu_params = std::as_const(cpu).parameters();
  const auto gpu_params = std::as_const(gpu).parameters();
  CHECK_FALSE(std::equal(start.begin(), start.end(), gpu_params.begin()));  // it trained
  check_close(cpu_params.data(), gpu_params.data(), cpu_params.size(), "parameters after four steps");
  for (std::size_t k = 0; k < dp::model<net>::output_count; ++k) {
    const auto a = cpu_trainer.classifier(k).parameters(), b = gpu_trainer.classifier(k).parameters();
    check_close(a.data(), b.data(), a.size(), "classifier of output " + std::string(dp::model<net>::output_name(k)));
  }
  CHECK(cpu_trainer.margin() == doctest::Approx(gpu_trainer.margin()).epsilon(1e-4));
  // The device copy of the parameters is the host one.
  gpu.pull_parameters();
  const auto pulled = std::as_const(gpu).parameters();
  check_close(cpu_params.data(), pulled.data(), pulled.size(), "parameters read back from the device");

  const auto dir = deepid_test::scratch_folder("cuda")("trainer_resume");
  o.checkpoint = dir / "run.ckpt";
  {
    cu::device_model<net> first(dp::init::seed{3});
    tr::trainer<net, cu::device_model<net>> t(first, data.identities, o);
    t.stop_after(2);
    CHECK(t.fit(data).interrupted);
  }
  cu::device_model<net> resumed(dp::init::seed{77});  // the checkpoint replaces these
  tr::trainer<net, cu::device_model<net>> t(resumed, data.identities, o);
  t.resume(o.checkpoint);
  t.stop_after(2);
  CHECK(t.fit(data).interrupted);
  const auto resumed_params = std::as_const(resumed).parameters();
  check_close(cpu_params.data(), resumed_params.data(), resumed_params.size(),
              "parameters after two steps, a checkpoint and two more");

  // Gradients summed over (stand-in) ranks on the host, then stepped on the device.
  o.checkpoint.clear();
  o.ranks = std::make_shared<doubling_ranks>();
  dp::model<net> cpu_ranked(dp::init::seed{3});
  cu::device_model<net> gpu_ranked(dp::init::seed{3});
  tr::trainer<net> cpu_ranked_trainer(cpu_ranked, data.identities, o);
  tr::trainer<net, cu::device_model<net>> gpu_ranked_trainer(gpu_ranked, data.identities, o);
  run_both(cpu_ranked_trainer, gpu_ranked_trainer, 2);
  const auto a = std::as_const(cpu_ranked).parameters(), b = std::as_const(gpu_ranked).parameters();
  check_close(a.data(), b.data(), a.size(), "parameters after two steps with gradients summed on the host");
}

// The joint signal's arithmetic on device features against the host's, for
// one verification loss: identification (loss, hits, d/df, the classifier's
// gradients), pair distances, pair losses (margins put half the different
// pairs inside, just), the cosine form's d/dw, d/db, and the combined gradient.
template <class T>
void compare_signal(dp::loss::verification_kind kind) {
  INFO("verification loss " << dp::loss::verification_name(kind) << (std::is_same_v<T, float> ? ", float" : ", double"));
  constexpr std::size_t m = 6, dim = 9, classes = 5, n = 2 * m, batch = n + 4;  // a rank's share of a larger batch
  auto f = random_values<T>(n * dim, 41, 0.7);
  std::fill_n(f.begin(), dim, T(0));  // row 0: every logit is the bias, 0: a tie, won by the first class
  const std::vector<std::int32_t> labels{0, 1, 2, 3, 4, 0, 0, 2, 2, 1, 4, 3};
  const std::vector<unsigned char> same{1, 0, 0, 1, 0, 0};
  dp::softmax_classifier<T> classifier(dim, classes, 7);
  cu::device_buffer<T> features(f.size());
  features.upload(f);
  dp::train::host_joint_signal<T> host;
  cu::joint_signal<T> device;

  std::size_t host_correct = 0, device_correct = 0;
  const double host_ident = host.identification(classifier, f.data(), labels, &host_correct, batch);
  const double device_ident = device.identification(classifier, features.data(), labels, &device_correct, batch);
  CHECK(device_ident == doctest::Approx(host_ident).epsilon(tolerance<T>()));
  CHECK(device_correct == host_correct);
  const auto hg = host.classifier_gradients(classifier), dg = device.classifier_gradients(classifier);
  REQUIRE(dg.size() == hg.size());
  check_close(hg.data(), dg.data(), hg.size(), "classifier gradients");

  std::vector<double> host_measures(m), device_measures(m);
  host.measures(kind, f.data(), m, dim, host_measures.data());
  device.measures(kind, features.data(), m, dim, device_measures.data());
  check_close(host_measures.data(), device_measures.data(), m, "pair measures");
  std::vector<double> margins(m);
  for (std::size_t k = 0; k < m; ++k) margins[k] = host_measures[k] * (k % 2 ? 1.05 : 0.95);
  double host_dw = 0.5, host_db = -0.25, device_dw = 0.5, device_db = -0.25;  // added to
  const double host_verif =
      host.verification(kind, f.data(), m, dim, same, margins, 3.0, -1.0, host_dw, host_db);
  const double device_verif =
      device.verification(kind, features.data(), m, dim, same, margins, 3.0, -1.0, device_dw, device_db);
  CHECK(host_verif > 0);
  CHECK(device_verif == doctest::Approx(host_verif).epsilon(tolerance<T>()));
  CHECK(device_dw == doctest::Approx(host_dw).epsilon(tolerance<T>()));
  CHECK(device_db == doctest::Approx(host_db).epsilon(tolerance<T>()));

  const T* host_gradient = host.joint_gradient(0.75, 0.3);
  cu::device_buffer<T> device_gradient(n * dim);
  dp::cuda::copy_on_device(device_gradient.data(), device.joint_gradient(0.75, 0.3), n * dim * sizeof(T));
  const std::vector<T> gradient = device_gradient.to_host();
  check_close(host_gradient, gradient.data(), n * dim, "joint gradient");
}

TEST_CASE("the joint signal's kernels compute what the host computes") {
  namespace ls = dp::loss;
  for (auto kind : {ls::verification_kind::l2, ls::verification_kind::l2_pos, ls::verification_kind::l2_neg,
                    ls::verification_kind::l1, ls::verification_kind::cosine}) {
    compare_signal<double>(kind);
    compare_signal<float>(kind);
  }
}

TEST_CASE("the device model refuses what the CPU model refuses") {
  using net = dp::deepid2plus<patch<1, 31, 31>>;
  cu::device_model<net, double> gpu;
  std::vector<double> wrong(3);
  CHECK_THROWS_WITH_AS(gpu.set_parameters(wrong), doctest::Contains("3 values"), dp::error);
  CHECK_THROWS_WITH_AS(gpu.backward_outputs({}), doctest::Contains("no forward pass"), dp::error);
  const auto x = random_values<double>(2 * 31 * 31, 5);
  gpu.forward(x.data(), 2, dp::mode::inference, dp::head_pass::skip);
  CHECK_THROWS_WITH_AS(gpu.output(0), doctest::Contains("skipped the heads"), dp::error);
  std::array<const double*, decltype(gpu)::output_count> d{};
  d[0] = gpu.output(decltype(gpu)::output_count - 1);  // any values: refused before they are read
  CHECK_THROWS_WITH_AS(gpu.backward_outputs(d), doctest::Contains("skipped the heads"), dp::error);
  gpu.set_random_stream(1, std::vector<std::size_t>{0, 1, 2});
  CHECK_THROWS_WITH_AS(gpu.forward(x.data(), 2, dp::mode::training, dp::head_pass::run),
                       doctest::Contains("sample numbers"), dp::error);
}

int main(int argc, char** argv) {
  if (cu::device_count() == 0) {
    std::fprintf(stderr, "SKIPPED: %s: the GPU comparison did not run\n",
                 cu::device_description().c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
