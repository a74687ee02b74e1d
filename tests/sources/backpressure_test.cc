// Backpressure in the socket source: the queue's byte count and its wake-up on take, the
// receiver's byte limit (it stops reading, nothing is lost, pending bytes stay under the limit)
// and its changing rate limit, the rate controller wired by a context with backpressure on,
// and SocketInputNode::receiverInfo(). Rates and limits are driven by a ManualClock; bytes
// travel over real loopback TCP.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/context_core.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "sources/input_nodes.h"
#include "sources/receiver_fixture.h"
#include "testing/batches.h"
#include "testing/errors.h"

namespace dstream::detail {
namespace {

using testing::elapsedSince;
using testing::Fixture;
using testing::kT0;
using testing::kTimeout;
using testing::LoopbackListener;
using testing::sendAll;

// `n` lines of 100 bytes (with the '\n'), numbered from `first`.
std::string hundredByteLines(int first, int n) {
  std::string out;
  for (int i = first; i < first + n; ++i) {
    std::string line = "line " + std::to_string(i) + " ";
    line.resize(99, 'x');
    out.append(line).push_back('\n');
  }
  return out;
}

LineBlockPtr blockOf(std::string_view text) {
  auto b = std::make_shared<LineBlock>();
  b->bytes.append(text);
  b->lines.emplace_back(b->bytes.data(), b->bytes.size());
  return b;
}

// ---- ReceivedBlockQueue ----

TEST(ReceivedBlockQueueBytesTest, CountsTheBytesItHoldsUntilTaken) {
  ReceivedBlockQueue q;
  q.add(kT0 + Seconds(1), blockOf("abc"));
  q.add(kT0 + Seconds(2), blockOf("defgh"));
  EXPECT_EQ(q.pendingBytes(), 8);
  EXPECT_EQ(q.takeUpTo(kT0 + Seconds(1)).size(), 1u);
  EXPECT_EQ(q.pendingBytes(), 5);
  EXPECT_EQ(q.takeUpTo(kT0 + Seconds(2)).size(), 1u);
  EXPECT_EQ(q.pendingBytes(), 0);
}

TEST(ReceivedBlockQueueBytesTest, WaitForRoomWakesOnTakeAndOnStop) {
  ReceivedBlockQueue q;
  std::stop_source never;
  EXPECT_EQ(q.waitForRoom(10, never.get_token()), 0);  // empty: nothing to wait for
  q.add(kT0 + Seconds(1), blockOf("0123456789"));
  EXPECT_EQ(q.waitForRoom(11, never.get_token()), 10);  // below the limit
  std::int64_t after = -1;
  std::thread waiter([&] { after = q.waitForRoom(10, never.get_token()); });
  q.takeUpTo(kT0 + Seconds(1));  // makes room: the waiter returns
  waiter.join();
  EXPECT_EQ(after, 0);

  q.add(kT0 + Seconds(1), blockOf("0123456789"));
  std::stop_source stop;
  std::thread stopped([&] { q.waitForRoom(5, stop.get_token()); });
  stop.request_stop();
  stopped.join();  // a wait that ignored the stop would hang here
  EXPECT_EQ(q.pendingBytes(), 10);
}

// ---- the receiver's byte limit ----

TEST(SocketReceiverByteLimitTest, StopsReadingAtTheLimitAndLosesNothing) {
  constexpr std::size_t kLimit = 100'000;
  constexpr int kLines = 10'000;  // 1 MB: ten times the limit
  Fixture f({.maxReceivedBytes = kLimit});
  auto conn = f.startAndAccept();
  std::thread sender([&] { sendAll(conn.get(), hundredByteLines(0, kLines)); });
  // The receiver fills up to the limit, then holds back while the sender has more.
  ASSERT_TRUE(
      f.receiver.waitFor([](auto& s) { return s.byteLimitWaits >= 1 && s.throttled; }, kTimeout));
  EXPECT_LE(f.receiver.pendingBytes(), static_cast<std::int64_t>(kLimit));
  EXPECT_LE(f.receiver.stats().linesReceived * 100, static_cast<std::int64_t>(kLimit));
  // Batches take what is queued; each take lets the receiver read on.
  std::vector<std::string> got;
  while (static_cast<int>(got.size()) < kLines) {
    auto taken = got.size();
    ASSERT_TRUE(f.receiver.waitFor(
        [&](auto& s) { return s.linesReceived > static_cast<std::int64_t>(taken); }, kTimeout))
        << got.size() << " lines taken";
    for (auto& l : f.linesOfBatch(1)) got.push_back(std::move(l));
  }
  sender.join();
  auto s = f.receiver.stats();
  EXPECT_LE(s.peakPendingBytes, static_cast<std::int64_t>(kLimit));
  EXPECT_GE(s.byteLimitWaits, 5);  // it held back again and again
  EXPECT_EQ(s.linesReceived, kLines);
  // Every line once, in order.
  std::string expected = hundredByteLines(0, kLines), joined;
  for (auto& l : got) joined.append(l).push_back('\n');
  EXPECT_TRUE(joined == expected);
  EXPECT_EQ(f.receiver.pendingBytes(), 0);
}

TEST(SocketReceiverByteLimitTest, StopIsPromptAtTheLimit) {
  Fixture f({.maxReceivedBytes = 10'000});
  auto conn = f.startAndAccept();
  sendAll(conn.get(), hundredByteLines(0, 1000));  // 100 KB: fits the kernel's buffers
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.byteLimitWaits >= 1; }, kTimeout));
  auto start = std::chrono::steady_clock::now();
  f.receiver.stop();  // while it waits for a batch to take blocks
  EXPECT_LT(elapsedSince(start), Seconds(5));
  EXPECT_LE(f.receiver.stats().peakPendingBytes, 10'000);
}

TEST(SocketReceiverByteLimitTest, ALineLongerThanTheLimitStillPasses) {
  // Nothing queued and one partial line over the limit: only reading can complete it.
  Fixture f({.maxReceivedBytes = 1000});
  auto conn = f.startAndAccept();
  std::string longLine(5000, 'L');
  sendAll(conn.get(), longLine + "\nshort\n");
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.linesReceived >= 1; }, kTimeout));
  auto first = f.linesOfBatch(1);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], longLine);
  if (first.size() == 1) {  // "short" waited for the take
    ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.linesReceived >= 2; }, kTimeout));
    first.push_back(f.linesOfBatch(1).at(0));
  }
  EXPECT_EQ(first[1], "short");
}

