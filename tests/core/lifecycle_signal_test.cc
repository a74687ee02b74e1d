// ContextOptions::stopGracefullyOnShutdown (Spark's spark.streaming.stopGracefullyOnShutdown):
// SIGTERM/SIGINT stop a running context gracefully, a second signal at once, and the
// process's own handling comes back when no context listens any more.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "dstream/dstream.h"
#include "testing/wait.h"
#include "util/shutdown_signals.h"

namespace dstream {
namespace {

using testing::Deadline;
using testing::kWaitTimeout;

// Waits until the watcher has handled `n` signals in all; fails with a message otherwise.
void awaitSignalsHandled(std::int64_t n) {
  Deadline deadline(kWaitTimeout);
  while (detail::shutdownSignalsHandled() < n) {
    ASSERT_FALSE(deadline.passed()) << "the signal watcher handled " << detail::shutdownSignalsHandled()
                                    << " signals, expected " << n;
    std::this_thread::yield();
  }
}

TEST(LifecycleSignalTest, SigtermStopsGracefully) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(500));
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock, .stopGracefullyOnShutdown = true});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1, 2});
  q->push({3});
  std::vector<long> counts;  // the batch thread's
  ssc.queueStream(q).count().foreachRDD([&](const RDD<long>& r) { counts.push_back(r.collect().at(0)); });
  ssc.start();
  ASSERT_EQ(::raise(SIGTERM), 0);
  // Graceful: the batch that was filling ran although the clock never reached it.
  ASSERT_TRUE(ssc.awaitTerminationOrTimeout(kWaitTimeout)) << "SIGTERM did not stop the context";
  EXPECT_EQ(counts, (std::vector<long>{2}));
}

TEST(LifecycleSignalTest, ASecondSignalCutsAGracefulStopShort) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(0));
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock, .stopGracefullyOnShutdown = true});
  std::mutex mu;
  std::condition_variable cv;
  bool inFirstBatch = false;
  bool release = false;
  std::atomic<int> batches{0};
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).foreachRDD([&](const RDD<int>&) {
    if (batches.fetch_add(1) > 0) return;
    std::unique_lock lock(mu);
    inFirstBatch = true;
    cv.notify_all();
    cv.wait_for(lock, kWaitTimeout, [&] { return release; });
  });
  ssc.start();
  clock->advance(Seconds(1));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWaitTimeout, [&] { return inFirstBatch; })) << "batch 1 did not run";
  }
  clock->advance(Seconds(45));  // a graceful stop would now run 46 more batches
  std::int64_t before = detail::shutdownSignalsHandled();
  ASSERT_EQ(::raise(SIGTERM), 0);
  ASSERT_NO_FATAL_FAILURE(awaitSignalsHandled(before + 1));
  ASSERT_EQ(::raise(SIGINT), 0);
  ASSERT_NO_FATAL_FAILURE(awaitSignalsHandled(before + 2));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(ssc.awaitTerminationOrTimeout(kWaitTimeout)) << "the signals did not stop the context";
  EXPECT_EQ(batches.load(), 1);
}

TEST(LifecycleSignalTest, TheProcessHandlersComeBackWhenTheContextStops) {
  struct sigaction mine {};
  mine.sa_handler = SIG_IGN;
  sigemptyset(&mine.sa_mask);
  struct sigaction saved {};
  ASSERT_EQ(::sigaction(SIGTERM, &mine, &saved), 0);
  {
    StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>(),
                                               .stopGracefullyOnShutdown = true});
    ssc.queueStream(std::make_shared<RDDQueue<int>>()).foreachRDD([](const RDD<int>&) {});
    ssc.start();
    struct sigaction during {};
    ASSERT_EQ(::sigaction(SIGTERM, nullptr, &during), 0);
    EXPECT_NE(during.sa_handler, SIG_IGN) << "the context did not catch SIGTERM";
    ssc.stop();
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGTERM, &saved, &after), 0);
  EXPECT_EQ(after.sa_handler, SIG_IGN) << "the program's own SIGTERM disposition was not restored";
}

TEST(LifecycleSignalTest, WithoutTheOptionSignalsAreNotCaught) {
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  ssc.queueStream(std::make_shared<RDDQueue<int>>()).foreachRDD([](const RDD<int>&) {});
  ssc.start();
  struct sigaction during {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &during), 0);
  EXPECT_EQ(during.sa_handler, SIG_DFL);
  ssc.stop();
}

}  // namespace
}  // namespace dstream
