#pragma once
// Data-parallel training across processes and machines on MPI. Optional: it
// needs an MPI implementation (CMake target deepid::mpi), and nothing else in
// the library includes it.
//
//   int main(int argc, char** argv) {
//     deepid::distributed::mpi_session mpi(argc, argv);
//     try {
//       deepid::train::options o;
//       o.ranks = mpi.ranks();           // every rank trains the same model
//       ...                              // on its share of every batch
//     } catch (const std::exception& e) {
//       std::fprintf(stderr, "rank %zu: %s\n", mpi.rank(), e.what());
//       mpi.abort(1);                    // the other ranks may be waiting for this one
//     }
//   }
//
// Sums are a ring all-reduce (a reduce-scatter, then an all-gather) on
// point-to-point messages: 2 (N - 1) / N of the values cross each link, and
// the terms of every element are added in an order fixed by N alone, so
// every rank gets the same bits and a rerun with as many ranks gets them
// again. Every wait has a time limit: a rank that stops answering makes the
// others fail with an error naming it instead of waiting for ever.
// The C API only: Open MPI and MPICH would otherwise also declare their
// deprecated C++ bindings, which need a library of their own to link.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/train/rank_group.hpp"

DEEPID_NAMESPACE_BEGIN
namespace distributed {

namespace detail {

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
inline MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

inline std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, std::size_t(length));
}

}  // namespace detail

