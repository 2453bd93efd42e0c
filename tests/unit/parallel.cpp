// parallel_for and its worker pool: every item of every call runs exactly
// once, and a call returns only when all of them have run, over many short
// calls back to back (where a worker still leaving the previous call meets
// the next one).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include <deepid/core/threads.hpp>
#include <deepid/kernels/parallel.hpp>

namespace dp = deepid;

TEST_CASE("parallel_for runs each item once per call, over 200,000 short calls") {
  const int before = dp::num_threads();
  dp::set_num_threads(2);
  std::vector<std::atomic<int>> runs(8);
  std::size_t wrong = 0;
  for (int call = 0; call < 200000; ++call) {
    const std::size_t count = 2 + std::size_t(call % 7);  // 2..8 items: workers often arrive late
    for (std::size_t i = 0; i < count; ++i) runs[i].store(0, std::memory_order_relaxed);
    dp::kernels::parallel_for(count, [&](std::size_t i) { runs[i].fetch_add(1, std::memory_order_relaxed); });
    for (std::size_t i = 0; i < count; ++i) wrong += runs[i].load(std::memory_order_relaxed) != 1;
  }
  CHECK(wrong == 0);
  dp::set_num_threads(before);
}

TEST_CASE("parallel_for inside an item runs serially and completes") {
  dp::set_num_threads(2);
  std::atomic<int> total{0};
  dp::kernels::parallel_for(4, [&](std::size_t) {
    dp::kernels::parallel_for(5, [&](std::size_t) { total.fetch_add(1); });
  });
  CHECK(total.load() == 20);
}

TEST_CASE("parallel_blocks covers [0, size) once, in blocks that end at size") {
  dp::set_num_threads(2);
  for (const std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(4095), std::size_t(4096), std::size_t(100001)}) {
    std::vector<std::atomic<int>> seen(size);
    std::atomic<std::size_t> longest{0};
    dp::kernels::parallel_blocks(size, 4096, [&](std::size_t begin, std::size_t end) {
      CHECK(begin < end);
      CHECK(end <= size);
      CHECK(begin % 4096 == 0);
      longest = std::max(longest.load(), end - begin);
      for (std::size_t i = begin; i < end; ++i) seen[i].fetch_add(1);
    });
    std::size_t wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    CHECK(wrong == 0);
    CHECK(longest.load() <= 4096);
  }
  std::vector<float> data(100001, 3.f);
  dp::kernels::parallel_fill(data.data(), data.size(), 0.f);
  CHECK(std::count(data.begin(), data.end(), 0.f) == std::ptrdiff_t(data.size()));
}
