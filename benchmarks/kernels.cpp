// Google Benchmark for deepid's kernels on the layers of DeepID1 39x31x3:
// each convolution forward (alone, and with its 2x2 max pool in the epilogue
// as inference runs it) and backward (ordinary, locally shared, locally
// connected), pooling, the DeepID layer, the 10,000-way classifier and its
// softmax cross-entropy; and two DeepID3 layers that run on the direct
// convolution kernels.
// Arguments: batch, threads. Counter GFLOP/s = 2 x multiply-adds per second
// (backward: d(weights) plus d(input) where computed).
//
//   bench_kernels --benchmark_filter=conv2 --benchmark_repetitions=5
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <deepid/core/buffer.hpp>
#include <deepid/core/threads.hpp>
#include <deepid/kernels/banked_conv.hpp>
#include <deepid/kernels/dense.hpp>
#include <deepid/kernels/pool.hpp>
#include <deepid/kernels/softmax.hpp>

namespace dp = deepid;
namespace k = deepid::kernels;

namespace {

dp::buffer<float> random_buffer(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  dp::buffer<float> b(n);
  for (auto& v : b) v = dist(gen);
  return b;
}

void set_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples/s"] = benchmark::Counter(double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}

// DeepID1 39x31x3 geometries: input map, kernel, stride, pad, maps, region grid.
constexpr k::conv_geometry conv1{3, 39, 31, 4, 1, 0, 20, 1, 1};
constexpr k::conv_geometry conv2{20, 18, 14, 3, 1, 0, 40, 1, 1};
constexpr k::conv_geometry conv3{40, 8, 6, 3, 1, 0, 60, 1, 1};
constexpr k::conv_geometry conv3_shared{40, 8, 6, 3, 1, 0, 60, 2, 2};
constexpr k::conv_geometry conv4{60, 3, 2, 2, 1, 0, 80, 1, 1};
constexpr k::conv_geometry conv4_local{60, 3, 2, 2, 1, 0, 80, 2, 1};
// DeepID3 layers on the direct kernels (the 3x3 layers with 16 or more input
// channels run on Winograd's): net1's first layer on a 47x47 RGB patch, and
// the 5x5 branch of net2's paper-width Inception modules at pool2's 11x11.
constexpr k::conv_geometry deepid3_conv1{3, 47, 47, 3, 1, 1, 64, 1, 1};
constexpr k::conv_geometry deepid3_inception_5x5{12, 11, 11, 5, 1, 2, 24, 1, 1};

template <k::conv_geometry G>
void conv_forward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto in = random_buffer(n * G.in_size(), 1);
  const auto w = random_buffer(G.weight_count(), 2, -0.1f, 0.1f), b = random_buffer(G.banks() * G.cout, 3);
  dp::buffer<float> out(n * G.out_size());
  k::conv_workspace<float> ws;
  k::packed_conv_weights<float> packed;
  k::pack_conv_weights(G, w.data(), b.data(), packed);
  for (auto _ : state) {
    k::conv_forward<float, G, true>(in.data(), out.data(), n, packed, ws);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, 2.0 * double(G.multiply_adds()) * double(n));
}

// conv + ReLU + 2x2 max pool in registers (what inference runs).
template <k::conv_geometry G>
void conv_forward_pooled(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto in = random_buffer(n * G.in_size(), 1);
  const auto w = random_buffer(G.weight_count(), 2, -0.1f, 0.1f), b = random_buffer(G.banks() * G.cout, 3);
  dp::buffer<float> out(n * G.out_size() / 4);
  k::conv_workspace<float> ws;
  k::packed_conv_weights<float> packed;
  k::pack_conv_weights(G, w.data(), b.data(), packed);
  for (auto _ : state) {
    k::conv_forward_pooled<float, G, true, 2>(in.data(), out.data(), n, packed, ws);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, 2.0 * double(G.multiply_adds()) * double(n));
}

// Backward of conv + ReLU; conv1 never needs d(input) (it reads the image).
template <k::conv_geometry G, bool InputGradient>
void conv_backward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto in = random_buffer(n * G.in_size(), 1), dout = random_buffer(n * G.out_size(), 4);
  const auto w = random_buffer(G.weight_count(), 2, -0.1f, 0.1f), b = random_buffer(G.banks() * G.cout, 3);
  dp::buffer<float> out(n * G.out_size()), din(n * G.in_size()), dw(G.weight_count()), db(G.banks() * G.cout);
  k::conv_workspace<float> ws;
  k::packed_conv_weights<float> packed;
  k::pack_conv_weights(G, w.data(), b.data(), packed);
  k::conv_forward<float, G, true>(in.data(), out.data(), n, packed, ws);
  // One pass first, so that the timed ones find the workspace allocated and
  // its pages mapped (a large layer may run only a few timed passes).
  k::conv_backward<float, G, true>(in.data(), out.data(), dout.data(), InputGradient ? din.data() : nullptr, n,
                                   w.data(), dw.data(), db.data(), ws);
  for (auto _ : state) {
    k::conv_backward<float, G, true>(in.data(), out.data(), dout.data(), InputGradient ? din.data() : nullptr, n,
                                     w.data(), dw.data(), db.data(), ws);
    benchmark::DoNotOptimize(dw.data());
  }
  set_counters(state, (InputGradient ? 4.0 : 2.0) * double(G.multiply_adds()) * double(n));
}

template <std::size_t C, std::size_t H, std::size_t W>
void pool_forward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto in = random_buffer(n * C * H * W, 5);
  dp::buffer<float> out(n * C * (H / 2) * (W / 2));
  for (auto _ : state) {
    k::max_pool_forward<float, C, H, W, 2, 2>(in.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, 0);
}