// ---- the receiver's rate limit ----

TEST(SocketReceiverRateTest, InitialRateAndUpdatesAreCappedByMaxRate) {
  ManualClock clock;
  ReceivedBlockQueue queue;
  auto make = [&](std::int64_t maxRate, std::int64_t initial) {
    return std::make_unique<SocketLineReceiver>(
        SocketReceiverOptions{
            .host = "127.0.0.1", .port = 9, .maxRatePerSecond = maxRate, .initialRate = initial},
        clock, queue);
  };
  EXPECT_EQ(make(0, 0)->rateLimit(), 0);      // unlimited
  EXPECT_EQ(make(500, 0)->rateLimit(), 500);  // maxRate alone
  EXPECT_EQ(make(0, 200)->rateLimit(), 200);  // initialRate alone
  EXPECT_EQ(make(500, 200)->rateLimit(), 200);
  EXPECT_EQ(make(500, 900)->rateLimit(), 500);  // the ceiling wins
  auto r = make(1000, 200);
  r->setRate(5000);
  EXPECT_EQ(r->rateLimit(), 1000);
  r->setRate(300);
  EXPECT_EQ(r->rateLimit(), 300);
  for (double ignored : {0.0, -1.0, std::nan("")}) {  // as Spark's RateLimiter.updateRate
    r->setRate(ignored);
    EXPECT_EQ(r->rateLimit(), 300);
  }
  auto unlimited = make(0, 0);
  unlimited->setRate(150);
  EXPECT_EQ(unlimited->rateLimit(), 150);
}

