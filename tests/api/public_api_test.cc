// The listener interface and BatchInfo, through the public API only (Spark's
// StreamingListenerSuite): which callbacks come, in what order, how often, and what each
// batch reports. Every run is on a ManualClock, so the times and delays are exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "dstream/bad_records.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/wait.h"

namespace dstream {
namespace {

// Records every callback as a line ("batchStarted 1000") and every BatchInfo. Callbacks run
// on the batch thread while the test thread reads, so all of it is guarded by mu_.
class RecordingListener : public StreamingListener {
 public:
  void onStreamingStarted(Time t) override { record("started " + std::to_string(toMillis(t))); }
  void onBatchStarted(const BatchInfo& info) override {
    record("batchStarted " + std::to_string(toMillis(info.batchTime)));
  }
  void onBatchCompleted(const BatchInfo& info) override {
    std::lock_guard lock(mu_);
    completed_.push_back(info);
    events_.push_back("batchCompleted " + std::to_string(toMillis(info.batchTime)));
    changed_.notify_all();
  }
  void onStreamingStopped() override { record("stopped"); }

  // Waits until the context reported that it stopped; false after `timeout`.
  bool waitForStopped(Duration timeout = testing::kWaitTimeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return !events_.empty() && events_.back() == "stopped"; });
  }
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<BatchInfo> completed() const {
    std::lock_guard lock(mu_);
    return completed_;
  }

 private:
  void record(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> events_;    // guarded by mu_
  std::vector<BatchInfo> completed_;  // guarded by mu_
};

using Batches = std::vector<std::vector<int>>;

// A context on a manual clock with a queue of int batches and one recording listener.
struct ListenedRun {
  explicit ListenedRun(Batches batches, const char* master = "local[2]")
      : ssc(master, Seconds(1), {.clock = clock, .log = [this](LogLevel, std::string_view line) {
              std::lock_guard lock(logMu);
              log.emplace_back(line);
            }}) {
    for (auto& b : batches) queue->push(std::move(b), 2);
    ssc.addStreamingListener(listener);
  }
  DStream<int> input() { return ssc.queueStream(queue); }
  Time batch(int i) const { return dstream::testing::firstBatchTime(ssc) + Seconds(i - 1); }  // i from 1
  // Stops the context and waits for the listener to hear it.
  void stop() {
    ssc.stop();
    EXPECT_TRUE(listener->waitForStopped()) << "onStreamingStopped was not called";
  }

  // Starts the context, runs `n` batches and stops it; returns the batches the listener heard.
  std::vector<BatchInfo> runAndStop(int n) {
    ssc.start();
    EXPECT_TRUE(testing::runBatches(ssc, *clock, n));
    stop();
    return listener->completed();
  }

  // The context's log lines: kept out of the test's output, and checked where promised.
  std::vector<std::string> logLines() {
    std::lock_guard lock(logMu);
    return log;
  }

  std::mutex logMu;
  std::vector<std::string> log;  // guarded by logMu
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<RDDQueue<int>> queue = std::make_shared<RDDQueue<int>>();
  std::shared_ptr<RecordingListener> listener = std::make_shared<RecordingListener>();
  StreamingContext ssc;
};

std::string at(const char* event, Time t) { return std::string(event) + " " + std::to_string(toMillis(t)); }

TEST(StreamingListenerTest, CallbacksComeOnceEachInOrder) {
  ListenedRun run(Batches{{1, 2}, {3}, {}});
  run.input().foreachRDD([](const RDD<int>&) {});
  run.runAndStop(3);
  std::vector<std::string> expected = {at("started", run.batch(1))};
  for (int i = 1; i <= 3; ++i) {
    expected.push_back(at("batchStarted", run.batch(i)));
    expected.push_back(at("batchCompleted", run.batch(i)));
  }
  expected.push_back("stopped");
  EXPECT_EQ(run.listener->events(), expected);
}

TEST(StreamingListenerTest, EveryListenerHearsEveryCallback) {
  ListenedRun run(Batches{{1}, {2}});
  auto second = std::make_shared<RecordingListener>();
  run.ssc.addStreamingListener(second);
  run.input().foreachRDD([](const RDD<int>&) {});
  run.runAndStop(2);
  ASSERT_TRUE(second->waitForStopped());
  EXPECT_EQ(second->events(), run.listener->events());
  EXPECT_EQ(second->events().size(), 6u);
}

TEST(StreamingListenerTest, AContextStoppedBeforeStartCallsNoListener) {
  ListenedRun run(Batches{{1}});
  run.input().foreachRDD([](const RDD<int>&) {});
  run.ssc.stop();
  EXPECT_EQ(run.ssc.getState(), StreamingContext::State::kStopped);
  EXPECT_TRUE(run.listener->events().empty()) << run.listener->events().front();
}

// Spark's listener bus: a listener that throws is logged and skipped; the batches go on and
// the other listeners still hear them.
TEST(StreamingListenerTest, AListenerThatThrowsFailsNothing) {
  struct Throwing : StreamingListener {
    void onStreamingStarted(Time) override { throw std::runtime_error("listener bug"); }
    void onBatchStarted(const BatchInfo&) override { throw std::runtime_error("listener bug"); }
    void onBatchCompleted(const BatchInfo&) override { throw std::runtime_error("listener bug"); }
  };
  ListenedRun run(Batches{{1, 2}, {3}});
  run.ssc.addStreamingListener(std::make_shared<Throwing>());
  long sum = 0;
  run.input().foreachRDD([&](const RDD<int>& rdd) {
    for (int x : rdd.collect()) sum += x;
  });
  run.runAndStop(2);
  EXPECT_NO_THROW(run.ssc.awaitTermination());
  EXPECT_EQ(sum, 6);
  EXPECT_EQ(run.listener->completed().size(), 2u);
  auto log = run.logLines();
  EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](const std::string& l) { return l.find("listener bug") != std::string::npos; }))
      << "the listener's exception was not logged";
}