template <std::size_t C, std::size_t H, std::size_t W>
void pool_backward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto in = random_buffer(n * C * H * W, 5), dout = random_buffer(n * C * (H / 2) * (W / 2), 6);
  dp::buffer<float> din(n * C * H * W);
  for (auto _ : state) {
    k::max_pool_backward<float, C, H, W, 2, 2>(in.data(), dout.data(), din.data(), n);
    benchmark::DoNotOptimize(din.data());
  }
  set_counters(state, 0);
}

template <std::size_t In, std::size_t Out>
void dense_forward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto x = random_buffer(n * In, 7), w = random_buffer(In * Out, 8), b = random_buffer(Out, 9);
  dp::buffer<float> y(n * Out);
  for (auto _ : state) {
    k::dense_forward(In, Out, x.data(), y.data(), n, w.data(), b.data(), false);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, 2.0 * In * Out * double(n));
}

template <std::size_t In, std::size_t Out>
void dense_backward(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0));
  dp::set_num_threads(int(state.range(1)));
  const auto x = random_buffer(n * In, 7), w = random_buffer(In * Out, 8), dz = random_buffer(n * Out, 9);
  dp::buffer<float> dx(n * In), dw(In * Out), db(Out);
  for (auto _ : state) {
    k::dense_backward(In, Out, x.data(), dz.data(), dx.data(), n, w.data(), dw.data(), db.data());
    benchmark::DoNotOptimize(dw.data());
  }
  set_counters(state, 4.0 * In * Out * double(n));
}

void softmax_cross_entropy(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), classes = 10000;
  dp::set_num_threads(int(state.range(1)));
  const auto logits = random_buffer(n * classes, 10, -5.f, 5.f);
  std::vector<std::int32_t> labels(n);
  for (std::size_t s = 0; s < n; ++s) labels[s] = std::int32_t((s * 7919) % classes);
  dp::buffer<float> dlogits(n * classes);
  for (auto _ : state)
    benchmark::DoNotOptimize(k::softmax_cross_entropy_rows(logits.data(), labels.data(), n, classes, dlogits.data(),
                                                           static_cast<unsigned char*>(nullptr)));
  set_counters(state, 0);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int batch : {1, 128}) b->Args({batch, threads});
  b->ArgNames({"batch", "threads"})->UseRealTime();
}
void training_shapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) b->Args({128, threads});
  b->ArgNames({"batch", "threads"})->UseRealTime();
}

}  // namespace

BENCHMARK(conv_forward<conv1>)->Name("conv1_forward")->Apply(shapes);
BENCHMARK(conv_forward<conv2>)->Name("conv2_forward")->Apply(shapes);
BENCHMARK(conv_forward<conv3>)->Name("conv3_forward")->Apply(shapes);
BENCHMARK(conv_forward<conv3_shared>)->Name("conv3_locally_shared_forward")->Apply(shapes);
BENCHMARK(conv_forward<conv4>)->Name("conv4_forward")->Apply(shapes);
BENCHMARK(conv_forward<conv4_local>)->Name("conv4_locally_connected_forward")->Apply(shapes);
BENCHMARK(conv_forward<deepid3_conv1>)->Name("deepid3_conv1_forward")->Apply(shapes);
BENCHMARK(conv_forward<deepid3_inception_5x5>)->Name("deepid3_inception_5x5_forward")->Apply(shapes);

BENCHMARK(conv_forward_pooled<conv1>)->Name("conv1_pool1_forward")->Apply(shapes);
BENCHMARK(conv_forward_pooled<conv2>)->Name("conv2_pool2_forward")->Apply(shapes);
BENCHMARK(conv_forward_pooled<conv3>)->Name("conv3_pool3_forward")->Apply(shapes);

BENCHMARK(conv_backward<conv1, false>)->Name("conv1_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<conv2, true>)->Name("conv2_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<conv3, true>)->Name("conv3_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<conv3_shared, true>)->Name("conv3_locally_shared_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<conv4, true>)->Name("conv4_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<conv4_local, true>)->Name("conv4_locally_connected_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<deepid3_conv1, false>)->Name("deepid3_conv1_backward")->Apply(training_shapes);
BENCHMARK(conv_backward<deepid3_inception_5x5, true>)->Name("deepid3_inception_5x5_backward")->Apply(training_shapes);

BENCHMARK(pool_forward<20, 36, 28>)->Name("pool1_forward")->Apply(shapes);
BENCHMARK(pool_forward<40, 16, 12>)->Name("pool2_forward")->Apply(shapes);
BENCHMARK(pool_forward<60, 6, 4>)->Name("pool3_forward")->Apply(shapes);
BENCHMARK(pool_backward<20, 36, 28>)->Name("pool1_backward")->Apply(training_shapes);
BENCHMARK(pool_backward<40, 16, 12>)->Name("pool2_backward")->Apply(training_shapes);

BENCHMARK(dense_forward<520, 160>)->Name("deepid_layer_forward")->Apply(shapes);
BENCHMARK(dense_backward<520, 160>)->Name("deepid_layer_backward")->Apply(training_shapes);
BENCHMARK(dense_forward<160, 10000>)->Name("classifier_forward")->Apply(training_shapes);
BENCHMARK(dense_backward<160, 10000>)->Name("classifier_backward")->Apply(training_shapes);
BENCHMARK(softmax_cross_entropy)->Name("softmax_cross_entropy_10000")->Apply(training_shapes);

BENCHMARK_MAIN();