TEST(SocketReceiverRateTest, ANewRateTakesEffectWhileRunning) {
  Fixture f({.initialRate = 100});  // a burst of 10 records
  auto conn = f.startAndAccept();
  sendAll(conn.get(), hundredByteLines(0, 1000));
  // The clock stands: the budget never refills, so it holds back near the burst.
  ASSERT_TRUE(
      f.receiver.waitFor([](auto& s) { return s.rateWaits >= 1 && s.throttled; }, kTimeout));
  EXPECT_LE(f.receiver.stats().linesReceived, 40);
  f.receiver.setRate(100'000);  // a burst of 10,000 records
  f.clock.advance(Seconds(1));
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.linesReceived == 1000; }, kTimeout));
  // Caught up with the sender: holding nothing back any more.
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return !s.throttled; }, kTimeout));
}

TEST(SocketReceiverRateTest, RecordsTheLastConnectionError) {
  Fixture f({.listening = false});
  f.receiver.start();
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  auto s = f.receiver.stats();
  EXPECT_NE(s.lastError.find("refused"), std::string::npos) << s.lastError;
  EXPECT_EQ(s.lastErrorTime, f.clock.now());
}

TEST(SocketReceiverRateTest, NegativeInitialRateIsRefused) {
  ManualClock clock;
  ReceivedBlockQueue queue;
  testing::expectInvalid(
      [&] {
        SocketLineReceiver({.host = "127.0.0.1", .port = 9, .initialRate = -1}, clock, queue);
      },
      "dstream: socketTextStream 127.0.0.1:9: initialRate must be >= 0 (0: maxRatePerSecond)");
}

// ---- in a context: the rate controller and receiverInfo() ----

SocketInputNode& socketNode(const StreamingContext& ssc) {
  auto inputs = EngineAccess::core(ssc).inputs();
  auto* node = dynamic_cast<SocketInputNode*>(inputs.at(0));
  if (!node) throw std::runtime_error("input 0 is not a socketTextStream");
  return *node;
}

