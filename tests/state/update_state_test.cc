// updateStateByKey: Spark's semantics (called for every key with state or new values, every
// batch; nullopt removes), initial state, string_view keys, and layout independence.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <numeric>
#include <tuple>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)

DSTREAM_LAYOUT_SUITE(UpdateStateTest);

auto wordPairs(auto s) {
  return s.flatMap([](const std::string& l) { return split(l, ' '); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); });
}

const auto kRunningCount = [](std::span<const long> vs, std::optional<long> s) {
  return std::optional<long>(s.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L));
};

TEST_P(UpdateStateTest, RunningCountKeepsKeysAcrossBatches) {
  auto out = runStream<std::string>({{"a b a"}, {}, {"b c"}}, [](auto s) {
    return wordPairs(s).updateStateByKey(kRunningCount);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 2}, {"c", 1}}}));
}

TEST_P(UpdateStateTest, CalledForEveryKeyEveryBatchAndNulloptRemoves) {
  // The state counts the batches since the key's last value; a key idle for 2 batches goes.
  auto out = runStream<std::string>({{"a b"}, {"b"}, {}, {}, {"a"}}, [](auto s) {
    return wordPairs(s).template updateStateByKey<long>([](std::span<const long> vs, std::optional<long> idle) {
      if (!vs.empty()) return std::optional<long>(0);
      if (*idle + 1 >= 2) return std::optional<long>();
      return std::optional<long>(*idle + 1);
    }, 3);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 0}, {"b", 0}}, {{"a", 1}, {"b", 0}}, {{"b", 1}}, {}, {{"a", 0}}}));
}

TEST_P(UpdateStateTest, NewKeysReturningNulloptAreNeverCreated) {
  auto out = runStream<std::string>({{"keep drop"}}, [](auto s) {
    return wordPairs(s).template updateStateByKey<long>([](std::span<const long> vs, std::optional<long> st) {
      return vs.size() == 1 && !st ? std::optional<long>(1) : std::optional<long>();
    });
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"drop", 1}, {"keep", 1}}}));
  auto dropOnly = runStream<std::string>({{"x x"}}, [](auto s) {
    return wordPairs(s).template updateStateByKey<long>([](std::span<const long> vs, std::optional<long>) {
      return vs.size() == 1 ? std::optional<long>(1) : std::optional<long>();
    });
  }, opts());
  EXPECT_EQ(dropOnly, (WordCounts{{}}));
}

TEST_P(UpdateStateTest, InitialStateIsUsedAndUpdated) {
  auto initial = RDD<std::pair<std::string, long>>::parallelize({{"a", 10}, {"z", 5}}, 2);
  auto out = runStream<std::string>({{"a b"}, {}}, [&](auto s) {
    return wordPairs(s).updateStateByKey(kRunningCount, 2, initial);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 11}, {"b", 1}, {"z", 5}}, {{"a", 11}, {"b", 1}, {"z", 5}}}));
}

TEST_P(UpdateStateTest, StateTypeCanDifferFromValueType) {
  using Seen = std::vector<std::vector<std::pair<int, std::string>>>;
  using KV = std::pair<int, char>;
  auto out = runStream<KV>({{{1, 'a'}, {2, 'x'}}, {{1, 'b'}}}, [](auto s) {
    return s.updateStateByKey([](std::span<const char> vs, std::optional<std::string> st) {
      std::string acc = st.value_or("");
      std::string add(vs.begin(), vs.end());
      std::sort(add.begin(), add.end());
      return std::optional<std::string>(acc + add);
    });
  }, opts());
  EXPECT_EQ(sorted(out), (Seen{{{1, "a"}, {2, "x"}}, {{1, "ab"}, {2, "x"}}}));
}

TEST(UpdateStateLayoutTest, ResultsDoNotDependOnParallelismOrPartitions) {
  std::vector<std::vector<std::string>> input;
  for (int b = 0; b < 8; ++b) input.push_back({std::string("w") + std::to_string(b % 3) + " w" + std::to_string(b % 5) + " common"});
  // The expected running counts, computed independently of the engine.
  WordCounts expected;
  std::map<std::string, long> running;
  for (const auto& batch : input) {
    for (const auto& line : batch) {
      for (auto w : split(line, ' ')) ++running[std::string(w)];
    }
    expected.emplace_back(running.begin(), running.end());
  }
  for (const char* master : {"local", "local[2]", "local[4]"}) {
    for (std::size_t parts : {1u, 4u}) {
      for (std::size_t statePartitions : {1u, 3u}) {
        auto out = runStream<std::string>(input, [&](auto s) {
          return wordPairs(s).updateStateByKey(kRunningCount, statePartitions);
        }, {.master = master, .partitionsPerBatch = parts});
        EXPECT_EQ(sorted(out), expected) << master << " " << parts << " " << statePartitions;
      }
    }
  }
}

// Spark's (Time, K, Seq[V], Option[S]) => Option[S] form: the state lists, per key, the
// batch times (in seconds) at which the key had values; a key idle for a batch is dropped.
TEST_P(UpdateStateTest, TimedFormSeesTheBatchTimeAndTheKey) {
  using Seen = std::vector<std::vector<std::pair<std::string, std::string>>>;
  auto out = runStream<std::string>({{"a b a"}, {"b"}, {}, {"a"}}, [](auto s) {
    return wordPairs(s).updateStateByKey(
        [](Time t, const std::string& key, std::span<const long> vs, std::optional<std::string> st) {
          if (vs.empty()) return std::optional<std::string>();
          return std::optional<std::string>(st.value_or(key + ":") + std::to_string(toMillis(t) / 1000) + "x" +
                                            std::to_string(vs.size()) + " ");
        });
  }, opts());
  EXPECT_EQ(sorted(out), (Seen{{{"a", "a:1x2 "}, {"b", "b:1x1 "}}, {{"b", "b:1x1 2x1 "}}, {}, {{"a", "a:4x1 "}}}));
}

// Spark's iterator form: f sees every key of a partition with its new values and old state
// and returns the states to keep. Here: running sums, and a key whose sum reaches 3 leaves.
TEST_P(UpdateStateTest, PartitionFormReturnsTheStatesToKeep) {
  using Row = std::tuple<std::string, std::span<const long>, std::optional<long>>;
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto out = runStream<std::string>({{"a b a c"}, {"b"}, {}, {"c b"}}, [&](auto s) {
    return wordPairs(s).updateStateByKey([calls](std::vector<Row> rows) {
      calls->fetch_add(1);
      std::vector<std::pair<std::string, long>> kept;
      for (auto& [key, vs, st] : rows) {
        long sum = st.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L);
        if (sum < 3) kept.emplace_back(key, sum);
      }
      return kept;
    }, 2);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}, {"c", 1}}, {{"a", 2}, {"b", 2}, {"c", 1}}, {{"a", 2}, {"b", 2}, {"c", 1}},
                                 {{"a", 2}, {"c", 2}}}));
  EXPECT_EQ(calls->load(), 4 * 2);  // once per state partition per batch
}

TEST(UpdateStateUidTest, KeepsWorkingWithAUid) {
  auto out = runStream<std::string>({{"a"}, {"a"}}, [](auto s) {
    return wordPairs(s).updateStateByKey(kRunningCount).uid("running-count");
  });
  EXPECT_EQ(out, (WordCounts{{{"a", 1}}, {{"a", 2}}}));
}

}  // namespace
}  // namespace dstream
