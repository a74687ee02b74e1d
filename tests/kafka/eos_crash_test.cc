// Exactly-once to Kafka under kill -9: eos_crash_program reads a direct stream with a
// checkpoint and writes each record's result through the transactional sink; it is killed with
// SIGKILL at random moments while batches are written, and started again, several times. At
// the end the output, as a read_committed reader sees it, holds each result exactly once.
//
// dstream-kafka-mock shows read_committed readers aborted records too, so the output is read
// with testing::readCommittedOutput (the records of committed transactions, from the sink's
// commit records); what the mock shows besides is printed, as evidence that kills landed
// inside transactions.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dstream/kafka.h"
#include "kafka/kafka_test_util.h"
#include "testing/child_process.h"
#include "testing/files.h"
#include "testing/wait.h"

namespace dstream {
namespace {

constexpr int kRecords = 600;
constexpr int kKills = 6;

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(KafkaExactlyOnceCrashTest, EachResultIsCommittedOnceAcrossKills) {
  testing::MockCluster mock({"--topic", "in:2", "--topic", "out:2", "--topic", "out.dstream-commits:1"});
  testing::produce(mock.bootstrap(), "in", kRecords);
  testing::TempDir root;
  std::vector<std::string> argv{EOS_CRASH_PROGRAM, "--bootstrap", mock.bootstrap(), "--checkpoint",
                                (root.path() / "ckpt").string(), "--input", "in", "--output", "out", "--id", "eos-out",
                                "--rate", "80", "--batch-ms", "250", "--record-delay-us", "2000", "--after-write-delay-ms", "100"};
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> killAfterMs(150, 1200);
  int skipped = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    testing::ChildProcess program(argv);
    ASSERT_TRUE(program.waitForOutput("started", 2 * testing::kWaitTimeout)) << program.output();
    // The moment of the kill is what is random here, not a wait for something.
    std::this_thread::sleep_for(std::chrono::milliseconds(killAfterMs(random)));
    ASSERT_TRUE(program.running()) << program.output();
    program.kill();
    // Evidence of what the kills hit: a restart that skips a re-run batch had killed a batch
    // after its commit; the records from open transactions below, one killed inside it.
    program.waitForOutput("\n(end of output)", Seconds(10));  // reads the rest: the pipe ends with the process
    skipped += count(program.output(), "not written again");
  }
  testing::ChildProcess program(argv);
  ASSERT_TRUE(program.waitForOutput("started", 2 * testing::kWaitTimeout)) << program.output();
  std::vector<testing::ReadRecord> committed;
  testing::Deadline deadline(4 * testing::kWaitTimeout);
  while (!deadline.passed()) {
    committed = testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits");
    if (committed.size() >= static_cast<std::size_t>(kRecords)) break;
    ASSERT_TRUE(program.running()) << program.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval
  }
  program.kill();
  program.waitForOutput("\n(end of output)", Seconds(10));
  skipped += count(program.output(), "not written again");
  std::map<std::string, int> times;
  for (const auto& r : committed) ++times[r.value];
  for (int i = 0; i < kRecords; ++i) {
    std::string value = "out-value-" + std::to_string(i);
    EXPECT_EQ(times[value], 1) << value;
  }
  EXPECT_EQ(committed.size(), static_cast<std::size_t>(kRecords));
  auto all = testing::readTopic(mock.bootstrap(), "out", 2);
  std::printf("%d kills; output topic: %zu records committed, %zu more from transactions the kills left open; "
              "%d re-run batches skipped as committed\n",
              kKills, committed.size(), all.size() - committed.size(), skipped);
}

// The first batch commits and the process dies before that batch's checkpoint is on disk
// (the crash point's second pass: the first is the checkpoint every fresh start writes before
// its first batch). More records arrive before the restart, and no rate cap bounds a batch.
// The restart must recover from the start checkpoint (a fresh start would lose the running
// total the first batch counted) and re-run the first batch on exactly the ranges it committed
// (new, longer ranges would be skipped as committed, and the records they add never written).
TEST(KafkaExactlyOnceCrashTest, AKillAfterTheFirstCommitBeforeItsCheckpointLosesNeitherOutputNorState) {
  testing::MockCluster mock({"--topic", "in:2", "--topic", "out:2", "--topic", "out.dstream-commits:1", "--topic", "totals:1",
                             "--topic", "totals.dstream-commits:1"});
  testing::produce(mock.bootstrap(), "in", 20);
  testing::TempDir root;
  std::vector<std::string> argv{EOS_CRASH_PROGRAM, "--bootstrap", mock.bootstrap(), "--checkpoint", (root.path() / "ckpt").string(),
                                "--input", "in", "--output", "out", "--id", "eos-out", "--totals", "totals", "--rate", "0",
                                "--batch-ms", "200"};
  {
    auto first = argv;
    first.insert(first.end(), {"--crash-at", "checkpoint-before-write:2"});
    testing::ChildProcess program(first);
    EXPECT_EQ(program.wait(), 128 + SIGKILL) << program.output();
  }
  // The kill came after the first batch, and only it, had committed.
  auto batches = kafka::readCommittedBatches({{"bootstrap.servers", mock.bootstrap()}}, "out.dstream-commits");
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits").size(), 20u);
  testing::produce(mock.bootstrap(), "in", 20, "value-", 20);

  testing::ChildProcess program(argv);
  ASSERT_TRUE(program.waitForOutput("started", 2 * testing::kWaitTimeout)) << program.output();
  EXPECT_NE(program.output().find("started (recovering)"), std::string::npos) << "no checkpoint to recover from";
  auto lastTotal = [&]() -> std::string {
    auto totals = testing::readCommittedOutput(mock.bootstrap(), "totals", 1, "totals.dstream-commits");
    return totals.empty() ? "" : totals.back().value.substr(0, totals.back().value.find('@'));
  };
  std::vector<testing::ReadRecord> committed;
  testing::Deadline deadline(4 * testing::kWaitTimeout);
  while (!deadline.passed()) {
    committed = testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits");
    if (committed.size() >= 40u && lastTotal() == "40") break;
    ASSERT_TRUE(program.running()) << program.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval
  }
  program.kill();
  program.waitForOutput("\n(end of output)", Seconds(10));
  std::map<std::string, int> times;
  for (const auto& r : committed) ++times[r.value];
  for (int i = 0; i < 40; ++i) EXPECT_EQ(times["out-value-" + std::to_string(i)], 1) << i << "\n" << program.output();
  EXPECT_EQ(committed.size(), 40u);
  EXPECT_EQ(lastTotal(), "40") << "the running total of the records read";
  EXPECT_NE(program.output().find("re-read the ranges their commit records name"), std::string::npos) << program.output();
}

}  // namespace
}  // namespace dstream
