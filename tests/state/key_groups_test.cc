// updateStateByKey groups each batch's values per key without a vector per key
// (detail::KeyGroups in state_nodes.h): one table lookup per record, one array of values
// per state partition, f called with a span into it. These tests check the grouping itself
// (many keys, keys that all hash alike, reuse across batches, non-trivial values) and what f sees
// through the stream: every key once per batch, values in arrival order, duplicates from
// several input partitions merged, empty batches, removal and re-adding, initial state, and
// an earlier output held while the state is updated. Deterministic: manual clock, fixed data.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/detail/state_nodes.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/layouts.h"

namespace dstream {

// A key type whose every value hashes alike (one test's worst case); in namespace dstream,
// where Hasher is specialised.
struct CollidingKey {
  long id;
  bool operator==(const CollidingKey&) const = default;
};
template <>
struct Hasher<CollidingKey> {
  std::uint64_t operator()(const CollidingKey&) const { return 7; }
};

namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)
using detail::KeyGroups;
constexpr std::size_t kNpos = KeyGroups<long, long>::npos;  // the same for every KeyGroups

std::string keyName(long i) {
  std::string name(1, 'k');  // not "k" + ...: GCC 12 warns wrongly (-Wrestrict) on that
  name += std::to_string(i);
  return name;
}

// ---- KeyGroups on its own ----

TEST(KeyGroupsTest, ManyKeysKeepTheirValuesInArrivalOrder) {
  // 50,000 keys (the table grows many times), key i appearing i % 5 + 1 times, interleaved.
  constexpr long kKeys = 50'000;
  std::vector<std::string> names;
  for (long i = 0; i < kKeys; ++i) names.push_back(keyName(i));
  std::vector<std::pair<long, long>> records;  // (key, value)
  for (long round = 0; round < 5; ++round) {
    for (long i = 0; i < kKeys; ++i) {
      if (round <= i % 5) records.emplace_back(i, round * kKeys + i);
    }
  }
  KeyGroups<std::string_view, long> g;
  g.clear();
  for (auto [k, v] : records) g.add(Hasher<std::string_view>{}(names[k]), std::string_view(names[k]), v);
  g.finish();
  ASSERT_EQ(g.size(), static_cast<std::size_t>(kKeys));
  for (long i = 0; i < kKeys; ++i) {
    std::string_view k = names[i];
    std::size_t at = g.find(Hasher<std::string_view>{}(k), k);
    ASSERT_NE(at, kNpos) << k;
    EXPECT_EQ(at, static_cast<std::size_t>(i)) << "groups are numbered in order of first arrival";
    EXPECT_EQ(g.key(at), k);
    std::vector<long> expected;
    for (long round = 0; round <= i % 5; ++round) expected.push_back(round * kKeys + i);
    auto vs = g.values(at);
    ASSERT_EQ(std::vector<long>(vs.begin(), vs.end()), expected) << k;
  }
  std::string_view absent = "absent";
  EXPECT_EQ(g.find(Hasher<std::string_view>{}(absent), absent), kNpos);
}

TEST(KeyGroupsTest, KeysWhoseHashesCollideStayApart) {
  // Every key hashes alike (CollidingKey's Hasher, above): the index must fall back to
  // comparing keys.
  const std::uint64_t h = Hasher<CollidingKey>{}(CollidingKey{0});
  KeyGroups<CollidingKey, int> g;
  g.clear();
  for (int round = 0; round < 3; ++round) {
    for (long k = 0; k < 200; ++k) g.add(h, CollidingKey{k}, round);
  }
  g.finish();
  ASSERT_EQ(g.size(), 200u);
  for (long k = 0; k < 200; ++k) {
    std::size_t at = g.find(h, CollidingKey{k});
    ASSERT_NE(at, kNpos);
    EXPECT_EQ(g.key(at).id, k);
    auto vs = g.values(at);
    EXPECT_EQ(std::vector<int>(vs.begin(), vs.end()), (std::vector<int>{0, 1, 2}));
  }
  EXPECT_EQ(g.find(h, CollidingKey{1000}), kNpos);
}

TEST(KeyGroupsTest, ABatchSeesNothingOfThePreviousOne) {
  KeyGroups<long, long> g;
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(g.find(Hasher<long>{}(1L), 1L), kNpos);  // a fresh one is empty
  g.clear();
  for (long k = 0; k < 1000; ++k) g.add(Hasher<long>{}(k), k, k);
  g.finish();
  g.clear();
  for (long k = 500; k < 600; ++k) {
    g.add(Hasher<long>{}(k), k, -k);
    g.add(Hasher<long>{}(k), k, -2 * k);
  }
  g.finish();
  ASSERT_EQ(g.size(), 100u);
  EXPECT_EQ(g.find(Hasher<long>{}(1L), 1L), kNpos);
  for (long k = 500; k < 600; ++k) {
    auto vs = g.values(g.find(Hasher<long>{}(k), k));
    EXPECT_EQ(std::vector<long>(vs.begin(), vs.end()), (std::vector<long>{-k, -2 * k}));
  }
  g.clear();
  g.finish();
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(g.find(Hasher<long>{}(550L), 550L), kNpos);
}

