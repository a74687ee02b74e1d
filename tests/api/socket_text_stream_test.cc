// socketTextStream end to end: a real TCP server on 127.0.0.1, a manual clock.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/loopback.h"
#include "sources/input_nodes.h"

namespace dstream {
namespace {

// A started context on a manual clock whose socketTextStream is connected to `server`;
// collects the lines per batch.
struct SocketRun {
  explicit SocketRun(const char* master = "local[1]", SocketStreamOptions options = {})
      : clock(std::make_shared<ManualClock>(timeFromMillis(100'000))),
        ssc(master, Seconds(1), {.clock = clock}) {
    lines = std::make_unique<DStream<std::string_view>>(ssc.socketTextStream("127.0.0.1", server.port(), options));
    node = dynamic_cast<detail::SocketInputNode*>(lines->node().get());
    lines->foreachRDD([this](const RDD<std::string_view>& rdd, Time t) {
      std::vector<std::string> got;
      for (auto l : rdd.collect()) got.emplace_back(l);
      std::lock_guard lock(mu);
      batches[toMillis(t)] = got;
    });
    ssc.start();
    server.accept();
  }
  ~SocketRun() { ssc.stop(); }  // before the members the outputs use go
  std::vector<std::string> batch(long ms) {
    EXPECT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(ms)));
    std::lock_guard lock(mu);
    return batches[ms];
  }
  void waitForRecords(long n) { ASSERT_TRUE(node->queue().waitForReceivedRecords(n, Seconds(30))); }

  testing::LoopbackServer server;  // before ssc: the stream needs its port
  std::shared_ptr<ManualClock> clock;
  StreamingContext ssc;
  std::unique_ptr<DStream<std::string_view>> lines;
  detail::SocketInputNode* node = nullptr;
  std::mutex mu;
  std::map<long, std::vector<std::string>> batches;
};

TEST(SocketTextStreamTest, LinesReceivedBeforeABatchTimeFormThatBatchEvenOnOneWorker) {
  SocketRun run("local");  // unlike Spark, local[1] receives and processes
  run.server.send("hej\r\nkalle\n\nku");
  run.server.send("la\n");
  run.waitForRecords(4);
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"hej", "kalle", "", "kula"}));
  run.server.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\n");
  run.waitForRecords(8);
  EXPECT_EQ(run.batch(102'000),
            (std::vector<std::string>{"HTTP/1.1 200 OK", "Content-Type: application/json", "", "{\"a\":1}"}));
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{}));
  run.ssc.stop();
}

TEST(SocketTextStreamTest, AServerThatReconnectsContinuesTheStream) {
  SocketRun run;
  run.server.send("one\n");
  run.waitForRecords(1);
  run.server.closeClient();  // the connection is lost; the receiver retries after 2 s of clock time
  ASSERT_TRUE(run.node->receiver().waitFor([](const auto& s) { return s.retries >= 1; }, Seconds(30)));
  run.clock->advance(Seconds(2));
  run.server.accept();
  run.server.send("two\n");
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
  SocketRun run;
  run.server.send("a\nb\nc\n");
  run.waitForRecords(3);
  run.ssc.stop(/*stopGracefully=*/true);
  std::lock_guard lock(run.mu);
  EXPECT_EQ(run.batches[101'000], (std::vector<std::string>{"a", "b", "c"}));
}

// Issue 10: a graceful stop emitted a half-received line ({"venue":{"x":"tr) as a record.
TEST(SocketTextStreamTest, GracefulStopDropsAndCountsAHalfReceivedLine) {
  SocketRun run;
  const std::string sent = "{\"venue\":{\"x\":\"a\"}}\n{\"venue\":{\"x\":\"tr";
  run.server.send(sent);
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
  SocketRun run("local[1]", {.maxLineBytes = 10});
  run.server.send("short\n" + std::string(50, 'x') + "\n0123456789\n");
  run.waitForRecords(2);
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"short", "0123456789"}));
  EXPECT_EQ(run.node->receiver().stats().linesDropped, 1);
  run.ssc.stop();
}

TEST(SocketTextStreamTest, MaxRatePerSecondPacesTheReceiverOnTheContextsClock) {
  // 10 records/s with a burst of one record (a tenth of a second's worth).
  SocketRun run("local[1]", {.maxRatePerSecond = 10});
  std::vector<std::string> sent;
  std::string data;
  for (int i = 0; i < 12; ++i) {
    sent.push_back("record-" + std::to_string(10'000'000 + i));  // 15 bytes and '\n'
    data += sent.back() + "\n";
  }
  run.server.send(data);
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
