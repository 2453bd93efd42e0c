// How much of a data-parallel step's gradient sum the backward pass can hide,
// on paper, from a measured step (docs/performance.md, "Training across
// processes"). One process times a DeepID2+ training step (forward with the
// heads, four 10,000-way softmax classifiers, backward) at each machine's
// share of a global batch, and notes when each piece of the gradients is
// final: the classifiers' before the backward pass, the net's in the pieces
// the trainer sums (train::options::overlap_sum_floats), from the last layer
// down. Then, for N machines on a network of given bandwidth and latency, it
// schedules one ring all-reduce per piece, each starting when its piece is
// final and the one before it is done (the trainer's order), and prints the
// step with the sum after the backward pass and with the sums overlapped.
//
// Assumes the network moves a sum while the cores compute (a NIC, or a core
// left free for MPI's progress): on one 2-core machine, ranks sharing its
// cores, that does not hold.
//
// usage: bench_sum_overlap [--gbits 10] [--latency-us 50] [--rounds 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <deepid/deepid.hpp>

namespace dp = deepid;

namespace {

using clock_type = std::chrono::steady_clock;
using net = dp::deepid2plus<dp::patch_shape<3, 55, 47>>;
using model_type = dp::model<net>;
constexpr std::size_t identities = 10'000;
const std::size_t piece_floats = dp::train::options{}.overlap_sum_floats;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// A piece of the gradients: its size and when (seconds into the step) it is final.
struct piece {
  std::size_t floats;
  double ready;
};

struct step_timeline {
  std::size_t samples = 0;
  double backward_end = 0;  // the step's compute, seconds
  std::vector<piece> pieces;
};

// The fastest of `rounds` steps on `samples` samples (after one warm-up).
step_timeline measure(model_type& m, std::vector<dp::softmax_classifier<float>>& classifiers, std::size_t samples,
                      int rounds) {
  dp::rng gen(7);
  std::vector<float> x(samples * model_type::input_shape.size());
  for (auto& v : x) v = float(gen.normal());
  std::vector<std::int32_t> labels(samples);
  for (auto& l : labels) l = std::int32_t(gen.next() % identities);
  std::array<std::vector<float>, model_type::output_count> dfeat;
  step_timeline best;
  for (int round = 0; round <= rounds; ++round) {
    step_timeline t;
    t.samples = samples;
    const auto t0 = clock_type::now();
    m.forward(x.data(), samples, dp::mode::training, dp::head_pass::run);
    std::array<const float*, model_type::output_count> douts{};
    std::size_t classifier_floats = 0;
    for (std::size_t k = 0; k < model_type::output_count; ++k) {
      dfeat[k].resize(samples * classifiers[k].dim());
      classifiers[k].train_step(m.output(k), labels, dfeat[k].data());
      douts[k] = dfeat[k].data();
      classifier_floats += classifiers[k].parameters().size();
    }
    t.pieces.push_back({classifier_floats, seconds_since(t0)});
    std::size_t unsent = model_type::param_count;
    m.backward_outputs(douts, nullptr, [&](std::size_t final_from) {
      if (final_from >= unsent || unsent - final_from < piece_floats) return;
      t.pieces.push_back({unsent - final_from, seconds_since(t0)});
      unsent = final_from;
    });
    t.backward_end = seconds_since(t0);
    if (unsent > 0) t.pieces.push_back({unsent, t.backward_end});
    if (round > 0 && (best.samples == 0 || t.backward_end < best.backward_end)) best = t;
  }
  return best;
}

struct network {
  double bytes_per_second, latency;
  // One ring all-reduce of `floats` on n machines: 2 (n - 1) / n of the
  // values cross each link, in 2 (n - 1) messages.
  double all_reduce(std::size_t floats, std::size_t n) const {
    return 2.0 * double(n - 1) / double(n) * 4.0 * double(floats) / bytes_per_second + 2.0 * double(n - 1) * latency;
  }
};

// The step on n machines: the sums after the backward pass, and overlapped.
std::pair<double, double> step_seconds(const step_timeline& t, std::size_t n, const network& net) {
  std::size_t total = 0;
  double done = 0;
  for (const auto& p : t.pieces) {
    total += p.floats;
    done = std::max(done, p.ready) + net.all_reduce(p.floats, n);
  }
  return {t.backward_end + net.all_reduce(total, n), std::max(done, t.backward_end)};
}

}  // namespace

int main(int argc, char** argv) {
  double gbits = 10, latency_us = 50;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--gbits") gbits = std::atof(argv[i + 1]);
    else if (a == "--latency-us") latency_us = std::atof(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_sum_overlap [--gbits G] [--latency-us L] [--rounds R]\n");
      return 2;
    }
  }
  const network link{gbits * 1e9 / 8, latency_us * 1e-6};
  model_type m(dp::init::seed{1});
  std::vector<dp::softmax_classifier<float>> classifiers;
  for (std::size_t k = 0; k < model_type::output_count; ++k)
    classifiers.emplace_back(model_type::output_shape_of(k).size(), identities, 11 + k);

  std::printf("DeepID2+ 55x47x3, four %zu-way classifiers, %d threads; network %.0f Gbit/s, %.0f us per message;\n"
              "gradient pieces of at least %zu floats\n\n",
              identities, dp::num_threads(), gbits, latency_us, piece_floats);
  std::printf("| machines | global batch | samples per machine | compute per step | sum after backward | "
              "step, sum after | step, overlapped | overlapped / after | speed-up over 1 machine, after | "
              "overlapped |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t batch : {128, 1024}) {
    const double one = measure(m, classifiers, batch, rounds).backward_end;
    for (std::size_t n : {8, 64}) {
      const auto t = measure(m, classifiers, batch / n, rounds);
      const auto [after, overlapped] = step_seconds(t, n, link);
      std::printf("| %zu | %zu | %zu | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.2fx | %.2fx | %.2fx |\n", n, batch,
                  batch / n, t.backward_end * 1e3, (after - t.backward_end) * 1e3, after * 1e3, overlapped * 1e3,
                  after / overlapped, one / after, one / overlapped);
    }
  }
  // Where the pieces of one step become final (the share of 8 machines at B = 1024).
  const auto t = measure(m, classifiers, 128, rounds);
  std::printf("\nPieces at %zu samples (compute %.0f ms):", t.samples, t.backward_end * 1e3);
  for (const auto& p : t.pieces) std::printf(" %.1fM floats at %.0f ms;", double(p.floats) / 1e6, p.ready * 1e3);
  std::printf("\n");
}
