// updateStateByKey's output shares the state's storage (detail::SharedPartition): a batch
// updates the state in place when nothing holds the previous output, and copies a partition
// first when something does (a saved RDD, a window), so what a holder sees never changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dstream/detail/shared_partition.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"

namespace dstream {
namespace {

using detail::SharedPartition;
using Counts = std::vector<std::pair<std::string, long>>;

TEST(SharedPartitionTest, WritesInPlaceWhenNothingIsLent) {
  SharedPartition<int> part;
  part.write().assign({1, 2, 3});
  const int* before = part.read().data();
  part.write()[0] = 10;
  EXPECT_EQ(part.read().data(), before);
  EXPECT_EQ(part.copies(), 0);
}

TEST(SharedPartitionTest, CopiesBeforeWritingWhileLentAndNotAfter) {
  SharedPartition<int> part;
  part.write().assign({1, 2, 3});
  auto held = part.lend();
  EXPECT_EQ(held->data(), part.read().data());  // shared, not copied
  part.write()[0] = 10;
  EXPECT_EQ(*held, (std::vector<int>{1, 2, 3}));  // the holder keeps what it saw
  EXPECT_EQ(part.read(), (std::vector<int>{10, 2, 3}));
  EXPECT_EQ(part.copies(), 1);
  auto second = part.lend();
  auto copy = second;  // copies of a lent pointer hold it too
  second.reset();
  part.write()[1] = 20;
  EXPECT_EQ(part.copies(), 2);
  EXPECT_EQ(*copy, (std::vector<int>{10, 2, 3}));
  copy.reset();
  const int* now = part.read().data();
  part.write()[2] = 30;
  EXPECT_EQ(part.read().data(), now);
  EXPECT_EQ(part.copies(), 2);
  EXPECT_EQ(*held, (std::vector<int>{1, 2, 3}));
}

TEST(SharedPartitionTest, RewriteNeverCopies) {
  SharedPartition<int> part;
  part.write().assign({1, 2, 3});
  auto held = part.lend();
  part.rewrite().push_back(7);
  EXPECT_EQ(*held, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(part.read(), (std::vector<int>{7}));
  EXPECT_EQ(part.copies(), 0);
}

TEST(SharedPartitionTest, AReaderOnAnotherThreadReleasesBeforeTheWriterWrites) {
  // Under TSan: the reader's reads must happen before the writer's in-place update.
  SharedPartition<long> part;
  part.write().assign(1000, 1);
  auto lent = part.lend();
  std::atomic<long> sum{0};
  std::thread reader([p = std::move(lent), &sum]() mutable {
    sum = std::accumulate(p->begin(), p->end(), 0L);
    p.reset();
  });
  while (part.lent()) std::this_thread::yield();
  part.write()[0] = 5;  // in place: the reader is done with it
  reader.join();
  EXPECT_EQ(sum.load(), 1000);
  EXPECT_EQ(part.copies(), 0);
}

Counts sortedCounts(const RDD<std::pair<std::string, long>>& rdd) {
  Counts c = rdd.collect();
  std::sort(c.begin(), c.end());
  return c;
}

// Runs the batches of `input` (2 partitions each) through `define(stream)` on `master`.
template <class Define>
void runBatches(const std::vector<std::vector<std::string>>& input, const std::string& master, Define define) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc(master, Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string>>();
  for (const auto& batch : input) queue->push(batch, 2);
  define(ssc.queueStream(queue).map([](const std::string& w) { return std::pair<std::string, long>(w, 1L); }));
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  for (std::size_t i = 0; i < input.size(); ++i) {
    Time t = first + Seconds(static_cast<long>(i));
    clock->setTime(t);
    ASSERT_TRUE(testing::awaitBatchCompleted(ssc, t, Seconds(60)));
  }
  ssc.stop();
  ssc.awaitTermination();
}

const auto kCount = [](std::span<const long> vs, std::optional<long> old) -> std::optional<long> {
  return old.value_or(0) + static_cast<long>(vs.size());
};

const std::vector<std::vector<std::string>> kInput = {
    {"a", "b", "c"}, {"a", "d"}, {"e"}, {"a", "e", "f", "g"}, {}, {"a"}};

TEST(SharedStateOutputTest, HeldOutputsStayUnchangedWhileKeysComeAndGo) {
  // A running count whose keys go after 2 batches without data.
  const std::vector<Counts> expected = {
      {{"a", 1}, {"b", 1}, {"c", 1}},
      {{"a", 2}, {"b", 1}, {"c", 1}, {"d", 1}},
      {{"a", 2}, {"d", 1}, {"e", 1}},
      {{"a", 3}, {"e", 2}, {"f", 1}, {"g", 1}},
      {{"a", 3}, {"e", 2}, {"f", 1}, {"g", 1}},
      {{"a", 4}},
  };
  using Idle = std::pair<std::string, std::pair<long, int>>;  // key, (count, batches idle)
  for (const char* master : {"local[1]", "local[2]"}) {
    std::mutex mu;
    std::vector<RDD<Idle>> held;  // every batch's output (the state's own vectors), kept
    runBatches(kInput, master, [&](auto pairs) {
      pairs
          .updateStateByKey(
              [](std::span<const long> vs, std::optional<std::pair<long, int>> old)
                  -> std::optional<std::pair<long, int>> {
                auto s = old.value_or(std::pair<long, int>(0, 0));
                if (vs.empty() && ++s.second >= 2) return std::nullopt;
                if (!vs.empty()) s.second = 0;
                s.first += static_cast<long>(vs.size());
                return s;
              },
              3)
          .foreachRDD([&](const RDD<Idle>& rdd, Time) {
            std::lock_guard lock(mu);
            held.push_back(rdd);
          });
    });
    ASSERT_EQ(held.size(), expected.size()) << master;
    for (std::size_t i = 0; i < held.size(); ++i) {
      Counts c;
      for (const auto& [k, s] : held[i].collect()) c.emplace_back(k, s.first);
      std::sort(c.begin(), c.end());
      EXPECT_EQ(c, expected[i]) << master << " batch " << i;
    }
  }
}

TEST(SharedStateOutputTest, AWindowOverTheStateSeesEveryBatchAsItWas) {
  // Running totals, no removal.
  const std::vector<Counts> expected = {
      {{"a", 1}, {"b", 1}, {"c", 1}},
      {{"a", 2}, {"b", 1}, {"c", 1}, {"d", 1}},
      {{"a", 2}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}},
      {{"a", 3}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 2}, {"f", 1}, {"g", 1}},
      {{"a", 3}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 2}, {"f", 1}, {"g", 1}},
      {{"a", 4}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 2}, {"f", 1}, {"g", 1}},
  };
  std::mutex mu;
  std::vector<RDD<std::pair<std::string, long>>> held;
  std::vector<long> windowTotals;
  runBatches(kInput, "local[2]", [&](auto pairs) {
    auto state = pairs.updateStateByKey(kCount, 2);
    state.foreachRDD([&](const RDD<std::pair<std::string, long>>& rdd, Time) {
      std::lock_guard lock(mu);
      held.push_back(rdd);
    });
    // A window of 2 batches holds the previous state RDD while the next one is computed.
    state.window(Seconds(2), Seconds(1)).foreachRDD([&](const RDD<std::pair<std::string, long>>& rdd, Time) {
      long total = 0;
      for (const auto& kv : rdd.collect()) total += kv.second;
      std::lock_guard lock(mu);
      windowTotals.push_back(total);
    });
  });
  ASSERT_EQ(held.size(), expected.size());
  ASSERT_EQ(windowTotals.size(), expected.size());
  long previous = 0;
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(sortedCounts(held[i]), expected[i]) << "batch " << i;
    long total = 0;
    for (const auto& kv : expected[i]) total += kv.second;
    EXPECT_EQ(windowTotals[i], total + previous) << "window at batch " << i;
    previous = total;
  }
}