// The ranks of one communicator as the trainer's rank_group.
//
// start_sum hands a sum to a thread of its own, which makes every MPI call
// while it works (MPI must be initialised with MPI_THREAD_SERIALIZED or more;
// otherwise start_sum sums at once); every other call first waits for it, so
// MPI is never entered by two threads at a time and the sums keep their order.
class mpi_ranks final : public train::rank_group {
 public:
  // `timeout`: the longest any rank waits for another before failing.
  explicit mpi_ranks(MPI_Comm comm = MPI_COMM_WORLD, std::chrono::milliseconds timeout = std::chrono::minutes(10))
      : comm_(comm), timeout_(timeout) {
    // Errors come back as codes, so they become deepid::error with the rank.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    int rank = 0, size = 1, level = MPI_THREAD_SINGLE;
    check(MPI_Comm_rank(comm_, &rank), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size), "MPI_Comm_size");
    check(MPI_Query_thread(&level), "MPI_Query_thread");
    rank_ = std::size_t(rank), size_ = std::size_t(size);
    background_sums_ = level >= MPI_THREAD_SERIALIZED;
  }
  mpi_ranks(const mpi_ranks&) = delete;
  mpi_ranks& operator=(const mpi_ranks&) = delete;
  ~mpi_ranks() override {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }

  std::size_t rank() const override { return rank_; }
  std::size_t size() const override { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  void sum(std::span<float> values) override {
    wait_sums();
    ring_sum(values);
  }
  void sum(std::span<double> values) override {
    wait_sums();
    ring_sum(values);
  }

  void start_sum(std::span<float> values) override {
    if (!background_sums_ || size_ == 1) return sum(values);
    {
      std::lock_guard lock(mutex_);
      queued_.push_back(values);
      ++started_;
    }
    if (!worker_.joinable()) worker_ = std::thread([this] { sum_in_background(); });
    wake_.notify_one();
  }

  void wait_sums() override {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return finished_ == started_; });
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }

  void broadcast(std::span<float> values, std::size_t root) override {
    wait_sums();
    if (root >= size_) throw error("rank " + std::to_string(rank_) + ": broadcast from rank " + std::to_string(root) +
                                   " of " + std::to_string(size_));
    // In pieces: MPI counts are int.
    constexpr std::size_t piece = std::size_t(1) << 28;
    for (std::size_t first = 0; first < values.size(); first += piece) {
      MPI_Request request;
      check(MPI_Ibcast(values.data() + first, int(std::min(piece, values.size() - first)), MPI_FLOAT, int(root), comm_,
                       &request),
            "MPI_Ibcast");
      wait(request, "receiving values from rank " + std::to_string(root));
    }
  }

  // Bytes this rank has sent through sum() and start_sum() so far.
  std::uint64_t bytes_sent() const { return bytes_sent_; }

  void require_same(const std::string& what, const std::string& text) override {
    wait_sums();
    // Rank 0's text goes to every rank (length first), each compares its own.
    std::uint64_t length = text.size();
    broadcast(&length, sizeof length, "the length of " + what);
    std::string reference(length, '\0');
    if (rank_ == 0) reference = text;
    broadcast(reference.data(), reference.size(), what);
    const int differs = reference != text ? 1 : 0;
    std::vector<int> all(size_);
    MPI_Request request;
    check(MPI_Iallgather(&differs, 1, MPI_INT, all.data(), 1, MPI_INT, comm_, &request), "MPI_Iallgather");
    wait(request, "comparing " + what);
    const auto first = std::find(all.begin(), all.end(), 1);
    if (first == all.end()) return;
    const std::size_t other = std::size_t(first - all.begin());
    if (rank_ == other || differs)
      throw error("rank " + std::to_string(rank_) + ": " + what + " differs from rank 0's (rank 0: '" + reference +
                  "'; rank " + std::to_string(rank_) + ": '" + text + "')");
    throw error("rank " + std::to_string(rank_) + ": " + what + " of rank " + std::to_string(other) +
                " differs from rank 0's ('" + reference + "')");
  }

 private:
  void check(int code, const std::string& call) const {
    if (code != MPI_SUCCESS)
      throw error("rank " + std::to_string(rank_) + ": " + call + " failed: " + detail::mpi_error_text(code));
  }

  // Waits for `request` within the time limit; `what` names the exchange.
  void wait(MPI_Request& request, const std::string& what) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (std::uint64_t spins = 0;; ++spins) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) return;
      if (spins % 256 == 0 && std::chrono::steady_clock::now() > deadline) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", double(timeout_.count()) / 1000.0);
        throw error("rank " + std::to_string(rank_) + ": no answer from the other ranks for " + seconds + " s while " +
                    what + " (did a rank stop or die?)");
      }
      // Busy for the first spins (latency), then yield the core (long waits).
      if (spins > 4096) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  void wait_all(std::span<MPI_Request> requests, const std::string& what) const {
    for (auto& r : requests) wait(r, what);
  }

  void broadcast(void* data, std::size_t bytes, const std::string& what) const {
    MPI_Request request;
    check(MPI_Ibcast(data, int(bytes), MPI_BYTE, 0, comm_, &request), "MPI_Ibcast");
    wait(request, "receiving " + what + " from rank 0");
  }

  // Ring all-reduce. The values are cut into N blocks; in step s of the
  // reduce-scatter, rank r sends its partial sum of block (r - s) to rank
  // r + 1, which adds it to its own: block b ends complete on rank b - 1,
  // its terms added in ring order starting from rank b. The all-gather then
  // passes the complete blocks round the ring unchanged.
  template <class T>
  void ring_sum(std::span<T> values) {
    const std::size_t n = size_;
    if (n == 1 || values.empty()) return;
    const auto begin = [&](std::size_t b) { return values.size() * b / n; };
    const auto count = [&](std::size_t b) { return begin(b + 1) - begin(b); };
    const int next = int((rank_ + 1) % n), previous = int((rank_ + n - 1) % n);
    incoming_.resize((values.size() / n + 1) * sizeof(T));
    T* received = reinterpret_cast<T*>(incoming_.data());
    const MPI_Datatype type = detail::mpi_type<T>();
    for (std::size_t step = 0; step + 1 < n; ++step) {
      const std::size_t send = (rank_ + n - step) % n, take = (rank_ + n - step - 1) % n;
      MPI_Request requests[2];
      check(MPI_Irecv(received, int(count(take)), type, previous, 0, comm_, &requests[0]), "MPI_Irecv");
      check(MPI_Isend(values.data() + begin(send), int(count(send)), type, next, 0, comm_, &requests[1]), "MPI_Isend");
      wait_all(requests, "summing gradients");
      bytes_sent_ += count(send) * sizeof(T);
      T* own = values.data() + begin(take);
      // received holds ranks take..rank-1's terms, in ring order: add ours last.
      for (std::size_t i = 0; i < count(take); ++i) own[i] = received[i] + own[i];
    }
    for (std::size_t step = 0; step + 1 < n; ++step) {
      const std::size_t send = (rank_ + 1 + n - step) % n, take = (rank_ + n - step) % n;
      MPI_Request requests[2];
      check(MPI_Irecv(values.data() + begin(take), int(count(take)), type, previous, 1, comm_, &requests[0]),
            "MPI_Irecv");
      check(MPI_Isend(values.data() + begin(send), int(count(send)), type, next, 1, comm_, &requests[1]), "MPI_Isend");
      wait_all(requests, "sharing summed gradients");
      bytes_sent_ += count(send) * sizeof(T);
    }
  }

  // The thread behind start_sum: the queued sums in order. After an error the
  // rest are skipped (the ranks no longer agree); wait_sums throws it.
  void sum_in_background() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      if (queued_.empty()) return;
      const std::span<float> values = queued_.front();
      queued_.pop_front();
      const bool skip = failure_ != nullptr;
      lock.unlock();
      std::exception_ptr failed;
      if (!skip) try {
          ring_sum(values);
        } catch (...) {
          failed = std::current_exception();
        }
      lock.lock();
      if (failed) failure_ = failed;
      ++finished_;
      done_.notify_all();
    }
  }

  MPI_Comm comm_;
  std::chrono::milliseconds timeout_;
  std::size_t rank_ = 0, size_ = 1;
  std::atomic<std::uint64_t> bytes_sent_ = 0;
  std::vector<unsigned char> incoming_;

  bool background_sums_ = false;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<std::span<float>> queued_;
  std::uint64_t started_ = 0, finished_ = 0;
  std::exception_ptr failure_;
  bool stopping_ = false;
};