TEST(SocketBackpressureTest, TheRateControllerPublishesThePidEstimateToTheReceiver) {
  LoopbackListener server;
  auto clock = std::make_shared<ManualClock>(kT0 + Milliseconds(500));
  StreamingContext ssc(
      "local[1]", Seconds(1),
      testing::withoutUi({.clock = clock, .backpressure = {.enabled = true, .initialRate = 1'000'000}}));
  auto lines = ssc.socketTextStream("127.0.0.1", server.port(), {.maxReceivedBytes = 1 << 20});
  // The pipeline handles 2000 records/s: a batch "takes" count / 2 ms on the manual clock.
  lines.foreachRDD([&](const RDD<std::string_view>& rdd, Time) {
    clock->advance(Milliseconds(rdd.count() / 2));
  });
  ssc.start();
  SocketInputNode& node = socketNode(ssc);
  ASSERT_NE(node.rateController(), nullptr);
  auto conn = server.accept();
  ASSERT_TRUE(conn.valid());
  auto info = node.receiverInfo();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->rateLimit, 1'000'000);  // initialRate before any estimate

  sendAll(conn.get(), hundredByteLines(0, 1000));
  ASSERT_TRUE(node.receiver().waitFor([](auto& s) { return s.linesReceived == 1000; }, kTimeout));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, kT0 + Seconds(1)));
  EXPECT_EQ(node.receiverInfo()->rateLimit, 1'000'000);  // the first batch only records 2000/s

  sendAll(conn.get(), hundredByteLines(1000, 1000));
  ASSERT_TRUE(node.receiver().waitFor([](auto& s) { return s.linesReceived == 2000; }, kTimeout));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, kT0 + Seconds(2)));
  // 1000 records in 500 ms again, no wait: the estimate is the rate the batches keep up with.
  EXPECT_DOUBLE_EQ(node.receiverInfo()->rateLimit, 2000);
  EXPECT_EQ(node.rateController()->latestRate(), 2000);

  info = node.receiverInfo();
  EXPECT_EQ(info->inputStreamId, 0);
  EXPECT_EQ(info->name, "socketTextStream 127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(info->active);
  EXPECT_EQ(info->location, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(info->lastError.has_value());
  EXPECT_FALSE(info->writeAheadLog);
  EXPECT_EQ(info->recordsReceived, 2000);
  EXPECT_EQ(info->bytesReceived, 200'000);
  EXPECT_EQ(info->recordsDropped, 0);
  EXPECT_EQ(info->pendingBytes, 0);
  EXPECT_EQ(info->maxPendingBytes, 1 << 20);
  EXPECT_FALSE(info->throttled);
  ssc.stop();
}

TEST(SocketBackpressureTest, WithoutBackpressureTheRateStaysMaxRate) {
  LoopbackListener server;
  auto clock = std::make_shared<ManualClock>(kT0 + Milliseconds(500));
  StreamingContext ssc("local[1]", Seconds(1), testing::withoutUi({.clock = clock}));
  ssc.socketTextStream("127.0.0.1", server.port(), {.maxRatePerSecond = 700})
      .count()
      .foreachRDD([](const RDD<long>&) {});
  ssc.start();
  SocketInputNode& node = socketNode(ssc);
  EXPECT_EQ(node.rateController(), nullptr);
  EXPECT_EQ(node.receiverInfo()->rateLimit, 700);
  EXPECT_EQ(node.receiverInfo()->maxPendingBytes, 256 << 20);  // the default limit
  ssc.stop();
}

TEST(SocketBackpressureTest, ReceiverInfoReportsARefusedConnection) {
  LoopbackListener closed(false);
  auto clock = std::make_shared<ManualClock>(kT0 + Milliseconds(500));
  std::vector<std::string> log;
  std::mutex mu;
  StreamingContext ssc("local[1]", Seconds(1),
                       testing::withoutUi({.clock = clock, .log = [&](LogLevel, std::string_view l) {
                               std::lock_guard lock(mu);
                               log.emplace_back(l);
                             }}));
  ssc.socketTextStream("127.0.0.1", closed.port(), {.writeAheadLog = false})
      .count()
      .foreachRDD([](const RDD<long>&) {});
  ssc.start();
  SocketInputNode& node = socketNode(ssc);
  ASSERT_TRUE(node.receiver().waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  auto info = node.receiverInfo();
  EXPECT_FALSE(info->active);
  ASSERT_TRUE(info->lastError.has_value());
  EXPECT_NE(info->lastError->find("refused"), std::string::npos) << *info->lastError;
  EXPECT_EQ(info->lastErrorTime, kT0 + Milliseconds(500));
  ssc.stop();
}

TEST(SocketBackpressureTest, BadOptionsAreRefusedNamingTheSetting) {
  auto defineWith = [](BackpressureOptions b, SocketStreamOptions s = {}) {
    StreamingContext ssc("local[1]", Seconds(1), testing::withoutUi({.backpressure = b}));
    ssc.socketTextStream("localhost", 9999, s);
  };
  testing::expectInvalid(
      [&] { defineWith({.enabled = true, .minRate = 0}); },
      "dstream: BackpressureOptions.minRate is 0; it must be > 0 records/s (Spark's default: 100)");
  testing::expectInvalid(
      [&] { defineWith({.enabled = true, .proportional = -1}); },
      "dstream: BackpressureOptions.proportional is -1; it must be >= 0 (Spark's default: 1.0)");
  testing::expectInvalid(
      [&] { defineWith({.enabled = true, .initialRate = -3}); },
      "dstream: BackpressureOptions.initialRate is -3; it must be >= 0 records/s (0: unlimited)");
  defineWith({.enabled = false, .minRate = 0});  // unused settings are not checked, as in Spark
  // Refused by the context itself, also without a socket stream.
  testing::expectInvalid(
      [] { StreamingContext ssc("local[1]", Seconds(1), testing::withoutUi({.backpressure = {.enabled = true, .minRate = -1}})); },
      "dstream: BackpressureOptions.minRate is -1; it must be > 0 records/s (Spark's default: 100)");
  testing::expectInvalid(
      [&] { defineWith({}, {.maxReceivedBytes = static_cast<std::size_t>(-1)}); },
      "dstream: socketTextStream localhost:9999: SocketStreamOptions.maxReceivedBytes is "
      "18446744073709551615 (a negative "
      "number converted?); it must be 0 (unlimited) or a byte count below 2^63");
}

}  // namespace
}  // namespace dstream::detail
