// mapWithState: per-record calls with State<S>, removal, idle timeouts on the manual clock,
// initial state, snapshots, the timed form, and State's error paths.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)
using KV = std::pair<std::string, long>;

DSTREAM_LAYOUT_SUITE(MapWithStateTest);

auto wordPairs(auto s) {
  return s.flatMap([](const std::string& l) { return split(l, ' '); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); });
}

// Emits (word, running count) per record.
const auto kCount = [](const std::string& key, std::optional<long> v, State<long>& state) {
  if (state.isTimingOut()) return std::pair<std::string, long>(key, state.get());
  long n = (state.exists() ? state.get() : 0) + v.value_or(0);
  state.update(n);
  return std::pair<std::string, long>(key, n);
};

TEST_P(MapWithStateTest, EmitsOneResultPerRecordWithRunningState) {
  auto out = runStream<std::string>({{"a b a"}, {}, {"a"}}, [](auto s) {
    return wordPairs(s).mapWithState(StateSpec::function(kCount));
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 1}, {"a", 2}, {"b", 1}}, {}, {{"a", 3}}}));
}

TEST_P(MapWithStateTest, SnapshotsShowEveryKeyAfterEachBatch) {
  auto out = runStream<std::string>({{"a b a"}, {}, {"c"}}, [](auto s) {
    return wordPairs(s).mapWithState(StateSpec::function(kCount).numPartitions(3)).stateSnapshots();
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 1}, {"c", 1}}}));
}

TEST_P(MapWithStateTest, RemoveDeletesTheKey) {
  auto spec = StateSpec::function([](const std::string& key, std::optional<long>, State<long>& state) {
    if (state.exists()) {
      state.remove();
      return key + ":removed";
    }
    state.update(1);
    return key + ":created";
  });
  auto out = runStream<std::string>({{"a"}, {"a"}, {"a"}}, [&](auto s) { return wordPairs(s).mapWithState(spec); }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<std::string>>{{"a:created"}, {"a:removed"}, {"a:created"}}));
}

// Batches every 1 s, timeout 2 s: a key last given data at t times out at the first batch
// after t + 2 s (Spark: last update < batch time - timeout), with one call marked timing out.
TEST_P(MapWithStateTest, IdleKeysTimeOutWithOneLastCall) {
  auto spec = StateSpec::function([](const std::string& key, std::optional<long> v, State<long>& state) {
                if (state.isTimingOut()) return key + ":timeout@" + std::to_string(state.get());
                state.update((state.exists() ? state.get() : 0) + *v);
                return key + ":" + std::to_string(state.get());
              }).timeout(Seconds(2));
  auto out = runStream<std::string>({{"a b"}, {"b"}, {}, {"b"}, {}, {}, {}, {}},
                                    [&](auto s) { return wordPairs(s).mapWithState(spec); }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<std::string>>{
                             {"a:1", "b:1"}, {"b:2"}, {}, {"a:timeout@1", "b:3"}, {}, {}, {"b:timeout@3"}, {}}));
}

TEST_P(MapWithStateTest, TimedOutStateIsGoneFromSnapshots) {
  auto out = runStream<std::string>({{"a"}}, [](auto s) {
    return wordPairs(s).mapWithState(StateSpec::function(kCount).timeout(Seconds(1))).stateSnapshots();
  }, opts(Seconds(1), 4));
  EXPECT_EQ(out, (WordCounts{{{"a", 1}}, {{"a", 1}}, {}, {}}));
}

TEST_P(MapWithStateTest, UpdatingATimingOutStateIsAnError) {
  auto spec = StateSpec::function([](const std::string&, std::optional<long>, State<long>& state) {
                state.update(1);  // throws on the timing-out call
                return 0;
              }).timeout(Seconds(1));
  try {
    runStream<std::string>({{"a"}}, [&](auto s) { return wordPairs(s).mapWithState(spec); }, opts(Seconds(1), 4));
    FAIL() << "expected the timing-out call to fail the batch";
  } catch (const Error& e) {
    // Batch 3000 times the key out (its data came at 1000, before 3000 - 1 s).
    EXPECT_NE(std::string(e.what()).find("batch at 3000 ms failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("State::update: the state is timing out and cannot be updated"),
              std::string::npos) << e.what();
  }
}

TEST_P(MapWithStateTest, InitialStateIsSeenAndCanTimeOut) {
  auto initial = RDD<std::pair<std::string, long>>::parallelize({{"a", 100}, {"z", 7}});
  auto spec = StateSpec::function([](const std::string& key, std::optional<long> v, State<long>& state) {
                if (state.isTimingOut()) return key + ":timeout";
                state.update(state.getOption().value_or(0) + v.value_or(0));
                return key + ":" + std::to_string(state.get());
              }).initialState(initial).timeout(Seconds(2));
  auto out = runStream<std::string>({{"a"}, {}, {}, {}}, [&](auto s) { return wordPairs(s).mapWithState(spec); }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<std::string>>{{"a:101"}, {}, {}, {"a:timeout", "z:timeout"}}));
}

