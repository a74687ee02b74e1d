// How a context reports what goes wrong: its log sink (nothing on stderr behind the user's
// back), bad-record counts per batch with any number of workers, and a receiver that dies
// (issue 10, items 5, 6 and 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/files.h"
#include "testing/loopback.h"
#include "testing/wait.h"

namespace dstream {
namespace {

using ::testing::HasSubstr;
using testing::Deadline;
using testing::kWaitTimeout;

// Collects a context's log lines; thread-safe, so it also shows lines that arrive at once.
struct LogLines {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<LogLevel, std::string>> lines;  // guarded by mu

  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      {
        std::lock_guard lock(mu);
        lines.emplace_back(level, std::string(line));
      }
      cv.notify_all();
    };
  }
  // Waits until a line containing `text` arrived; returns it, or "" after the deadline.
  std::string waitFor(std::string_view text) {
    std::unique_lock lock(mu);
    std::string found;
    cv.wait_for(lock, kWaitTimeout, [&] {
      for (auto& [level, line] : lines) {
        if (line.find(text) != std::string::npos) found = line;
      }
      return !found.empty();
    });
    return found;
  }
  std::string all() {
    std::lock_guard lock(mu);
    std::string s;
    for (auto& [level, line] : lines) s += std::string(logLevelName(level)) + ": " + line + "\n";
    return s;
  }
};

TEST(LifecycleReportingTest, TheLogSinkGetsEveryComponentsLinesAndStderrNone) {
  testing::TempDir dir;
  testing::writeFile(dir / "checkpoint-5000", "garbage");  // a damaged checkpoint, skipped
  testing::LoopbackListener refused(/*listening=*/false);  // connections are refused
  LogLines log;
  ::testing::internal::CaptureStderr();
  {
    auto clock = std::make_shared<ManualClock>(timeFromMillis(0));
    auto ssc = StreamingContext::getOrCreate(dir.path().string(), [&] {
      auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1),
                                                    ContextOptions{.clock = clock, .log = log.sink()});
      auto q = std::make_shared<RDDQueue<std::string>>();
      q->push({"ok", "bad", "bad", "ok"}, 4);
      ctx->queueStream(q)
          .map([](const std::string& s) {
            if (s == "bad") reportBadRecord("test", "a bad record");  // on worker threads too
            return s;
          })
          .count()
          .foreachRDD([](const RDD<long>&, Time t) {
            if (t == timeFromMillis(2000)) throw std::runtime_error("the second batch fails");
          });
      ctx->socketTextStream("127.0.0.1", refused.port(), {.retryInterval = Seconds(60)}).count().foreachRDD(
          [](const RDD<long>&) {});
      return ctx;
    });
    ssc->start();
    EXPECT_THAT(log.waitFor("connection refused"), HasSubstr("socketTextStream 127.0.0.1:")) << log.all();
    clock->advance(Seconds(1));
    EXPECT_THAT(log.waitFor("bad record (test)"), HasSubstr("a bad record")) << log.all();
    clock->advance(Seconds(1));
    EXPECT_THROW(ssc->awaitTerminationOrTimeout(kWaitTimeout), Error);
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "the library wrote to stderr";
  EXPECT_THAT(log.waitFor("checkpoint-5000"), HasSubstr("skipping")) << log.all();
  EXPECT_THAT(log.waitFor("stopping the context"), HasSubstr("the second batch fails")) << log.all();
  std::lock_guard lock(log.mu);
  for (auto& [level, line] : log.lines) {
    EXPECT_FALSE(line.starts_with("dstream: ")) << "the sink adds the prefix, not the component: " << line;
    if (line.find("stopping the context") != std::string::npos) {
      EXPECT_EQ(level, LogLevel::kError);
    }
    if (line.find("bad record") != std::string::npos) {
      EXPECT_EQ(level, LogLevel::kWarning);
    }
  }
}

