// socketTextStream end to end: a real TCP server on 127.0.0.1, a manual clock.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "api/test_util.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "sources/input_nodes.h"

namespace dstream {
namespace {

struct SocketRun {
  explicit SocketRun(int port, const char* master = "local[1]", SocketStreamOptions options = {})
      : clock(std::make_shared<ManualClock>(timeFromMillis(100'000))),
        ssc(master, Seconds(1), {.clock = clock}) {
    lines = std::make_unique<DStream<std::string_view>>(ssc.socketTextStream("127.0.0.1", port, options));
    node = dynamic_cast<detail::SocketInputNode*>(lines->node().get());
    lines->foreachRDD([this](const RDD<std::string_view>& rdd, Time t) {
      std::vector<std::string> got;
      for (auto l : rdd.collect()) got.emplace_back(l);
      std::lock_guard lock(mu);
      batches[toMillis(t)] = got;
    });
  }
  std::vector<std::string> batch(long ms) {
    clock->setTime(timeFromMillis(ms));
    EXPECT_TRUE(dstream::testing::awaitBatchCompleted(ssc, timeFromMillis(ms), Seconds(30)));
    std::lock_guard lock(mu);
    return batches[ms];
  }
  void waitForRecords(long n) { ASSERT_TRUE(node->queue().waitForReceivedRecords(n, Seconds(30))); }

  std::shared_ptr<ManualClock> clock;
  StreamingContext ssc;
  std::unique_ptr<DStream<std::string_view>> lines;
  detail::SocketInputNode* node = nullptr;
  std::mutex mu;
  std::map<long, std::vector<std::string>> batches;
};

TEST(SocketTextStreamTest, LinesReceivedBeforeABatchTimeFormThatBatchEvenOnOneWorker) {
  test::LoopbackServer server;
  SocketRun run(server.port(), "local");  // unlike Spark, local[1] receives and processes
  run.ssc.start();
  server.accept();
  server.send("hej\r\nkalle\n\nku");
  server.send("la\n");
  run.waitForRecords(4);
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"hej", "kalle", "", "kula"}));
  server.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\n");
  run.waitForRecords(8);
  EXPECT_EQ(run.batch(102'000),
            (std::vector<std::string>{"HTTP/1.1 200 OK", "Content-Type: application/json", "", "{\"a\":1}"}));
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{}));
  run.ssc.stop();
}

TEST(SocketTextStreamTest, AServerThatReconnectsContinuesTheStream) {
  test::LoopbackServer server;
  SocketRun run(server.port());
  run.ssc.start();
  server.accept();
  server.send("one\n");
  run.waitForRecords(1);
  server.closeClient();  // the connection is lost; the receiver retries after 2 s of clock time
  ASSERT_TRUE(run.node->receiver().waitFor([](const auto& s) { return s.retries >= 1; }, Seconds(30)));
  run.clock->advance(Seconds(2));
  server.accept();
  server.send("two\n");
  run.waitForRecords(2);
  auto first = run.batch(101'000);
  auto second = run.batch(102'000);
  auto third = run.batch(103'000);
  std::vector<std::string> all(first);
  all.insert(all.end(), second.begin(), second.end());
  all.insert(all.end(), third.begin(), third.end());
  EXPECT_EQ(all, (std::vector<std::string>{"one", "two"}));
  run.ssc.stop();
}

TEST(SocketTextStreamTest, GracefulStopProcessesWhatWasReceived) {
  test::LoopbackServer server;
  SocketRun run(server.port());
  run.ssc.start();
  server.accept();
  server.send("a\nb\nc\n");
  run.waitForRecords(3);
  run.ssc.stop(/*stopGracefully=*/true);
  std::lock_guard lock(run.mu);
  EXPECT_EQ(run.batches[101'000], (std::vector<std::string>{"a", "b", "c"}));
}

// Issue 10: a graceful stop emitted a half-received line ({"venue":{"x":"tr) as a record.
TEST(SocketTextStreamTest, GracefulStopDropsAndCountsAHalfReceivedLine) {
  test::LoopbackServer server;
  SocketRun run(server.port());
  run.ssc.start();
  server.accept();
  const std::string sent = "{\"venue\":{\"x\":\"a\"}}\n{\"venue\":{\"x\":\"tr";
  server.send(sent);
  run.waitForRecords(1);
  ASSERT_TRUE(run.node->receiver().waitFor(
      [&](const auto& s) { return s.bytesReceived == static_cast<std::int64_t>(sent.size()); }, Seconds(30)));
  run.ssc.stop(/*stopGracefully=*/true);
  std::vector<std::string> all;
  std::lock_guard lock(run.mu);
  for (const auto& [ms, lines] : run.batches) all.insert(all.end(), lines.begin(), lines.end());
  EXPECT_EQ(all, (std::vector<std::string>{"{\"venue\":{\"x\":\"a\"}}"}));
  EXPECT_EQ(run.node->receiver().stats().linesDropped, 1);
}

TEST(SocketTextStreamTest, MaxLineBytesDropsLongerLinesAndCountsThem) {
  test::LoopbackServer server;
  SocketRun run(server.port(), "local[1]", {.maxLineBytes = 10});
  run.ssc.start();
  server.accept();
  server.send("short\n" + std::string(50, 'x') + "\n0123456789\n");
  run.waitForRecords(2);
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"short", "0123456789"}));
  EXPECT_EQ(run.node->receiver().stats().linesDropped, 1);
  run.ssc.stop();
}

TEST(SocketTextStreamTest, MaxRatePerSecondPacesTheReceiverOnTheContextsClock) {
  test::LoopbackServer server;
  // 10 records/s with a burst of one record (a tenth of a second's worth).
  SocketRun run(server.port(), "local[1]", {.maxRatePerSecond = 10});
  run.ssc.start();
  server.accept();
  std::vector<std::string> sent;
  std::string data;
  for (int i = 0; i < 12; ++i) {
    sent.push_back("record-" + std::to_string(10'000'000 + i));  // 15 bytes and '\n'
    data += sent.back() + "\n";
  }
  server.send(data);
  run.waitForRecords(1);
  // All 12 lines arrived at once, but the clock stands still: the budget holds one record.
  EXPECT_LE(run.node->queue().receivedRecords(), 2);
  std::vector<std::string> got;
  long ms = 100'000;
  for (long received = run.node->queue().receivedRecords(); received < 12;) {
    ms += 1000;
    ASSERT_LE(ms, 160'000) << "only " << received << " records received";
    auto batch = run.batch(ms);  // one second later: about one more record
    got.insert(got.end(), batch.begin(), batch.end());
    run.waitForRecords(received + 1);
    received = run.node->queue().receivedRecords();
    EXPECT_LE(received, (ms - 100'000) / 1000 + 2);
  }
  for (int i = 0; i < 2; ++i) {
    auto batch = run.batch(ms += 1000);
    got.insert(got.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(got, sent);
  run.ssc.stop();
}

TEST(SocketTextStreamTest, BadPortsAreRejectedAtDefinition) {
  StreamingContext ssc("local", Seconds(1));
  EXPECT_THROW(ssc.socketTextStream("localhost", 0), Error);
  EXPECT_THROW(ssc.socketTextStream("localhost", 70000), Error);
  EXPECT_THROW(ssc.socketTextStream("", 9999), Error);
}

}  // namespace
}  // namespace dstream
