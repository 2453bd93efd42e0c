#pragma once
// parallel_for: the one place deepid's kernels go parallel.
//
// Items are claimed one at a time from a shared counter, by the calling
// thread and by a small pool of persistent workers. The caller never waits
// for a worker the OS has not scheduled: it takes the remaining items itself
// and waits only for items already running. OpenMP's static schedule waits
// at every join barrier instead, and libgomp's default spin-wait burns
// milliseconds per barrier when a core is busy (PAUSE is ~140 cycles on
// recent Intel cores): on a shared 2-core machine that made 2 threads 3-5x
// slower than 1. Idle workers spin for 50 us (a forward pass launches its
// layers back to back), then sleep on a condition variable. (Not
// std::atomic::wait: libstdc++ 12's can miss a notify and sleep forever.)
// The pool is never destroyed: sleeping workers end with the process.
//
// Results never depend on the thread count or on which thread runs an item:
// each kernel's items do fixed, independent work. Calls made inside an item,
// inside an OpenMP parallel region, or while another thread is using the
// pool run serially. Built without OpenMP, deepid runs on one thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <mutex>
#include <thread>
#include <type_traits>

#include "deepid/core/threads.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {
namespace detail {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

inline thread_local bool inside_parallel_for = false;

class worker_pool {
 public:
  // Never destroyed: joining workers from static destructors at exit can
  // hang or race with other exit handlers, and the process ending takes the
  // sleeping threads with it.
  static worker_pool& instance() {
    static worker_pool* pool = new worker_pool;
    return *pool;
  }

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // Runs body(i) for every i < count on up to `threads` threads; false (and
  // nothing run) when another thread is using the pool.
  template <class F>
  bool run(std::size_t count, int threads, F& body) {
    return run(count, threads, &invoke_range<F>, const_cast<void*>(static_cast<const void*>(std::addressof(body))));
  }

  // body(i) for i in [begin, end), compiled once per body: the pool (one
  // item at a time) and parallel_for's serial path (all items) both call
  // it, so a loop body is not compiled twice.
  template <class F>
  [[gnu::noinline]] static void invoke_range(void* ctx, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) (*static_cast<F*>(ctx))(i);
  }

 private:
  worker_pool() = default;
  static constexpr std::chrono::microseconds spin_time{50};
  static constexpr std::uint64_t closed = 0xffffffffu;  // "next item" of a job not yet open

  // run() for body fn(ctx, i): not a template, so that the pool's protocol
  // (and the workers' threads) is compiled once, not once per loop body.
  [[gnu::noinline]] bool run(std::size_t count, int threads, void (*fn)(void*, std::size_t, std::size_t), void* ctx) {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    for (; workers_ < threads - 1; ++workers_) {
      const int index = workers_ + 1;
      std::thread([this, index] { work(index); }).detach();
    }
    // Close the previous job before touching the job's fields: a worker
    // still inside drain() for it could otherwise pair the old state with
    // the new fields, claim an item of this job under the old generation,
    // run it twice and leave finished_ one past count (the caller would
    // then wait forever). With the state closed first, any claim made with
    // a stale state fails.
    const std::uint32_t g = generation_.load(std::memory_order_relaxed) + 1;
    state_.store((std::uint64_t(g) << 32) | closed, std::memory_order_seq_cst);
    fn_.store(fn, std::memory_order_release);
    ctx_.store(ctx, std::memory_order_release);
    count_.store(std::uint32_t(count), std::memory_order_release);
    wanted_.store(threads, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    state_.store(std::uint64_t(g) << 32, std::memory_order_release);
    {
      // Under the lock, so a worker between its check and its sleep cannot miss it.
      std::lock_guard<std::mutex> sleeping(sleep_mutex_);
      generation_.store(g, std::memory_order_release);
    }
    wake_.notify_all();

    inside_parallel_for = true;
    drain(g);
    inside_parallel_for = false;
    // Wait for the items workers are still running (short: they were claimed).
    // Every claimed item of this job ends with one increment, so finished_
    // reaches count exactly.
    const auto until = std::chrono::steady_clock::now() + spin_time;
    while (finished_.load(std::memory_order_acquire) != count) {
      if (std::chrono::steady_clock::now() < until) cpu_relax();
      else std::this_thread::yield();
    }
    return true;
  }

  // Claims and runs items of job g until none is left. The job's fields may
  // already belong to a later job when read, but then the claim fails: the
  // state names the job it counts.
  void drain(std::uint32_t g) {
    for (;;) {
      std::uint64_t s = state_.load(std::memory_order_acquire);
      if (std::uint32_t(s >> 32) != g) return;
      // Acquire loads: seeing a later job's field makes the claim below see
      // that job's closing of the state, so it fails.
      const std::uint32_t i = std::uint32_t(s), count = count_.load(std::memory_order_acquire);
      if (i >= count) return;
      const auto fn = fn_.load(std::memory_order_acquire);
      void* ctx = ctx_.load(std::memory_order_acquire);
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      fn(ctx, i, i + 1);
      finished_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void work(int index) {
    inside_parallel_for = true;
    std::uint32_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t g = generation_.load(std::memory_order_acquire);
      const auto until = std::chrono::steady_clock::now() + spin_time;
      while (g == seen && std::chrono::steady_clock::now() < until) {
        cpu_relax();
        g = generation_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> sleeping(sleep_mutex_);
        wake_.wait(sleeping, [&] { return (g = generation_.load(std::memory_order_acquire)) != seen; });
      }
      seen = g;
      if (index < wanted_.load(std::memory_order_relaxed)) drain(g);
    }
  }

  std::mutex busy_, sleep_mutex_;
  std::condition_variable wake_;
  int workers_ = 0;
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<std::uint64_t> state_{0};  // generation << 32 | next item
  std::atomic<std::uint32_t> finished_{0};
  std::atomic<std::uint32_t> count_{0};
  std::atomic<int> wanted_{0};
  std::atomic<void (*)(void*, std::size_t, std::size_t)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
};

}  // namespace detail

template <class F>
void parallel_for(std::size_t count, F&& body) {
#if DEEPID_OPENMP
  const int threads = int(count < std::size_t(num_threads()) ? count : std::size_t(num_threads()));
  if (threads > 1 && !detail::inside_parallel_for && !omp_in_parallel() && count <= 0xffffffffu &&
      detail::worker_pool::instance().run(count, threads, body))
    return;
#endif
  detail::worker_pool::invoke_range<std::remove_reference_t<F>>(
      const_cast<void*>(static_cast<const void*>(std::addressof(body))), 0, count);
}

// body(begin, end) over [0, size) in blocks of `block` elements: for
// element-wise passes over large arrays (filling, optimiser steps), which
// one core cannot make memory-bound on its own.
template <class F>
void parallel_blocks(std::size_t size, std::size_t block, F&& body) {
  parallel_for((size + block - 1) / block,
               [&](std::size_t item) { body(item * block, item * block + block < size ? item * block + block : size); });
}

// data[0, size) = value.
template <class T>
void parallel_fill(T* data, std::size_t size, T value) {
  parallel_blocks(size, 1 << 15, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) data[i] = value;
  });
}

}  // namespace kernels
DEEPID_NAMESPACE_END
