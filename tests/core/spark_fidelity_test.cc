// Behaviours checked against Spark's own streaming suites (issue 10): print formats, batch
// directory names, slice and remember, checkpointDuration, and the failure Spark reports
// when a parent of union or transform yields no batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/errors.h"

namespace dstream {
namespace {

using testing::expectErrorMessage;
using testing::expectInvalid;

// Sets TZ for one test, so local-time headers are predictable.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (old_) ::setenv("TZ", old_->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

// Starts `ssc`, runs `n` batches on `clock` and stops it; returns what the batches printed.
std::string printedBy(StreamingContext& ssc, ManualClock& clock, int n) {
  ::testing::internal::CaptureStdout();
  ssc.start();
  auto ran = testing::runBatches(ssc, clock, n);
  ssc.stop();
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(ran);
  return out;
}

// A queue of `n` one-element batches: {1}, {2}, ... {n}.
std::shared_ptr<RDDQueue<int>> oneElementBatches(int n) {
  auto q = std::make_shared<RDDQueue<int>>();
  for (int i = 1; i <= n; ++i) q->push({i});
  return q;
}

const std::string kDashes = "-------------------------------------------\n";

TEST(PprintTest, HeaderShowsFractionsOfASecondAsPysparkDoes) {
  ScopedTimeZone utc("UTC");
  // pyspark prints str(datetime): microseconds only when they are not zero.
  EXPECT_EQ(detail::pprintHeader(timeFromMillis(1'700'000'000'500)),
            kDashes + "Time: 2023-11-14 22:13:20.500000\n" + kDashes);
  EXPECT_EQ(detail::pprintHeader(timeFromMillis(1'700'000'000'007)),
            kDashes + "Time: 2023-11-14 22:13:20.007000\n" + kDashes);
  EXPECT_EQ(detail::pprintHeader(timeFromMillis(1'700'000'000'000)), kDashes + "Time: 2023-11-14 22:13:20\n" + kDashes);
}

TEST(PprintTest, HalfSecondBatchesPrintTheirFraction) {
  ScopedTimeZone utc("UTC");
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Milliseconds(500), {.clock = clock});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({7});
  q->push({8});
  ssc.queueStream(q).pprint();
  EXPECT_EQ(printedBy(ssc, *clock, 2), kDashes + "Time: 1970-01-01 00:00:00.500000\n" + kDashes + "7\n\n" + kDashes +
                     "Time: 1970-01-01 00:00:01\n" + kDashes + "8\n\n");
}

template <class T>
std::string scala(const T& value) {
  std::string out;
  scalaFormatTo(out, value);
  return out;
}

TEST(ScalaPrintTest, PairsAndTuplesPrintAsScalaToString) {
  EXPECT_EQ(scala(std::pair<std::string, long>("a", 1)), "(a,1)");
  using Inner = std::tuple<std::string, double, std::pair<int, int>>;
  EXPECT_EQ(scala(std::pair<int, Inner>(1, Inner("b", 2.5, std::pair<int, int>(3, 4)))), "(1,(b,2.5,(3,4)))");
  EXPECT_EQ(scala(std::vector<std::optional<int>>{3, std::nullopt}), "[Some(3), None]");
  EXPECT_EQ(scala(std::string("as is")), "as is");
  // pprint and saveAsTextFiles keep pyspark's spacing.
  EXPECT_EQ(toText(std::pair<std::string, long>("a", 1)), "(a, 1)");
}

TEST(ScalaPrintTest, PrintShowsTheFirstNElementsInScalaForm) {
  using Joined = std::pair<std::string, std::pair<int, std::optional<std::string>>>;
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<Joined>>();
  q->push({{"a", {1, "x"}}, {"b", {2, std::nullopt}}, {"c", {3, "z"}}});
  q->push({{"d", {4, std::nullopt}}});
  ssc.queueStream(q).print(2);
  EXPECT_EQ(printedBy(ssc, *clock, 2), kDashes + "Time: 1000 ms\n" + kDashes + "(a,(1,Some(x)))\n(b,(2,None))\n...\n\n" + kDashes +
                     "Time: 2000 ms\n" + kDashes + "(d,(4,None))\n\n");
}

TEST(SaveAsTextFilesNameTest, EmptyPrefixOrSuffixIsLeftOutAsSparkDoes) {
  Time t = timeFromMillis(1000);
  EXPECT_EQ(detail::batchDirectoryName("", "txt", t), "1000.txt");
  EXPECT_EQ(detail::batchDirectoryName("", "", t), "1000");
  EXPECT_EQ(detail::batchDirectoryName("out", "", t), "out-1000");
  EXPECT_EQ(detail::batchDirectoryName("/data/out", "txt", t), "/data/out-1000.txt");
}

// Spark's BasicOperationsSuite "slice": four one-element batches, then slices of them.
TEST(SliceTest, ReturnsTheBatchesInATimeRangeBothEndsIncluded) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  ssc.remember(Seconds(10));
  auto stream = ssc.queueStream(oneElementBatches(4));
  stream.foreachRDD([](const RDD<int>&) {});
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 4));
  auto elements = [&](long from, long to) {
    std::vector<int> all;
    for (const auto& rdd : stream.slice(timeFromMillis(from), timeFromMillis(to))) {
      for (int x : rdd.collect()) all.push_back(x);
    }
    std::sort(all.begin(), all.end());
    return all;
  };
  EXPECT_EQ(elements(0, 1000), (std::vector<int>{1}));
  EXPECT_EQ(elements(0, 2000), (std::vector<int>{1, 2}));
  EXPECT_EQ(elements(1000, 2000), (std::vector<int>{1, 2}));
  EXPECT_EQ(elements(2000, 4000), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(elements(1500, 3700), (std::vector<int>{1, 2, 3}));  // ends rounded down onto the grid
  EXPECT_EQ(elements(5000, 9000), (std::vector<int>{}));         // not computed yet
  ssc.stop();
}

