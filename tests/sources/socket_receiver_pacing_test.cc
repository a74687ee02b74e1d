#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "dstream/error.h"
#include "sources/receiver_fixture.h"
#include "sources/socket_receiver.h"
#include "sources/test_util.h"

namespace dstream::detail {
namespace {

using testing::elapsedSince;
using testing::Fixture;
using testing::kT0;
using testing::kTimeout;
using testing::LogSink;
using testing::LoopbackListener;
using testing::sendAll;
using Lines = std::vector<std::string>;

TEST(SocketLineReceiverTest, MaxRateStopsReadingWhileTheClockStands) {
  Fixture f({.maxRate = 100});  // burst: 10 records
  auto conn = f.startAndAccept();
  std::string data;
  for (int i = 0; i < 1000; ++i)
    data.append("line").append(std::to_string(1000 + i)).append("\n");  // 9 bytes
  sendAll(conn.get(), data);
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.linesReceived >= 1; }, kTimeout));
  // The clock stands still, so the budget never refills: reading stops near the burst.
  auto first = f.receiver.stats();
  EXPECT_LE(first.linesReceived, 40);
  EXPECT_LE(first.bytesReceived, 40 * 9);
  // However far the clock jumps, one refill is at most a burst.
  f.clock.advance(Seconds(10));
  ASSERT_TRUE(
      f.receiver.waitFor([&](auto& s) { return s.linesReceived > first.linesReceived; }, kTimeout));
  EXPECT_LE(f.receiver.stats().linesReceived, first.linesReceived + 40);
  auto start = std::chrono::steady_clock::now();
  f.receiver.stop();  // while waiting for budget
  EXPECT_LT(elapsedSince(start), Seconds(5));  // a stuck stop would wait forever
}

TEST(SocketLineReceiverTest, MaxRatePacesOnTheSystemClock) {
  LoopbackListener server;
  SystemClock clock;
  ReceivedBlockQueue queue;
  SocketLineReceiver receiver(
      {.host = "127.0.0.1", .port = server.port(), .maxRatePerSecond = 2000}, clock, queue);
  receiver.start();
  auto conn = server.accept();
  ASSERT_TRUE(conn.valid());
  std::string data;
  for (int i = 0; i < 2000; ++i) data.append("r").append(std::to_string(10000 + i)).append("\n");
  auto start = std::chrono::steady_clock::now();
  sendAll(conn.get(), data);
  ASSERT_TRUE(queue.waitForReceivedRecords(2000, Seconds(20)));
  // 2000 records at 2000/s after a 200-record burst: about 0.9s. Loose bounds.
  EXPECT_GE(elapsedSince(start), Milliseconds(600));
  EXPECT_LT(elapsedSince(start), Seconds(15));
}

TEST(SocketLineReceiverTest, StopIsPromptWhileConnectedAndIdle) {
  Fixture f;
  auto conn = f.startAndAccept();
  ASSERT_TRUE(f.receiver.waitUntilConnected(kTimeout));
  sendAll(conn.get(), "kept\npending line without newline");
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.bytesReceived == 33; }, kTimeout));
  auto start = std::chrono::steady_clock::now();
  f.receiver.stop();
  // Nothing but the 20 ms poll slice delays a stop; a stuck one would wait forever on the
  // manual clock, so the bound only needs to be far below the test's timeout.
  EXPECT_LT(elapsedSince(start), Seconds(5));
  f.receiver.stop();  // idempotent
  // Complete lines are kept; the line cut by the stop is not a record.
  EXPECT_EQ(f.linesOfBatch(1), (Lines{"kept"}));
  EXPECT_EQ(f.receiver.stats().linesDropped, 1);
}

TEST(SocketLineReceiverTest, StopIsPromptWhileWaitingToRetry) {
  Fixture f({.listening = false});
  f.receiver.start();
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  auto start = std::chrono::steady_clock::now();
  f.receiver.stop();
  EXPECT_LT(elapsedSince(start), Seconds(5));  // a stuck stop would wait forever
  EXPECT_EQ(f.receiver.stats().connections, 0);
}

// A receiver whose queue hook (the write-ahead log's append) throws, after its one connection.
struct ThrowingHookRun {
  int port = 0;
  std::exception_ptr failure;
  std::vector<std::string> log;
};

template <class Throw>
ThrowingHookRun runWithThrowingHook(Throw throwIt) {
  LoopbackListener server;
  ManualClock clock(kT0);
  ReceivedBlockQueue queue([&](Time, const LineBlock&) { throwIt(); });
  LogSink log;
  SocketLineReceiver receiver({.host = "127.0.0.1", .port = server.port(), .log = log.fn()}, clock,
                              queue);
  receiver.start();
  auto conn = server.accept();
  EXPECT_TRUE(conn.valid());
  sendAll(conn.get(), "x\n");
  EXPECT_TRUE(receiver.waitFor([](auto& s) { return !s.connected && s.connections == 1; }, kTimeout));
  receiver.stop();
  return {server.port(), receiver.failure(), log.snapshot()};
}

TEST(SocketLineReceiverTest, ThrowingHookEndsTheReceiverWithAFailure) {
  auto run = runWithThrowingHook([] { throw std::runtime_error("wal broken"); });
  EXPECT_NE(run.failure, nullptr);
  ASSERT_FALSE(run.log.empty());
  EXPECT_NE(run.log.back().find("receiver stopped"), std::string::npos);
}

// Issue 10: "dstream: dstream:" in the line that reports a receiver stopped by a dstream::Error.
TEST(SocketLineReceiverTest, AStoppedReceiverIsReportedWithOnePrefix) {
  auto run = runWithThrowingHook([] { throw Error(ErrorCode::kInternal, "wal broken"); });
  ASSERT_FALSE(run.log.empty());
  EXPECT_EQ(run.log.back(),
            "dstream: socketTextStream 127.0.0.1:" + std::to_string(run.port) + ": receiver stopped: wal broken");
}

}  // namespace
}  // namespace dstream::detail
