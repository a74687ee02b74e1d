// The socket write-ahead log under a ManualClock: blocks that were received (logged) but not
// processed before a crash, and blocks of batches re-run after the last state snapshot, are
// read back from the log, each exactly once.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "recovery/running_count.h"
#include "sources/input_nodes.h"
#include "testing/batches.h"
#include "testing/files.h"
#include "testing/loopback.h"

namespace dstream {
namespace {
namespace fs = std::filesystem;

struct SocketRun {
  SocketRun(const fs::path& ckpt, int port, Time start) : clock(std::make_shared<ManualClock>(start)) {
    ctx = StreamingContext::getOrCreate(ckpt.string(), [&] {
      auto c = std::make_unique<StreamingContext>("local[1]", Seconds(1), ContextOptions{.clock = clock});
      c->checkpoint(ckpt.string());
      c->setStateCheckpointInterval(Seconds(4));
      auto lines = c->socketTextStream("127.0.0.1", port, {.retryInterval = Milliseconds(50), .writeAheadLog = true});
      node = dynamic_cast<detail::SocketInputNode*>(lines.node().get());
      test::runningCount(test::wordsOf(lines), "totals").foreachRDD([this](const RDD<std::pair<std::string, long>>& rdd, Time t) {
        std::string text;
        for (const auto& kv : rdd.collect()) formatTo(text, kv), text += ' ';
        std::lock_guard lock(mu);
        totals[toMillis(t)] = text;
      });
      return c;
    });
  }
  void batch(long ms) {
    ASSERT_TRUE(testing::runBatchAt(*ctx, *clock, timeFromMillis(ms)));
  }
  std::string totalsAt(long ms) {
    std::lock_guard lock(mu);
    return totals[ms];
  }

  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<StreamingContext> ctx;
  detail::SocketInputNode* node = nullptr;
  std::mutex mu;
  std::map<long, std::string> totals;
};

TEST(WriteAheadLogRecoveryTest, ReceivedBlocksAreReplayedExactlyOnce) {
  testing::TempDir root;
  fs::path ckpt = root.path() / "ckpt";
  testing::LoopbackServer server;
  {
    SocketRun run(ckpt, server.port(), timeFromMillis(100'000));
    EXPECT_FALSE(run.ctx->isRecovering());
    run.ctx->start();
    server.accept();
    server.send("a b\n");
    ASSERT_TRUE(run.node->queue().waitForReceivedRecords(1, Seconds(30)));
    run.batch(101'000);  // the first batch is snapshotted
    server.send("c\n");
    ASSERT_TRUE(run.node->queue().waitForReceivedRecords(2, Seconds(30)));
    run.batch(102'000);  // processed, but after the snapshot: re-run from the log
    server.send("d d\n");
    ASSERT_TRUE(run.node->queue().waitForReceivedRecords(3, Seconds(30)));
    EXPECT_EQ(run.totalsAt(102'000), "(a, 1) (b, 1) (c, 1) ");
    run.ctx->stop();  // "d d" was received and logged, never processed
    server.closeClient();
  }
  EXPECT_FALSE(fs::is_empty(ckpt / "receivedData" / "0"));
  SocketRun run(ckpt, server.port(), timeFromMillis(102'000));
  ASSERT_TRUE(run.ctx->isRecovering());
  run.ctx->start();
  server.accept();
  ASSERT_TRUE(dstream::testing::awaitBatchCompleted(*run.ctx, timeFromMillis(102'000), Seconds(30)));
  EXPECT_EQ(run.totalsAt(102'000), "(a, 1) (b, 1) (c, 1) ");
  run.batch(103'000);
  EXPECT_EQ(run.totalsAt(103'000), "(a, 1) (b, 1) (c, 1) (d, 2) ");
  server.send("e\n");
  ASSERT_TRUE(run.node->queue().waitForReceivedRecords(2, Seconds(30)));  // "d d" requeued, then "e"
  run.batch(104'000);
  EXPECT_EQ(run.totalsAt(104'000), "(a, 1) (b, 1) (c, 1) (d, 2) (e, 1) ");
  run.ctx->stop();
}

}  // namespace
}  // namespace dstream
