#include "sources/socket_receiver.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "dstream/bad_records.h"
#include "dstream/error.h"
#include "sources/receiver_fixture.h"
#include "sources/test_util.h"

namespace dstream::detail {
namespace {

using testing::Fixture;
using testing::kT0;
using testing::kTimeout;
using testing::linesOf;
using testing::sendAll;
using Lines = std::vector<std::string>;

TEST(SocketLineReceiverTest, InvalidOptionsAreRejected) {
  ManualClock clock;
  ReceivedBlockQueue queue;
  auto make = [&](SocketReceiverOptions o) { SocketLineReceiver r(std::move(o), clock, queue); };
  EXPECT_THROW(make({.host = "", .port = 9999}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 0}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 65536}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 9999, .batchDuration = Duration::zero()}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 9999, .blockInterval = Milliseconds(-1)}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 9999, .retryInterval = Duration::zero()}), Error);
  EXPECT_THROW(make({.host = "localhost", .port = 9999, .maxRatePerSecond = -5}), Error);
  SocketLineReceiver ipv6({.host = "::1", .port = 9999}, clock, queue);
  EXPECT_EQ(ipv6.address(), "[::1]:9999");
}

TEST(SocketLineReceiverTest, LinesAreAssignedToTheBatchOfTheirArrival) {
  Fixture f;
  auto conn = f.startAndAccept();
  EXPECT_THROW(f.receiver.start(), Error);
  ASSERT_TRUE(f.receiver.waitUntilConnected(kTimeout));

  // Arrival t0+0.5s: batch t0+1s.
  sendAll(conn.get(), "a\nb\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(2, kTimeout));
  // Arrival t0+1.5s: batch t0+2s; "par" waits for its end.
  f.clock.advance(Seconds(1));
  sendAll(conn.get(), "c\npar");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(3, kTimeout));
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.bytesReceived == 9; }, kTimeout));
  // Exactly t0+3s is in batch t0+4s: records arriving in [t - d, t) form batch t.
  f.clock.setTime(kT0 + Seconds(3));
  sendAll(conn.get(), "tial\nd\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(5, kTimeout));

  EXPECT_EQ(f.linesOfBatch(1), (Lines{"a", "b"}));
  EXPECT_EQ(f.linesOfBatch(2), (Lines{"c"}));
  EXPECT_EQ(f.linesOfBatch(3), Lines{});
  EXPECT_EQ(f.linesOfBatch(4), (Lines{"partial", "d"}));
  // The stats follow the queue: wait for them rather than race.
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.linesReceived == 5; }, kTimeout));
  auto stats = f.receiver.stats();
  EXPECT_EQ(stats.linesReceived, 5);
  EXPECT_EQ(stats.bytesReceived, 16);
  EXPECT_EQ(stats.connections, 1);
  EXPECT_TRUE(stats.connected);
  f.receiver.stop();
  EXPECT_FALSE(f.receiver.connected());
  EXPECT_TRUE(f.log.snapshot().empty());
}

TEST(SocketLineReceiverTest, ABatchGetsSeveralBlocks) {
  Fixture f;
  auto conn = f.startAndAccept();
  for (int i = 0; i < 3; ++i) {  // 3 chunks within one batch, each its own block
    sendAll(conn.get(), std::string("x").append(std::to_string(i)).append("\n"));
    ASSERT_TRUE(f.queue.waitForReceivedRecords(i + 1, kTimeout));
    f.clock.advance(Milliseconds(100));
  }
  auto blocks = f.queue.takeUpTo(kT0 + Seconds(1));
  EXPECT_EQ(linesOf(blocks), (Lines{"x0", "x1", "x2"}));
  EXPECT_EQ(blocks.size(), 3u);
}

TEST(SocketLineReceiverTest, RefusedConnectionIsLoggedAndRetriedOnTheClock) {
  Fixture f({.listening = false});  // the server holds the port; connects are refused
  f.receiver.start();
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  auto logged = f.log.snapshot();
  ASSERT_EQ(logged.size(), 1u);  // one line per attempt
  EXPECT_EQ(logged[0], "dstream: socketTextStream 127.0.0.1:" + std::to_string(f.server.port()) +
                           ": connection refused; retrying in 2s");
  EXPECT_FALSE(f.receiver.connected());

  // Not yet time: a second refused attempt needs the clock to move.
  f.clock.advance(Seconds(2));
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 2; }, kTimeout));
  EXPECT_EQ(f.log.snapshot().size(), 2u);

  f.server.listen();
  f.clock.advance(Seconds(2));
  auto conn = f.server.accept();
  ASSERT_TRUE(conn.valid());
  ASSERT_TRUE(f.receiver.waitUntilConnected(kTimeout));
  sendAll(conn.get(), "hello\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(1, kTimeout));
  EXPECT_EQ(f.linesOfBatch(5), (Lines{"hello"}));
  EXPECT_EQ(f.receiver.stats().connections, 1);
}