TEST(SliceTest, WithoutRememberOnlyTheLastBatchIsKept) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto stream = ssc.queueStream(oneElementBatches(3));
  stream.foreachRDD([](const RDD<int>&) {});
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 3));
  auto slices = stream.slice(timeFromMillis(1000), timeFromMillis(3000));
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].collect(), (std::vector<int>{3}));
  ssc.stop();
}

TEST(SliceTest, OnTheBatchThreadComputesBatchesNoOutputAskedFor) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1, 2});
  q->push({3});
  auto stream = ssc.queueStream(q);
  DStream<int> tens = stream.map([](int x) { return x * 10; });  // no output of its own
  std::vector<std::vector<int>> seen;
  stream.foreachRDD([&](const RDD<int>&, Time t) {
    std::vector<int> batch;
    for (const auto& rdd : tens.slice(t - Seconds(1), t)) {
      for (int x : rdd.collect()) batch.push_back(x);
    }
    std::sort(batch.begin(), batch.end());
    seen.push_back(batch);
  });
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 2));
  ssc.stop();
  // Batch 2000 reads the batch 1000 it computed before (still remembered) and its own.
  EXPECT_EQ(seen, (std::vector<std::vector<int>>{{10, 20}, {10, 20, 30}}));
}

TEST(SliceTest, BeforeStartIsAnError) {
  StreamingContext ssc("local", Seconds(1));
  auto stream = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  expectErrorMessage([&] { stream.slice(timeFromMillis(0), timeFromMillis(1000)); }, ErrorCode::kFailedPrecondition,
                     "dstream: slice: the stream has not been initialized; call slice after start()");
}

TEST(RememberTest, RejectsBadDurationsASecondCallAndCallsAfterStart) {
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  expectInvalid([&] { ssc.remember(Seconds(0)); }, "dstream: remember: duration 0ms must be positive");
  ssc.remember(Seconds(5));
  expectErrorMessage([&] { ssc.remember(Seconds(6)); }, ErrorCode::kFailedPrecondition,
                     "dstream: remember: the remember duration is already set to 5s; it can be set once");
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).foreachRDD([](const RDD<int>&) {});
  ssc.start();
  EXPECT_THROW(ssc.remember(Seconds(7)), Error);
  ssc.stop();
}

TEST(RememberTest, StreamsKeepTheirBatchesForTheDuration) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  ssc.remember(Seconds(3));
  auto stream = ssc.queueStream(oneElementBatches(5));
  DStream<int> doubled = stream.map([](int x) { return 2 * x; });
  doubled.foreachRDD([](const RDD<int>&) {});
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 5));
  // After batch 5000, (2000, 5000] is kept: three batches, on the output and its parent.
  EXPECT_EQ(doubled.node()->numRemembered(), 3u);
  EXPECT_EQ(stream.node()->numRemembered(), 3u);
  std::vector<int> all;
  for (const auto& rdd : doubled.slice(timeFromMillis(1000), timeFromMillis(5000))) {
    for (int x : rdd.collect()) all.push_back(x);
  }
  EXPECT_EQ(all, (std::vector<int>{6, 8, 10}));
  ssc.stop();
}