TEST(LifecycleReportingTest, TheDefaultSinkWritesToStderrFromItsLevelUp) {
  ::testing::internal::CaptureStderr();
  LogSink sink = stderrLogSink(LogLevel::kWarning);
  sink(LogLevel::kInfo, "not shown");
  sink(LogLevel::kWarning, "socketTextStream h:1: connection refused");
  sink(LogLevel::kError, "batch failed");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "dstream: warning: socketTextStream h:1: connection refused\ndstream: error: batch failed\n");
}

// Counts the bad records of one batch of 8 partitions with local[workers]. Partition 0 waits
// for another thread to run a partition, so that with workers > 1 pool threads report some.
std::int64_t badRecordsOfOneBatch(int workers) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(0));
  StreamingContext ssc("local[" + std::to_string(workers) + "]", Seconds(1), {.clock = clock, .log = [](auto, auto) {}});
  auto q = std::make_shared<RDDQueue<int>>();
  std::vector<int> elements;
  for (int i = 0; i < 800; ++i) elements.push_back(i);
  q->push(elements, 8);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::thread::id> threads;
  ssc.queueStream(q)
      .mapPartitions([&, workers](std::span<const int> part) {
        {
          std::unique_lock lock(mu);
          threads.insert(std::this_thread::get_id());
          cv.notify_all();
          if (workers > 1 && !part.empty() && part.front() == 0) {
            EXPECT_TRUE(cv.wait_for(lock, kWaitTimeout, [&] { return threads.size() > 1; }))
                << "no second thread ran a partition";
          }
        }
        std::vector<int> kept;
        for (int x : part) {
          if (x % 3 == 0) {
            reportBadRecord("test", "a multiple of 3");
          } else {
            kept.push_back(x);
          }
        }
        return kept;
      })
      .count()
      .foreachRDD([](const RDD<long>&) {});
  ssc.start();
  clock->advance(Seconds(1));
  EXPECT_TRUE(dstream::testing::awaitBatchCompleted(ssc, timeFromMillis(1000), kWaitTimeout)) << "the batch did not run";
  ssc.stop();
  auto batches = dstream::testing::completedBatches(ssc);
  return batches.empty() ? -1 : batches.front().numBadRecords;
}

TEST(LifecycleReportingTest, BadRecordCountsAreExactWithAnyNumberOfWorkers) {
  for (int workers : {1, 2, 4}) {
    EXPECT_EQ(badRecordsOfOneBatch(workers), 267) << "local[" << workers << "]";
  }
}

// A receiver whose write-ahead log cannot be written stops the context with that error; the
// WAL directory is replaced by a regular file, which fails even for root.
TEST(LifecycleReportingTest, AReceiverThatDiesStopsTheContextNamingTheSource) {
  testing::TempDir dir;
  testing::LoopbackServer server;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(0));
  LogLines log;
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock, .log = log.sink()});
  ssc.checkpoint((dir / "ckpt").string());
  ssc.socketTextStream("127.0.0.1", server.port(), {.writeAheadLog = true}).count().foreachRDD([](const RDD<long>&) {});
  ssc.start();
  // The log opens its first segment on the first block: take its directory away before that.
  std::filesystem::path received = dir / "ckpt" / "receivedData";
  std::vector<std::filesystem::path> logs;
  for (auto& e : std::filesystem::directory_iterator(received)) logs.push_back(e.path());
  ASSERT_EQ(logs.size(), 1u) << "expected one write-ahead log directory under " << received;
  std::filesystem::remove_all(logs[0]);
  testing::writeFile(logs[0], "not a directory");
  server.accept();
  server.send("one\ntwo\n");
  std::string address = "socketTextStream 127.0.0.1:" + std::to_string(server.port());
  try {
    bool stopped = ssc.awaitTerminationOrTimeout(kWaitTimeout);
    FAIL() << "the context " << (stopped ? "stopped without an error" : "did not stop") << "\n" << log.all();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(address)) << "the error does not name the source";
    EXPECT_THAT(e.what(), HasSubstr(logs[0].string())) << "the error does not name the log";
  }
  EXPECT_EQ(ssc.getState(), StreamingContext::State::kStopped);
  EXPECT_THAT(log.waitFor("stopping the context"), HasSubstr(address)) << log.all();
}

}  // namespace
}  // namespace dstream