TEST(SharedStateOutputTest, OutputIsTheStateItselfWhenNothingHoldsIt) {
  // The same keys every batch: with no one keeping the outputs, each batch updates the
  // state's vectors in place and emits them, so the partitions' storage does not move.
  const std::vector<std::vector<std::string>> input(5, std::vector<std::string>{"a", "b", "c", "d"});
  std::vector<std::vector<std::uintptr_t>> storage;  // per batch, per partition
  std::vector<Counts> seen;
  std::mutex mu;
  runBatches(input, "local[2]", [&](auto pairs) {
    pairs.updateStateByKey(kCount, 2).foreachRDD([&](const RDD<std::pair<std::string, long>>& rdd, Time) {
      std::vector<std::uintptr_t> ptrs;
      for (std::size_t p = 0; p < rdd.numPartitions(); ++p) {
        ptrs.push_back(reinterpret_cast<std::uintptr_t>(rdd.partition(p).data()));
      }
      std::lock_guard lock(mu);
      storage.push_back(std::move(ptrs));
      seen.push_back(sortedCounts(rdd));
    });
  });
  ASSERT_EQ(storage.size(), input.size());
  for (std::size_t i = 0; i < input.size(); ++i) {
    const long n = static_cast<long>(i) + 1;
    EXPECT_EQ(seen[i], (Counts{{"a", n}, {"b", n}, {"c", n}, {"d", n}}));
    if (i > 0) {
      EXPECT_EQ(storage[i], storage[0]) << "batch " << i << " copied the state";
    }
  }
}

}  // namespace
}  // namespace dstream