TEST(CheckpointDurationTest, IsTheIntervalGivenToCheckpoint) {
  StreamingContext ssc("local", Seconds(1));
  auto stream = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  EXPECT_EQ(stream.checkpointDuration(), std::nullopt);
  auto checkpointed = stream.map([](int x) { return x + 1; }).checkpoint(Seconds(4));
  EXPECT_EQ(checkpointed.checkpointDuration(), std::optional<Duration>(Seconds(4)));
  EXPECT_EQ(stream.checkpointDuration(), std::nullopt);
}

// A custom source that yields no batch at 2000 ms (Spark: compute returns None).
class GappySource final : public detail::TypedNode<int> {
 public:
  GappySource(detail::Graph* c, Duration slide) : TypedNode<int>(c, "gappySource", {}, slide) {}

 protected:
  std::optional<RDD<int>> compute(Time t) override {
    if (toMillis(t) == 2000) return std::nullopt;
    return RDD<int>::fromPartitions({{static_cast<int>(toMillis(t) / 1000)}});
  }
};

// Runs three batches over a gappy source and the output `define` adds; returns the error
// that stopped the context ("" if none) and the batch times the output saw.
template <class Define>
std::pair<std::string, std::vector<long>> runOverGap(Define define) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto node = ssc.graph()->addNode<GappySource>(Seconds(1));
  DStream<int> gappy(ssc.graph(), node);
  gappy.uid("gappy");
  auto q = std::make_shared<RDDQueue<int>>();
  for (int i = 0; i < 3; ++i) q->push({100});
  auto seen = std::make_shared<std::vector<long>>();
  define(ssc, gappy, ssc.queueStream(q), seen);
  ssc.start();
  (void)testing::runBatches(ssc, *clock, 3);  // stops early at the batch that fails
  ssc.stop();
  try {
    ssc.awaitTermination();
  } catch (const Error& e) {
    return {e.what(), *seen};
  }
  return {"", *seen};
}

template <class T>
auto recordTimes(std::shared_ptr<std::vector<long>> seen) {
  return [seen](const RDD<T>&, Time t) { seen->push_back(toMillis(t)); };
}

TEST(MissingBatchTest, UnionFailsTheBatchNamingTheStreamAndTime) {
  auto [error, seen] = runOverGap([](StreamingContext&, DStream<int> gappy, DStream<int> other, auto seen) {
    other.union_(gappy).foreachRDD(recordTimes<int>(seen));
  });
  EXPECT_NE(error.find("union_: stream 0 (gappySource, uid \"gappy\") has no batch at 2000 ms"), std::string::npos)
      << error;
  EXPECT_EQ(seen, (std::vector<long>{1000}));
}

TEST(MissingBatchTest, TransformAndTransformWithFailTheBatch) {
  auto [error, seen] = runOverGap([](StreamingContext&, DStream<int> gappy, DStream<int>, auto seen) {
    gappy.transform([](const RDD<int>& r) { return r; }).foreachRDD(recordTimes<int>(seen));
  });
  EXPECT_NE(error.find("transform: stream 0 (gappySource, uid \"gappy\") has no batch at 2000 ms"), std::string::npos)
      << error;
  EXPECT_EQ(seen, (std::vector<long>{1000}));

  auto [joinError, joinSeen] = runOverGap([](StreamingContext&, DStream<int> gappy, DStream<int> other, auto seen) {
    auto keyed = [](int x) { return std::pair<int, int>(x, x); };
    other.map(keyed).join(gappy.map(keyed)).foreachRDD(recordTimes<std::pair<int, std::pair<int, int>>>(seen));
  });
  EXPECT_NE(joinError.find("join: stream"), std::string::npos) << joinError;
  EXPECT_NE(joinError.find("has no batch at 2000 ms"), std::string::npos) << joinError;
  EXPECT_EQ(joinSeen, (std::vector<long>{1000}));
}

TEST(MissingBatchTest, ContextTransformFailsTheBatch) {
  auto [error, seen] = runOverGap([](StreamingContext& ssc, DStream<int> gappy, DStream<int> other, auto seen) {
    ssc.transform([](const RDD<int>& a, const RDD<int>& b) { return a.union_(b); }, other, gappy)
        .foreachRDD(recordTimes<int>(seen));
  });
  EXPECT_NE(error.find("transform: stream 0 (gappySource, uid \"gappy\") has no batch at 2000 ms"), std::string::npos)
      << error;
  EXPECT_EQ(seen, (std::vector<long>{1000}));
}

TEST(MissingBatchTest, NarrowOperationsPassTheGapOnAsSparkDoes) {
  // Spark's map, glom and reduce return None for a parent's None: no batch, no failure.
  auto [error, seen] = runOverGap([](StreamingContext&, DStream<int> gappy, DStream<int>, auto seen) {
    gappy.map([](int x) { return x + 1; }).glom().foreachRDD(recordTimes<std::vector<int>>(seen));
  });
  EXPECT_EQ(error, "");
  EXPECT_EQ(seen, (std::vector<long>{1000, 3000}));
}