TEST(KeyGroupsTest, ValuesThatOwnMemoryAreMovedIntoPlace) {
  KeyGroups<std::string, std::string> g;
  g.clear();
  const std::string long1(100, 'x'), long2(100, 'y');
  for (int i = 0; i < 3; ++i) {
    g.add(Hasher<std::string>{}("a"), std::string("a"), long1 + std::to_string(i));
    g.add(Hasher<std::string>{}("b"), std::string("b"), long2 + std::to_string(i));
  }
  g.finish();
  ASSERT_EQ(g.size(), 2u);
  auto a = g.values(g.find(Hasher<std::string>{}("a"), "a"));
  auto b = g.values(g.find(Hasher<std::string>{}("b"), "b"));
  EXPECT_EQ(std::vector<std::string>(a.begin(), a.end()),
            (std::vector<std::string>{long1 + "0", long1 + "1", long1 + "2"}));
  EXPECT_EQ(std::vector<std::string>(b.begin(), b.end()),
            (std::vector<std::string>{long2 + "0", long2 + "1", long2 + "2"}));
}

TEST(KeyGroupsTest, RoutingAgreesWithPartitionOf) {
  // Records are routed with their hash, state keys placed with partitionOf: they must agree,
  // and with the mixed hash modulo n (what checkpoints written by earlier versions assumed),
  // whether n is a power of two (low bits) or not (a division).
  for (std::size_t n : {1u, 2u, 3u, 4u, 7u, 8u, 64u}) {
    for (long i = 0; i < 2000; ++i) {
      std::string k = keyName(i);
      const std::uint64_t h = Hasher<std::string_view>{}(k);
      EXPECT_EQ(detail::partitionOfHash(h, n), detail::partitionOf(k, n)) << k << " " << n;
      EXPECT_EQ(detail::partitionOfHash(h, n), mix64(h) % n) << k << " " << n;
      EXPECT_EQ(detail::partitionOfHash(Hasher<long>{}(i), n), detail::partitionOf(i, n)) << i << " " << n;
    }
  }
}

// ---- What f sees through the stream ----

DSTREAM_LAYOUT_SUITE(UpdateStateGroupingTest);

using KV = std::pair<std::string, long>;
using Trace = std::vector<std::vector<std::pair<std::string, std::string>>>;

TEST_P(UpdateStateGroupingTest, ValuesArriveInOrderAcrossInputPartitions) {
  // Each key's values are its records' sequence numbers; the state lists them as f saw them.
  std::vector<std::vector<KV>> input(3);
  long seq = 0;
  for (auto& batch : input) {
    for (int r = 0; r < 40; ++r) batch.emplace_back(keyName(r % 7), seq++);
  }
  Trace expected;
  std::map<std::string, std::string> lists;
  for (const auto& batch : input) {
    for (const auto& [k, v] : batch) lists[k] += std::to_string(v) + ",";
    expected.emplace_back(lists.begin(), lists.end());
  }
  for (std::size_t statePartitions : {1u, 3u}) {
    auto out = runStream<KV>(input, [&](auto s) {
      return s.updateStateByKey([](std::span<const long> vs, std::optional<std::string> st) {
        std::string list = st.value_or("");
        for (long v : vs) list += std::to_string(v) + ",";
        return std::optional<std::string>(list);
      }, statePartitions);
    }, opts());
    EXPECT_EQ(sorted(out), expected) << statePartitions << " state partitions";
  }
}

TEST_P(UpdateStateGroupingTest, ValuesArriveInOrderWhenTheWorkersTakeTheInputInSlices) {
  // Batches large enough to be cut into many slices (detail::SliceQueue) that the workers take
  // in whatever order they get to them: each key's values must still reach f in input order.
  // The state is (values seen, last value), or last = -1 once a value came out of order.
  constexpr long kPerBatch = 60'000;
  using Seen = std::pair<long, long>;
  std::vector<std::vector<KV>> input(3);
  long seq = 0;
  for (auto& batch : input) {
    for (long r = 0; r < kPerBatch; ++r) batch.emplace_back(keyName(r % 97), seq++);
  }
  std::vector<std::vector<std::pair<std::string, Seen>>> expected;
  std::map<std::string, Seen> seen;
  for (const auto& batch : input) {
    for (const auto& [k, v] : batch) ++seen[k].first, seen[k].second = v;
    expected.emplace_back(seen.begin(), seen.end());
  }
  for (std::size_t statePartitions : {1u, 3u}) {
    auto out = runStream<KV>(input, [&](auto s) {
      return s.updateStateByKey([](std::span<const long> vs, std::optional<Seen> st) {
        Seen next = st.value_or(Seen{0, -2});
        for (long v : vs) {
          next.second = next.second != -1 && v > next.second ? v : -1;
          ++next.first;
        }
        return std::optional<Seen>(next);
      }, statePartitions);
    }, opts());
    EXPECT_EQ(sorted(out), expected) << statePartitions << " state partitions";
  }
}