namespace detail {

// The line a rank prints when the launcher ends it. mpirun sends SIGTERM to
// every rank still running when one rank fails, is killed or calls MPI_Abort;
// without a line of their own the survivors vanish in silence. Written by
// the signal handler, so it is made beforehand and only write(2) prints it.
inline char terminate_notice[256] = {};
inline std::size_t terminate_notice_length = 0;

inline void on_terminate(int) {
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, terminate_notice, terminate_notice_length);
  // The default action then ends the process as SIGTERM would have.
  std::signal(SIGTERM, SIG_DFL);
  std::raise(SIGTERM);
}

inline std::string program_name(const char* argv0) {
  const std::string path = argv0 ? argv0 : "";
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace detail

// MPI for the life of the object (MPI_Init_thread, MPI_Finalize), and the
// ranks of MPI_COMM_WORLD. One per process. With several ranks, a rank that the
// launcher ends (SIGTERM) says so on stderr in one line naming itself, unless
// the program has its own SIGTERM handler:
//   deepid: error: rank 0 of 2: ended by SIGTERM (mpirun ends every rank when one fails or is killed)
class mpi_session {
 public:
  mpi_session(int& argc, char**& argv, std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) throw error("mpi_session: MPI is already initialised in this process");
    int provided = 0;
    // One thread at a time calls MPI: the main one, or mpi_ranks' own while it sums.
    const int code = MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    if (code != MPI_SUCCESS) throw error("mpi_session: MPI_Init_thread failed: " + detail::mpi_error_text(code));
    ranks_ = std::make_shared<mpi_ranks>(MPI_COMM_WORLD, timeout);
    if (size() > 1) say_when_terminated(detail::program_name(argc > 0 ? argv[0] : nullptr));
  }
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
  ~mpi_session() {
    if (notice_installed_) std::signal(SIGTERM, SIG_DFL);
    ranks_.reset();
    MPI_Finalize();
  }

  std::shared_ptr<mpi_ranks> ranks() const { return ranks_; }
  std::size_t rank() const { return ranks_->rank(); }
  std::size_t size() const { return ranks_->size(); }

  // Ends every rank of the job with `code`. After an error on one rank the
  // others may wait in a sum for it; returning from main would leave them there.
  [[noreturn]] void abort(int code) const {
    if (notice_installed_) std::signal(SIGTERM, SIG_DFL);  // this rank has said why already
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // not reached: MPI_Abort does not return
  }

 private:
  void say_when_terminated(const std::string& program) {
    struct sigaction current {};
    if (sigaction(SIGTERM, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
    const int length = std::snprintf(detail::terminate_notice, sizeof detail::terminate_notice,
                                     "%s: error: rank %zu of %zu: ended by SIGTERM (mpirun ends every rank when one "
                                     "fails or is killed)\n",
                                     program.c_str(), rank(), size());
    if (length <= 0) return;
    detail::terminate_notice_length = std::min(std::size_t(length), sizeof detail::terminate_notice - 1);
    detail::terminate_notice[detail::terminate_notice_length - 1] = '\n';  // kept when a long name was cut
    std::signal(SIGTERM, detail::on_terminate);
    notice_installed_ = true;
  }

  std::shared_ptr<mpi_ranks> ranks_;
  bool notice_installed_ = false;
};

}  // namespace distributed
DEEPID_NAMESPACE_END