TEST(ContextTransformTest, DifferentSlidesAreAnError) {
  StreamingContext ssc("local", Seconds(1));
  auto s = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  EXPECT_THROW(ssc.transform([](const RDD<int>& a, const RDD<int>&) { return a; }, s, s.window(Seconds(2), Seconds(2))),
               Error);
}

TEST(PersistTest, APersistedStreamIsComputedOncePerBatchForTwoOutputs) {
  auto count = [](bool persist) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto clock = std::make_shared<ManualClock>();
    StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
    auto q = std::make_shared<RDDQueue<int>>();
    q->push({1, 2, 3});
    q->push({4});
    auto mapped = ssc.queueStream(q).map([calls](int x) {
      calls->fetch_add(1);
      return x;
    });
    auto run = [&](auto stream) {
      stream.foreachRDD([](const RDD<int>&) {});
      stream.count().foreachRDD([](const RDD<long>&) {});
    };
    if (persist) run(mapped.persist());
    else run(mapped);
    ssc.start();
    EXPECT_TRUE(testing::runBatches(ssc, *clock, 2));
    ssc.stop();
    return calls->load();
  };
  EXPECT_EQ(count(true), 4);   // once per element
  EXPECT_EQ(count(false), 8);  // an unpersisted narrow chain runs once per use, as in Spark
}

TEST(RDDTest, SortByTakeAndIsEmpty) {
  auto rdd = RDD<std::pair<std::string, int>>::parallelize({{"b", 2}, {"c", 3}, {"a", 1}, {"d", 0}}, 3);
  auto byValue = rdd.sortBy([](const auto& kv) { return kv.second; });
  EXPECT_EQ(byValue.numPartitions(), 1u);
  EXPECT_EQ(byValue.collect(), (std::vector<std::pair<std::string, int>>{{"d", 0}, {"a", 1}, {"b", 2}, {"c", 3}}));
  auto byKeyDescending = rdd.sortBy([](const auto& kv) { return kv.first; }, /*ascending=*/false);
  EXPECT_EQ(byKeyDescending.take(2), (std::vector<std::pair<std::string, int>>{{"d", 0}, {"c", 3}}));
  // take crosses partitions in partition order, and stops at what there is.
  EXPECT_EQ(rdd.take(3), (std::vector<std::pair<std::string, int>>{{"b", 2}, {"c", 3}, {"a", 1}}));
  EXPECT_EQ(rdd.take(10).size(), 4u);
  EXPECT_TRUE(rdd.take(0).empty());
  EXPECT_FALSE(rdd.isEmpty());
  EXPECT_TRUE(RDD<int>().isEmpty());
  EXPECT_TRUE(RDD<int>::fromPartitions({{}, {}}).isEmpty());
}

TEST(PairKeysTest, PairAndTupleKeysReduceAndKeepState) {
  using PairKey = std::pair<std::string, int>;
  auto byPair = testing::runStream<std::pair<PairKey, long>>(
      {{{{"a", 1}, 1}, {{"a", 2}, 5}, {{"a", 1}, 2}}, {{{"b", 1}, 4}}},
      [](auto s) { return s.reduceByKey([](long a, long b) { return a + b; }); });
  EXPECT_EQ(testing::sortedWithinBatches(byPair),
            (std::vector<std::vector<std::pair<PairKey, long>>>{{{{"a", 1}, 3}, {{"a", 2}, 5}}, {{{"b", 1}, 4}}}));
  using TupleKey = std::tuple<int, std::string_view, char>;
  std::vector<std::string> words = {"x", "y"};
  auto byTuple = testing::runStream<std::pair<TupleKey, long>>(
      {{{{1, words[0], 'p'}, 1}, {{1, words[0], 'p'}, 1}, {{1, words[1], 'p'}, 1}}, {{{1, words[0], 'p'}, 1}}},
      [](auto s) {
        return s.updateStateByKey([](std::span<const long> vs, std::optional<long> st) {
          return std::optional<long>(st.value_or(0) + static_cast<long>(vs.size()));
        });
      });
  using Stored = std::pair<std::tuple<int, std::string, char>, long>;  // string_view keys are kept as strings
  EXPECT_EQ(testing::sortedWithinBatches(byTuple),
            (std::vector<std::vector<Stored>>{{{{1, "x", 'p'}, 2}, {{1, "y", 'p'}, 1}},
                                              {{{1, "x", 'p'}, 3}, {{1, "y", 'p'}, 1}}}));
}

}  // namespace
}  // namespace dstream