TEST_P(UpdateStateGroupingTest, ManyKeysWithDuplicatesAcrossPartitionsAreCalledOncePerBatch) {
  // 20,000 keys; in each batch a key appears several times, spread over the input partitions.
  // f counts its calls per batch (timed form) and the values it got.
  constexpr long kKeys = 20'000;
  std::vector<std::vector<KV>> input(4);
  for (std::size_t b = 0; b < input.size(); ++b) {
    for (long copy = 0; copy < 3; ++copy) {
      for (long i = 0; i < kKeys; ++i) {
        if ((i + static_cast<long>(b)) % 4 != 0 || copy == 0) input[b].emplace_back(keyName((i * 7919) % kKeys), 1);
      }
    }
  }
  // The reference: running counts per key, computed without the engine.
  WordCounts expected;
  std::map<std::string, long> running;
  std::vector<std::size_t> keysCalled;  // per batch: keys with state or values = f's calls
  for (const auto& batch : input) {
    for (const auto& [k, v] : batch) running[k] += v;
    expected.emplace_back(running.begin(), running.end());
    keysCalled.push_back(running.size());
  }
  for (std::size_t statePartitions : {1u, 3u}) {
    auto calls = std::make_shared<std::mutex>();
    auto perBatch = std::make_shared<std::map<long, std::map<std::string, int>>>();
    auto out = runStream<KV>(input, [&](auto s) {
      return s.updateStateByKey(
          [calls, perBatch](Time t, const std::string& key, std::span<const long> vs, std::optional<long> st) {
            {
              std::lock_guard lock(*calls);
              ++(*perBatch)[toMillis(t)][key];
            }
            return std::optional<long>(st.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L));
          },
          statePartitions);
    }, opts());
    EXPECT_EQ(sorted(out), expected) << statePartitions;
    ASSERT_EQ(perBatch->size(), input.size());
    std::size_t b = 0;
    for (const auto& [t, keys] : *perBatch) {
      EXPECT_EQ(keys.size(), keysCalled[b]) << "batch " << b;
      EXPECT_TRUE(std::all_of(keys.begin(), keys.end(), [](const auto& kc) { return kc.second == 1; }))
          << "a key called twice in batch " << b;
      ++b;
    }
  }
}

TEST_P(UpdateStateGroupingTest, EmptyBatchesCallFForEveryKeyWithoutValues) {
  // State: "<values seen>/<calls without values>".
  auto out = runStream<std::string>({{"a b a"}, {}, {}, {"b"}, {}}, [](auto s) {
    return s.flatMap([](const std::string& l) { return split(l, ' '); })
        .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
        .template updateStateByKey<std::pair<long, long>>(
            [](std::span<const long> vs, std::optional<std::pair<long, long>> st) {
              auto acc = st.value_or(std::pair<long, long>(0, 0));
              if (vs.empty()) ++acc.second;
              acc.first += static_cast<long>(vs.size());
              return std::optional<std::pair<long, long>>(acc);
            },
            2);
  }, opts());
  using Seen = std::vector<std::vector<std::pair<std::string, std::pair<long, long>>>>;
  EXPECT_EQ(sorted(out), (Seen{{{"a", {2, 0}}, {"b", {1, 0}}},
                              {{"a", {2, 1}}, {"b", {1, 1}}},
                              {{"a", {2, 2}}, {"b", {1, 2}}},
                              {{"a", {2, 3}}, {"b", {2, 2}}},
                              {{"a", {2, 4}}, {"b", {2, 3}}}}));
}

