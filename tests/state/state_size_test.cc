// The state every stateful stream reports after each batch (BatchInfo::stateInfos): its keys,
// exactly, as they come and go (updateStateByKey's removals, mapWithState's removals and
// timeouts, an inverse window's filterFunc), and a byte estimate that covers the entries.
#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"

namespace dstream {
namespace {

using Entry = std::pair<std::string, long>;

// A context on a manual clock over a queue of batches of words.
struct StateRun {
  explicit StateRun(std::vector<std::vector<std::string>> batches) {
    for (auto& b : batches) queue->push(std::move(b));
  }
  auto pairs() {
    return ssc.queueStream(queue).map([](const std::string& w) { return Entry(w, 1L); });
  }
  // Runs `n` batches and returns, per batch, the StateInfo of the stream named `name`
  // (nullopt where the batch reported none).
  std::vector<std::optional<StateInfo>> run(int n, const std::string& name) {
    ssc.start();
    EXPECT_TRUE(testing::runBatches(ssc, *clock, n));
    ssc.stop();
    std::vector<std::optional<StateInfo>> out;
    for (const auto& b : testing::completedBatches(ssc)) {
      auto& info = out.emplace_back();
      for (const auto& s : b.stateInfos) {
        if (s.name == name) info = s;
      }
    }
    return out;
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  StreamingContext ssc{"local[2]", Seconds(1), testing::onManualClock(clock)};
  std::shared_ptr<RDDQueue<std::string>> queue = std::make_shared<RDDQueue<std::string>>();
};

std::vector<std::int64_t> keysOf(const std::vector<std::optional<StateInfo>>& infos) {
  std::vector<std::int64_t> keys;
  for (const auto& i : infos) keys.push_back(i ? i->numKeys : -1);
  return keys;
}

// Each batch's estimate holds at least its keys' entries.
void expectBytesCoverEntries(const std::vector<std::optional<StateInfo>>& infos, std::size_t entrySize) {
  for (const auto& i : infos) {
    ASSERT_TRUE(i);
    EXPECT_GE(i->memoryUsedBytes, i->numKeys * static_cast<std::int64_t>(entrySize)) << i->name;
  }
}

// A key's state is its running count; a key without new values is removed.
const auto kCountWhileActive = [](std::span<const long> values, std::optional<long> old) -> std::optional<long> {
  if (values.empty()) return std::nullopt;
  long n = old.value_or(0);
  for (long v : values) n += v;
  return n;
};

TEST(StateSizeTest, UpdateStateByKeyReportsItsKeysAsTheyComeAndGo) {
  StateRun r({{"a", "b", "a", "d"}, {"c", "a"}, {}, {"e"}});
  r.pairs().updateStateByKey(kCountWhileActive, 3).foreachRDD([](const RDD<Entry>&) {});
  auto infos = r.run(4, "updateStateByKey");
  EXPECT_EQ(keysOf(infos), (std::vector<std::int64_t>{3, 2, 0, 1}));
  expectBytesCoverEntries(infos, sizeof(Entry));
  ASSERT_TRUE(infos[0]);
  EXPECT_GT(infos[0]->streamId, 0) << "the stream's id, after its source's";
}

TEST(StateSizeTest, TheEstimateCountsTheHeapMemoryOfLongKeys) {
  const std::string longKey(1000, 'k');
  StateRun r({{longKey}});
  r.pairs().updateStateByKey(kCountWhileActive).foreachRDD([](const RDD<Entry>&) {});
  auto infos = r.run(1, "updateStateByKey");
  ASSERT_TRUE(infos.at(0));
  EXPECT_EQ(infos[0]->numKeys, 1);
  EXPECT_GE(infos[0]->memoryUsedBytes, static_cast<std::int64_t>(sizeof(Entry) + longKey.size()));
}

// The state counts to 3 and is removed; keys idle for over 2 s time out.
TEST(StateSizeTest, MapWithStateDropsRemovedAndTimedOutKeys) {
  StateRun r({{"a", "b", "c"}, {"a", "a"}, {}, {}});
  auto spec = StateSpec::function([](const std::string& key, std::optional<long> v, State<long>& state) {
                if (state.isTimingOut()) return key;
                if (state.exists() && state.get() + *v == 3) {
                  state.remove();
                  return key;
                }
                state.update(state.exists() ? state.get() + *v : *v);
                return key;
              }).timeout(Seconds(2));
  r.pairs().mapWithState(spec).uid("counts").foreachRDD([](const RDD<std::string>&) {});
  auto infos = r.run(4, "counts");
  // Batch 2 removes a; batch 4 (the first whose threshold passes batch 1) times out b and c.
  EXPECT_EQ(keysOf(infos), (std::vector<std::int64_t>{3, 2, 2, 0}));
  expectBytesCoverEntries(infos, sizeof(Entry));
}

TEST(StateSizeTest, AnInverseWindowLosesTheKeysItsFilterDrops) {
  StateRun r({{"a", "b"}, {"a"}, {}, {}});
  auto add = [](long a, long b) { return a + b; };
  auto sub = [](long a, long b) { return a - b; };
  auto pairs = r.pairs();
  pairs.reduceByKeyAndWindow(add, sub, Seconds(2), Seconds(1), 2, [](const Entry& kv) { return kv.second != 0; })
      .uid("filtered")
      .foreachRDD([](const RDD<Entry>&) {});
  pairs.reduceByKeyAndWindow(add, sub, Seconds(2), Seconds(1)).uid("unfiltered").foreachRDD([](const RDD<Entry>&) {});
  r.ssc.start();
  ASSERT_TRUE(testing::runBatches(r.ssc, *r.clock, 4));
  r.ssc.stop();
  std::vector<std::int64_t> filtered, unfiltered;
  for (const auto& b : testing::completedBatches(r.ssc)) {
    for (const auto& s : b.stateInfos) {
      if (s.name == "filtered") filtered.push_back(s.numKeys);
      if (s.name == "unfiltered") unfiltered.push_back(s.numKeys);
      EXPECT_GE(s.memoryUsedBytes, s.numKeys * static_cast<std::int64_t>(sizeof(Entry)));
    }
  }
  // Windows: {a, b}, {a a, b}, {a}, {}: b's value falls to 0 at the third, a's at the fourth.
  EXPECT_EQ(filtered, (std::vector<std::int64_t>{2, 2, 1, 0}));
  EXPECT_EQ(unfiltered, (std::vector<std::int64_t>{2, 2, 2, 2})) << "keys at 0 stay without a filterFunc";
}

TEST(StateSizeTest, AWindowWithoutInverseReportsTheKeysOfItsLastWindow) {
  StateRun r({{"a", "b"}, {"a"}, {}, {}});
  r.pairs()
      .reduceByKeyAndWindow([](long a, long b) { return a + b; }, Seconds(2), Seconds(1))
      .foreachRDD([](const RDD<Entry>&) {});
  auto infos = r.run(4, "reduceByKeyAndWindow");
  EXPECT_EQ(keysOf(infos), (std::vector<std::int64_t>{2, 2, 1, 0}));
}

TEST(StateSizeTest, AStatelessPipelineReportsNoState) {
  StateRun r({{"a"}});
  r.pairs().reduceByKey([](long a, long b) { return a + b; }).foreachRDD([](const RDD<Entry>&) {});
  r.ssc.start();
  ASSERT_TRUE(testing::runBatches(r.ssc, *r.clock, 1));
  r.ssc.stop();
  auto batches = testing::completedBatches(r.ssc);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].stateInfos.empty());
}

// A batch whose output fails still reports the state its stateful streams reached.
TEST(StateSizeTest, AFailedBatchReportsTheStateItReached) {
  StateRun r({{"a"}, {"b", "c"}});
  auto counts = r.pairs().updateStateByKey([](std::span<const long> vs, std::optional<long> old) -> std::optional<long> {
    return old.value_or(0) + static_cast<long>(vs.size());
  });
  counts.foreachRDD([](const RDD<Entry>& rdd) {
    if (rdd.count() == 3) throw std::runtime_error("output broke");  // the second batch
  });
  r.ssc.start();
  ASSERT_TRUE(testing::runBatches(r.ssc, *r.clock, 1));
  r.clock->setTime(testing::firstBatchTime(r.ssc) + Seconds(1));
  EXPECT_THROW(r.ssc.awaitTerminationOrTimeout(testing::kWaitTimeout), Error);
  auto batches = testing::completedBatches(r.ssc);
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_TRUE(batches[1].failureReason);
  ASSERT_EQ(batches[1].stateInfos.size(), 1u);
  EXPECT_EQ(batches[1].stateInfos[0].numKeys, 3);
}

// A listener hears the state with the batch, as the UI does.
TEST(StateSizeTest, ListenersSeeTheStateOfEachCompletedBatch) {
  struct Keys : StreamingListener {
    std::mutex mu;
    std::vector<std::int64_t> keys;
    void onBatchCompleted(const BatchInfo& info) override {
      std::lock_guard lock(mu);
      for (const auto& s : info.stateInfos) keys.push_back(s.numKeys);
    }
  };
  auto listener = std::make_shared<Keys>();
  StateRun r({{"a", "b"}, {"c"}});
  r.ssc.addStreamingListener(listener);
  r.pairs()
      .updateStateByKey([](std::span<const long> vs, std::optional<long> old) -> std::optional<long> {
        return old.value_or(0) + static_cast<long>(vs.size());
      })
      .foreachRDD([](const RDD<Entry>&) {});
  r.run(2, "updateStateByKey");
  std::lock_guard lock(listener->mu);
  EXPECT_EQ(listener->keys, (std::vector<std::int64_t>{2, 3}));
}

}  // namespace
}  // namespace dstream
