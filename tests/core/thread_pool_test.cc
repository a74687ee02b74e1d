#include "dstream/detail/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace dstream::detail {
namespace {

TEST(ThreadPoolTest, RunsEveryIndexOnce) {
  for (int workers : {1, 2, 4, 8}) {
    ThreadPool pool(workers);
    std::vector<std::atomic<int>> hits(1000);
    pool.parallelFor(hits.size(), [&](std::size_t i) { hits[i]++; });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(ThreadPoolTest, RethrowsTheFirstException) {
  ThreadPool pool(4);
  EXPECT_THROW(pool.parallelFor(100, [](std::size_t i) { if (i == 37) throw std::runtime_error("boom"); }),
               std::runtime_error);
  std::atomic<int> after{0};
  pool.parallelFor(10, [&](std::size_t) { after++; });  // the pool still works
  EXPECT_EQ(after.load(), 10);
}

TEST(ThreadPoolTest, NestedCallsDoNotDeadlock) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.parallelFor(8, [&](std::size_t) { pool.parallelFor(8, [&](std::size_t) { total++; }); });
  EXPECT_EQ(total.load(), 64);
}

TEST(ThreadPoolTest, WorkersCountsTheCaller) {
  EXPECT_EQ(ThreadPool(1).workers(), 1);
  EXPECT_EQ(ThreadPool(3).workers(), 3);
}

}  // namespace
}  // namespace dstream::detail