TEST_P(UpdateStateGroupingTest, ARemovedKeyComesBackWithoutItsOldState) {
  // A key leaves when its count reaches 3; when it comes back, f sees no old state.
  // State: (count, "n" for each fresh start).
  std::vector<std::vector<KV>> input = {
      {{"a", 1}, {"a", 1}, {"b", 1}}, {{"a", 1}, {"c", 1}}, {{"a", 1}, {"b", 1}}, {}, {{"a", 2}, {"b", 1}}};
  auto out = runStream<KV>(input, [](auto s) {
    return s.template updateStateByKey<std::pair<long, std::string>>(
        [](std::span<const long> vs, std::optional<std::pair<long, std::string>> st)
            -> std::optional<std::pair<long, std::string>> {
          auto acc = st ? *st : std::pair<long, std::string>(0, "n");  // "n": started afresh
          acc.first += std::accumulate(vs.begin(), vs.end(), 0L);
          if (acc.first >= 3) return std::nullopt;
          return acc;
        },
        3);
  }, opts());
  using Seen = std::vector<std::vector<std::pair<std::string, std::pair<long, std::string>>>>;
  EXPECT_EQ(sorted(out), (Seen{{{"a", {2, "n"}}, {"b", {1, "n"}}},
                              {{"b", {1, "n"}}, {"c", {1, "n"}}},  // a reached 3: removed
                              {{"a", {1, "n"}}, {"b", {2, "n"}}, {"c", {1, "n"}}},
                              {{"a", {1, "n"}}, {"b", {2, "n"}}, {"c", {1, "n"}}},
                              {{"c", {1, "n"}}}}));  // a: 1 + 2, b: 2 + 1
}

TEST_P(UpdateStateGroupingTest, InitialStateMeetsTheFirstBatchsValues) {
  std::vector<KV> initial;
  for (long i = 0; i < 1000; ++i) initial.emplace_back(keyName(i), 100);
  auto initialRDD = RDD<KV>::parallelize(initial, 3);
  std::vector<std::vector<KV>> input = {{{keyName(5), 1}, {"new", 1}, {keyName(5), 1}}, {{keyName(999), 2}}};
  auto out = runStream<KV>(input, [&](auto s) {
    return s.updateStateByKey([](std::span<const long> vs, std::optional<long> st) {
      return std::optional<long>(st.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L));
    }, 2, initialRDD);
  }, opts());
  std::map<std::string, long> state(initial.begin(), initial.end());
  state[keyName(5)] += 2;
  state["new"] = 1;
  WordCounts expected;
  expected.emplace_back(state.begin(), state.end());
  state[keyName(999)] += 2;
  expected.emplace_back(state.begin(), state.end());
  EXPECT_EQ(sorted(out), expected);
}

// ---- An earlier output held while the state is updated ----

TEST(UpdateStateGroupingHeldTest, AHeldOutputKeepsWhatItSawWhileKeysComeGoAndReturn) {
  // 3,000 keys; key i gets a value in batch b when (i + b) % 3 != 0; a key is removed when it
  // got no value (so it comes back a batch later, fresh). Every output is held to the end and
  // compared with a copy taken when it was emitted.
  constexpr long kKeys = 3'000;
  constexpr int kBatches = 6;
  for (const char* master : {"local[1]", "local[2]"}) {
    SCOPED_TRACE(master);
    auto clock = std::make_shared<ManualClock>();
    StreamingContext ssc(master, Seconds(1), {.clock = clock});
    auto queue = std::make_shared<RDDQueue<KV>>();
    std::vector<std::vector<KV>> expected;  // per batch, sorted
    std::map<std::string, long> running;
    for (int b = 0; b < kBatches; ++b) {
      std::vector<KV> batch;
      for (long i = 0; i < kKeys; ++i) {
        if ((i + b) % 3 != 0) batch.emplace_back(keyName(i), i);
      }
      std::map<std::string, long> next;
      for (const auto& [k, v] : batch) next[k] = (running.count(k) ? running[k] : 0) + v;
      running = next;  // keys without a value this batch are removed
      expected.emplace_back(running.begin(), running.end());
      queue->push(std::move(batch), 3);
    }
    std::mutex mu;
    std::vector<RDD<KV>> held;
    std::vector<std::vector<KV>> atEmission;
    ssc.queueStream(queue)
        .updateStateByKey([](std::span<const long> vs, std::optional<long> st) -> std::optional<long> {
          if (vs.empty()) return std::nullopt;
          return st.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L);
        }, 2)
        .foreachRDD([&](const RDD<KV>& rdd, Time) {
          auto copy = rdd.collect();
          std::sort(copy.begin(), copy.end());
          std::lock_guard lock(mu);
          held.push_back(rdd);
          atEmission.push_back(std::move(copy));
        });
    ssc.start();
    Time first = firstBatchTime(ssc);
    for (int b = 0; b < kBatches; ++b) {
      Time t = first + Seconds(static_cast<long>(b));
      clock->setTime(t);
      ASSERT_TRUE(awaitBatchCompleted(ssc, t, Seconds(60)));
    }
    ssc.stop();
    ssc.awaitTermination();
    ASSERT_EQ(held.size(), static_cast<std::size_t>(kBatches));
    for (int b = 0; b < kBatches; ++b) {
      EXPECT_EQ(atEmission[b], expected[b]) << "batch " << b;
      auto now = held[b].collect();
      std::sort(now.begin(), now.end());
      EXPECT_EQ(now, expected[b]) << "held output of batch " << b << " changed";
    }
  }
}

}  // namespace
}  // namespace dstream