TEST(SocketLineReceiverTest, StreamContinuesOnANewConnectionAfterTheServerCloses) {
  Fixture f;
  {
    auto first = f.startAndAccept();
    sendAll(first.get(), "one\ntw");  // the cut line is kept as a line
  }
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  ASSERT_EQ(f.log.snapshot().size(), 1u);
  EXPECT_NE(f.log.snapshot()[0].find("connection closed by the server; retrying in 2s"),
            std::string::npos);
  EXPECT_EQ(f.queue.receivedRecords(), 2);
  f.clock.advance(Seconds(2));
  auto second = f.server.accept();
  ASSERT_TRUE(second.valid());
  sendAll(second.get(), "three\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(3, kTimeout));
  EXPECT_EQ(f.linesOfBatch(1), (Lines{"one", "tw"}));
  EXPECT_EQ(f.linesOfBatch(3), (Lines{"three"}));
  EXPECT_EQ(f.receiver.stats().connections, 2);
}

TEST(SocketLineReceiverTest, HttpResponseHeaderLinesAreOrdinaryRecords) {
  Fixture f;
  auto conn = f.startAndAccept();
  sendAll(conn.get(),
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          "{\"venue\":\"a\"}\n{\"venue\":\"b\"}\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(6, kTimeout));
  EXPECT_EQ(f.linesOfBatch(1),
            (Lines{"HTTP/1.1 200 OK", "Content-Type: application/json",
                   "Transfer-Encoding: chunked", "", "{\"venue\":\"a\"}", "{\"venue\":\"b\"}"}));
}

TEST(SocketLineReceiverTest, OverLongLineIsDroppedAndCounted) {
  Fixture f({.maxLineBytes = 100});
  auto conn = f.startAndAccept();
  sendAll(conn.get(), "short\n" + std::string(300'000, 'x') + "\nafter\n");
  ASSERT_TRUE(f.queue.waitForReceivedRecords(2, kTimeout));
  EXPECT_EQ(f.linesOfBatch(1), (Lines{"short", "after"}));
  EXPECT_EQ(f.receiver.stats().linesDropped, 1);
}

// Issue 10: a graceful stop turned a half-received line ({"venue":{"x":"tr) into a record.
TEST(SocketLineReceiverTest, PartialLineAtStopIsDroppedAndCountedNotEmitted) {
  Fixture f;
  auto conn = f.startAndAccept();
  const std::string sent = "{\"venue\":\"a\"}\n{\"venue\":{\"x\":\"tr";
  sendAll(conn.get(), sent);
  ASSERT_TRUE(f.receiver.waitFor(
      [&](auto& s) { return s.bytesReceived == static_cast<std::int64_t>(sent.size()); }, kTimeout));
  std::int64_t badBefore = totalBadRecords();
  f.receiver.stop();
  EXPECT_EQ(f.linesOfBatch(10), (Lines{"{\"venue\":\"a\"}"}));
  EXPECT_EQ(f.receiver.stats().linesReceived, 1);
  EXPECT_EQ(f.receiver.stats().linesDropped, 1);
  EXPECT_EQ(totalBadRecords(), badBefore + 1);
}

TEST(SocketLineReceiverTest, PartialLineCutByAResetConnectionIsDroppedAndCounted) {
  Fixture f;
  {
    auto conn = f.startAndAccept();
    sendAll(conn.get(), "one\ntw");
    ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.bytesReceived == 6; }, kTimeout));
    linger reset{.l_onoff = 1, .l_linger = 0};  // close() sends RST, not FIN
    ASSERT_EQ(::setsockopt(conn.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  }
  ASSERT_TRUE(f.receiver.waitFor([](auto& s) { return s.retries >= 1; }, kTimeout));
  EXPECT_EQ(f.linesOfBatch(1), (Lines{"one"}));
  EXPECT_EQ(f.receiver.stats().linesDropped, 1);
}

}  // namespace
}  // namespace dstream::detail