TEST(BatchInfoTest, CountsTheInputRecordsOfAllInputStreams) {
  ListenedRun run(Batches{{1, 2, 3}, {}, {4}});
  auto other = std::make_shared<RDDQueue<int>>();
  other->push({10, 20});
  other->push({30});
  run.input().union_(run.ssc.queueStream(other)).foreachRDD([](const RDD<int>&) {});
  auto batches = run.runAndStop(3);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].numInputRecords, 5);
  EXPECT_EQ(batches[1].numInputRecords, 1);
  EXPECT_EQ(batches[2].numInputRecords, 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(batches[i].batchTime, run.batch(i + 1));
    EXPECT_FALSE(batches[i].failureReason) << *batches[i].failureReason;
    EXPECT_EQ(batches[i].numBadRecords, 0);
  }
}

// Each output takes 1.5 s of clock time in the first three batches, so the loop falls behind:
// every batch after the first starts late, by 0.5 s more each time, until it catches up.
TEST(BatchInfoTest, ABatchThatStartsLateReportsItsSchedulingDelay) {
  ListenedRun run(Batches{});
  int slowBatches = 3;  // only the batch thread touches it
  run.input().foreachRDD([&](const RDD<int>&) {
    if (slowBatches-- > 0) run.clock->advance(Milliseconds(1500));
  });
  run.ssc.start();
  // Only the first batch is made due by the test; the slow outputs make the next four due.
  ASSERT_TRUE(testing::runBatchAt(run.ssc, *run.clock, run.batch(1)));
  ASSERT_TRUE(dstream::testing::awaitBatchCompleted(run.ssc, run.batch(5), testing::kWaitTimeout))
      << "the overdue batches did not run";
  run.stop();
  auto batches = run.listener->completed();
  ASSERT_EQ(batches.size(), 5u) << "the batch at " << toMillis(run.batch(6)) << " ms was not due";
  const long scheduling[] = {0, 500, 1000, 1500, 500};
  const long processing[] = {1500, 1500, 1500, 0, 0};
  for (int i = 0; i < 5; ++i) {
    const BatchInfo& b = batches[i];
    SCOPED_TRACE("batch " + std::to_string(i + 1));
    EXPECT_EQ(b.batchTime, run.batch(i + 1));
    EXPECT_EQ(b.submissionTime, b.batchTime);
    ASSERT_TRUE(b.processingStartTime && b.processingEndTime);
    EXPECT_EQ(b.schedulingDelay(), Milliseconds(scheduling[i]));
    EXPECT_EQ(b.processingDelay(), Milliseconds(processing[i]));
    EXPECT_EQ(b.totalDelay(), Milliseconds(scheduling[i] + processing[i]));
  }
}

TEST(BatchInfoTest, BadRecordsAreCountedAgainstTheirBatch) {
  for (const char* master : {"local", "local[2]", "local[4]"}) {
    SCOPED_TRACE(master);
    // Negative numbers are bad records: 2, then 0, then 3.
    ListenedRun run(Batches{{1, -2, 3, -4, 5}, {6, 7}, {-8, -9, -10}}, master);
    run.input()
        .filter([](int x) {
          if (x < 0) reportBadRecord("test input", "a negative number");
          return x >= 0;
        })
        .foreachRDD([](const RDD<int>&) {});
    auto batches = run.runAndStop(3);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[0].numBadRecords, 2);
    EXPECT_EQ(batches[1].numBadRecords, 0);
    EXPECT_EQ(batches[2].numBadRecords, 3);
    EXPECT_EQ(batches[0].numInputRecords, 5);
  }
}

// A user function that throws fails its batch: the listener hears the batch complete with the
// reason, then the stop; no later batch starts; awaitTermination() rethrows the error.
TEST(BatchInfoTest, AFailedBatchCarriesTheFailureReason) {
  ListenedRun run(Batches{{1}, {2}, {3}});
  run.input()
      .map([](int x) {
        if (x == 2) throw std::runtime_error("cannot handle 2");
        return x;
      })
      .foreachRDD([](const RDD<int>&) {});
  run.ssc.start();
  ASSERT_TRUE(testing::runBatchAt(run.ssc, *run.clock, run.batch(1)));
  run.clock->setTime(run.batch(3));  // the second batch fails; the third must not run
  ASSERT_TRUE(run.listener->waitForStopped()) << "the failed batch did not stop the context";
  try {
    run.ssc.awaitTermination();
    ADD_FAILURE() << "awaitTermination() did not rethrow the batch's failure";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("cannot handle 2"), std::string::npos) << e.what();
  }
  auto batches = run.listener->completed();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_FALSE(batches[0].failureReason);
  ASSERT_TRUE(batches[1].failureReason);
  EXPECT_NE(batches[1].failureReason->find("cannot handle 2"), std::string::npos) << *batches[1].failureReason;
  EXPECT_EQ(batches[1].batchTime, run.batch(2));
  EXPECT_EQ(batches[1].numInputRecords, 1);
  EXPECT_EQ(run.listener->events().back(), "stopped");
  EXPECT_EQ(run.listener->events().end()[-2], at("batchCompleted", run.batch(2)));
}

}  // namespace
}  // namespace dstream
