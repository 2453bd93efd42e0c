// Data-parallel training on MPI (distributed/mpi.hpp), run under mpirun by
// tests/mpi/suite.cmake. One program, one job per invocation:
//
//   data_parallel equal                 N ranks train a small DeepID2+-shaped net
//                                       (heads, dropout) for two epochs, the
//                                       gradients summed at once and in pieces
//                                       during the backward pass; rank 0 trains
//                                       it alone too and compares
//   data_parallel part CKPT BATCHES     N ranks train BATCHES batches into CKPT
//   data_parallel resume CKPT           N ranks finish the run from CKPT (written
//                                       with another N) and compare as `equal`
//   data_parallel mismatch              rank 1 has another seed: every rank must fail
//   data_parallel die                   rank 1 is killed after two batches
//   data_parallel hang                  rank 1 stops answering after two batches;
//                                       the others' 5 s time limit must end the job
//
// Prints one line per check; exits 1 when one fails.
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <deepid/distributed/mpi.hpp>

#include "trainer_setup.hpp"

namespace dp = deepid;
namespace tr = deepid::train;

namespace {

using deepid_test::headed_net;

// Relative tolerance of a data-parallel run against one process: the ranks
// add the gradient terms in another order, and two epochs of SGD carry the
// float rounding forward. Measured: 6e-8 to 1e-7 on 2 and 3 ranks; without
// the gradient sum, or with every rank drawing dropout masks as if its share
// were a whole batch, the difference is orders of magnitude larger.
constexpr double tolerance = 1e-6;

tr::options run_options(dp::loss::verification_kind kind) {
  tr::options o = deepid_test::quick_options(2);
  o.verification = kind;
  o.architecture = "headed_net";
  return o;
}

std::vector<float> train(tr::options o, const std::filesystem::path& resume = {}) {
  dp::model<headed_net> m(dp::init::seed{3});
  tr::trainer<headed_net> t(m, deepid_test::synthetic_patches().identities, o);
  if (!resume.empty()) t.resume(resume);
  t.fit(deepid_test::synthetic_patches());
  return {m.parameters().begin(), m.parameters().end()};
}

// The model's parameters and the classifiers' (one per output, 12 identities).
std::size_t parameter_count() {
  using m = dp::model<headed_net>;
  std::size_t n = m::param_count;
  for (std::size_t k = 0; k < m::output_count; ++k) n += (m::output_shape_of(k).size() + 1) * 12;
  return n;
}

int failures = 0;

void report(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

// Largest |a - b| over the largest |b|.
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// Every rank must hold bitwise the same weights: their checksums summed
// over the ranks equal N times rank 0's.
bool same_on_every_rank(dp::distributed::mpi_ranks& ranks, const std::vector<float>& w) {
  const std::uint64_t h = dp::io::fnv1a(reinterpret_cast<const std::uint8_t*>(w.data()), w.size() * sizeof(float));
  std::vector<double> mine(ranks.size(), 0.0);
  mine[ranks.rank()] = double(h >> 11);  // exact in a double
  ranks.sum(mine);
  return std::all_of(mine.begin(), mine.end(), [&](double v) { return v == mine[0]; });
}

void compare_with_one_process(dp::distributed::mpi_ranks& ranks, const std::vector<float>& parallel,
                              dp::loss::verification_kind kind, const std::string& label) {
  report(same_on_every_rank(ranks, parallel), label + ": every rank holds the same weights");
  if (ranks.rank() != 0) return;
  const auto alone = train(run_options(kind));
  const double d = relative_difference(parallel, alone);
  char text[160];
  std::snprintf(text, sizeof text, "%s: %zu ranks against one process: relative difference %.3g (tolerance %.0e)",
                label.c_str(), ranks.size(), d, tolerance);
  report(d <= tolerance, text);
}

}  // namespace

int main(int argc, char** argv) {
  const bool hang = argc > 1 && std::strcmp(argv[1], "hang") == 0;
  dp::distributed::mpi_session mpi(argc, argv, std::chrono::seconds(hang ? 5 : 60));
  try {
    const std::string job = argc > 1 ? argv[1] : "";
    auto& ranks = *mpi.ranks();
    if (job == "equal") {
      for (auto kind : {dp::loss::verification_kind::l2, dp::loss::verification_kind::cosine}) {
        const std::string label = dp::loss::verification_name(kind);
        tr::options o = run_options(kind);
        o.ranks = mpi.ranks();
        const std::uint64_t sent = ranks.bytes_sent();
        const auto first = train(o);
        if (ranks.rank() == 0)
          std::printf("%s: rank 0 sent %.0f bytes in one run of %zu parameters (model and classifiers)\n",
                      label.c_str(), double(ranks.bytes_sent() - sent), parameter_count());
        const auto second = train(o);
        report(first == second, label + ": two runs on " + std::to_string(ranks.size()) + " ranks are bitwise equal");
        compare_with_one_process(ranks, first, kind, label);
      }
      // The gradients summed in many pieces while the backward pass runs
      // (the test net is smaller than the default piece, which sums it once).
      tr::options o = run_options(dp::loss::verification_kind::l2);
      o.ranks = mpi.ranks();
      o.overlap_sum_floats = 2000;
      const auto pieces = train(o);
      report(pieces == train(o), "l2, gradients summed in pieces of 2000 floats: two runs are bitwise equal");
      compare_with_one_process(ranks, pieces, dp::loss::verification_kind::l2, "l2 in pieces");
    } else if (job == "part" && argc == 4) {
      tr::options o = run_options(dp::loss::verification_kind::l2);
      o.ranks = mpi.ranks();
      o.checkpoint = argv[2];
      std::filesystem::create_directories(o.checkpoint.parent_path());
      std::filesystem::remove(o.checkpoint);
      o.stop_after_batches = std::stol(argv[3]);
      train(o);
      if (ranks.rank() == 0)  // the one rank that writes it
        report(std::filesystem::exists(o.checkpoint), std::string("checkpoint written: ") + argv[2]);
    } else if (job == "resume" && argc == 3) {
      tr::options o = run_options(dp::loss::verification_kind::l2);
      o.ranks = mpi.ranks();
      const auto finished = train(o, argv[2]);
      compare_with_one_process(ranks, finished, dp::loss::verification_kind::l2, "resumed");
    } else if (job == "mismatch") {
      tr::options o = run_options(dp::loss::verification_kind::l2);
      o.ranks = mpi.ranks();
      if (ranks.rank() == 1) o.seed += 1;
      train(o);
      report(false, "a run whose ranks have different seeds was not refused");
    } else if (job == "die" || job == "hang") {
      // Two batches together, then rank 1 dies or stops answering; the
      // others must not finish the run.
      tr::options o = run_options(dp::loss::verification_kind::l2);
      o.ranks = mpi.ranks();
      o.stop_after_batches = 2;
      train(o);
      if (ranks.rank() == 1) {
        if (job == "die") std::raise(SIGKILL);
        std::this_thread::sleep_for(std::chrono::minutes(5));
      }
      o.stop_after_batches = -1;
      train(o);
      report(false, "the job went on after rank 1 " + std::string(job == "die" ? "was killed" : "stopped answering"));
    } else {
      throw dp::error("usage: data_parallel equal | part CKPT BATCHES | resume CKPT | mismatch | die | hang");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_parallel: %s\n", e.what());
    std::fflush(stderr);
    mpi.abort(2);
  }
  if (failures > 0) mpi.abort(1);
  return 0;
}
