// StreamingContext lifecycle: start/stop/await, errors, batch times, the manual clock.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/errors.h"

namespace dstream {
namespace {

std::shared_ptr<ManualClock> manualClockAt(long ms) { return std::make_shared<ManualClock>(timeFromMillis(ms)); }

TEST(StreamingContextTest, ParsesMasters) {
  EXPECT_EQ(parseMaster("local"), 1);
  EXPECT_EQ(parseMaster("local[3]"), 3);
  EXPECT_GE(parseMaster("local[*]"), 1);
  for (const char* bad : {"", "local[0]", "local[x]", "yarn", "local[2", "spark://host:7077"}) {
    EXPECT_THROW(parseMaster(bad), Error) << bad;
  }
}

TEST(StreamingContextTest, RejectsNonPositiveBatchDuration) {
  EXPECT_THROW(StreamingContext("local", Milliseconds(0)), Error);
}

TEST(StreamingContextTest, FirstBatchIsAlignedToTheBatchDuration) {
  auto clock = manualClockAt(12'345);
  StreamingContext ssc("local[2]", Seconds(10), {.clock = clock});
  std::vector<long> seen;
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).count().foreachRDD([&](const RDD<long>&, Time t) {
    seen.push_back(toMillis(t));
  });
  ssc.start();
  EXPECT_EQ(toMillis(dstream::testing::firstBatchTime(ssc)), 20'000);
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 2));
  ssc.stop();
  EXPECT_EQ(seen, (std::vector<long>{20'000, 30'000}));
}

TEST(StreamingContextTest, DefiningAfterStartAndStartingTwiceAreErrors) {
  StreamingContext ssc("local", Seconds(1), {.clock = manualClockAt(0)});
  auto s = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  s.pprint();
  ssc.start();
  testing::expectErrorContaining([&] { s.map([](int x) { return x; }).pprint(); }, ErrorCode::kFailedPrecondition,
                                 "before start()");
  EXPECT_THROW(ssc.start(), Error);
  ssc.stop();
  EXPECT_EQ(ssc.getState(), StreamingContext::State::kStopped);
  ssc.stop();  // a second stop does nothing
}

TEST(StreamingContextTest, StartWithoutOutputsIsAnError) {
  StreamingContext ssc("local", Seconds(1), {.clock = manualClockAt(0)});
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).map([](int x) { return x; });
  try {
    ssc.start();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no output operations"), std::string::npos);
  }
}

TEST(StreamingContextTest, AUserExceptionFailsTheBatchAndIsRethrownWithItsTime) {
  auto clock = manualClockAt(0);
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1, 2, 3}, 2);
  ssc.queueStream(q).map([](int x) { if (x == 2) throw std::runtime_error("bad element 2"); return x; }).pprint();
  ssc.start();
  clock->setTime(timeFromMillis(1000));
  testing::expectErrorContaining([&] { ssc.awaitTermination(); }, ErrorCode::kInternal,
                                 "batch at 1000 ms failed: bad element 2");
  EXPECT_EQ(ssc.getState(), StreamingContext::State::kStopped);
}

TEST(StreamingContextTest, AwaitTerminationOrTimeoutReturnsFalseWhileRunning) {
  StreamingContext ssc("local", Seconds(1), {.clock = manualClockAt(0)});
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).pprint();
  ssc.start();
  EXPECT_FALSE(ssc.awaitTerminationOrTimeout(Milliseconds(10)));
  ssc.stop();
  EXPECT_TRUE(ssc.awaitTerminationOrTimeout(Milliseconds(10)));
}

TEST(StreamingContextTest, GracefulStopFinishesTheBatchThatIsFilling) {
  auto clock = manualClockAt(500);
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1});
  q->push({2});
  std::vector<long> counts;
  ssc.queueStream(q).count().foreachRDD([&](const RDD<long>& r, Time) { counts.push_back(r.collect()[0]); });
  ssc.start();
  ssc.stop(/*stopGracefully=*/true);  // the clock never reached the first batch
  EXPECT_EQ(counts, (std::vector<long>{1}));
}

TEST(StreamingContextTest, StopFromInsideAnOutputOperation) {
  auto clock = manualClockAt(0);
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).foreachRDD([&](const RDD<int>&) { ssc.stop(); });
  ssc.start();
  clock->setTime(timeFromMillis(1000));
  ssc.awaitTermination();
  EXPECT_EQ(ssc.getState(), StreamingContext::State::kStopped);
}

struct RecordingListener : StreamingListener {
  std::vector<BatchInfo> batches;
  void onBatchCompleted(const BatchInfo& info) override { batches.push_back(info); }
};

TEST(StreamingContextTest, BatchInfoRecordsInputAndDelays) {
  auto clock = manualClockAt(0);
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto listener = std::make_shared<RecordingListener>();
  ssc.addStreamingListener(listener);
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1, 2, 3});
  ssc.queueStream(q).foreachRDD([&](const RDD<int>&) { clock->advance(Milliseconds(300)); });  // "slow" batch
  ssc.start();
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(1000)));
  ssc.stop();
  ASSERT_EQ(listener->batches.size(), 1u);
  const auto& b = listener->batches[0];
  EXPECT_EQ(b.numInputRecords, 3);
  EXPECT_EQ(b.schedulingDelay(), Milliseconds(0));
  EXPECT_EQ(b.processingDelay(), Milliseconds(300));
  EXPECT_EQ(b.totalDelay(), Milliseconds(300));
}

TEST(StreamingContextTest, PprintMatchesPysparkFormat) {
  auto clock = manualClockAt(0);
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<std::pair<std::string, int>>>();
  std::vector<std::pair<std::string, int>> batch;
  for (int i = 0; i < 12; ++i) batch.push_back({"w" + std::to_string(i), i});
  q->push(batch);
  ssc.queueStream(q).pprint();
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).print(3);
  ::testing::internal::CaptureStdout();
  ssc.start();
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(1000)));
  ssc.stop();
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string expected = detail::pprintHeader(timeFromMillis(1000));
  for (int i = 0; i < 10; ++i) expected += "(w" + std::to_string(i) + ", " + std::to_string(i) + ")\n";
  expected += "...\n\n";
  expected += "-------------------------------------------\nTime: 1000 ms\n-------------------------------------------\n\n";
  EXPECT_EQ(out, expected);
  EXPECT_NE(detail::pprintHeader(timeFromMillis(1000)).find("Time: 19"), std::string::npos);
}

}  // namespace
}  // namespace dstream