TEST_P(MapWithStateTest, TimedFormSeesTheBatchTimeAndMayEmitNothing) {
  auto spec = StateSpec::function([](Time t, const std::string& key, std::optional<long>, State<int>& state) {
    bool first = !state.exists();
    state.update(1);
    return first ? std::optional<std::pair<std::string, long>>({key, toMillis(t) / 1000}) : std::nullopt;
  });
  auto out = runStream<std::string>({{"a a"}, {"a b"}}, [&](auto s) { return wordPairs(s).mapWithState(spec); }, opts());
  // The manual clock starts at 0: batches at 1 s and 2 s.
  EXPECT_EQ(out, (WordCounts{{{"a", 1}}, {{"b", 2}}}));
}

TEST(StateTest, ErrorPathsFollowSpark) {
  State<int> absent(std::nullopt, false);
  EXPECT_FALSE(absent.exists());
  EXPECT_THROW(absent.get(), Error);
  absent.update(3);
  EXPECT_EQ(absent.get(), 3);
  absent.remove();
  EXPECT_FALSE(absent.exists());
  EXPECT_THROW(absent.remove(), Error);
  EXPECT_THROW(absent.update(4), Error);
  State<int> timingOut(5, true);
  EXPECT_TRUE(timingOut.isTimingOut());
  EXPECT_EQ(timingOut.get(), 5);
  try {
    timingOut.update(6);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
    EXPECT_STREQ(e.what(), "dstream: State::update: the state is timing out and cannot be updated");
  }
  EXPECT_THROW(timingOut.remove(), Error);
}

TEST(StateTest, IsUpdatedAndIsRemovedReportWhatTheCallDid) {
  State<int> st(1, false);
  EXPECT_FALSE(st.isUpdated());
  EXPECT_FALSE(st.isRemoved());
  st.update(2);
  EXPECT_TRUE(st.isUpdated());
  EXPECT_FALSE(st.isRemoved());
  st.remove();
  EXPECT_FALSE(st.isUpdated());  // the update was undone
  EXPECT_TRUE(st.isRemoved());
  State<int> fresh(std::nullopt, false);
  fresh.update(5);
  EXPECT_TRUE(fresh.isUpdated());
  EXPECT_EQ(fresh.value(), std::optional<int>(5));
}

TEST(MapWithStateLayoutTest, ResultsDoNotDependOnParallelismOrPartitions) {
  std::vector<std::vector<std::string>> input;
  for (int b = 0; b < 10; ++b) input.push_back({b % 4 == 2 ? "" : std::string("w") + std::to_string(b % 3) + " w" + std::to_string(b % 5)});
  // The expected snapshots, from a direct model of Spark's rules: batch b (at b + 1 s) adds
  // its words to their counts and refreshes them; a key whose last data came more than the
  // 2 s timeout before the batch time is removed.
  WordCounts expected;
  std::map<std::string, std::pair<long, int>> model;  // key -> (count, batch of last data)
  for (int b = 0; b < static_cast<int>(input.size()); ++b) {
    for (auto w : split(input[b][0], ' ')) {
      auto& [count, last] = model[std::string(w)];
      ++count;
      last = b;
    }
    std::erase_if(model, [&](const auto& kv) { return kv.second.second < b - 2; });
    std::vector<std::pair<std::string, long>> snapshot;
    for (const auto& [k, v] : model) snapshot.emplace_back(k, v.first);
    expected.push_back(snapshot);
  }
  for (const char* master : {"local", "local[2]", "local[4]"}) {
    for (std::size_t parts : {1u, 3u}) {
      auto out = runStream<std::string>(input, [](auto s) {
        return wordPairs(s).mapWithState(StateSpec::function(kCount).timeout(Seconds(2))).stateSnapshots();
      }, {.master = master, .partitionsPerBatch = parts});
      EXPECT_EQ(sorted(out), expected) << master << " " << parts;
    }
  }
}

}  // namespace
}  // namespace dstream
