// kafka::GroupMember in one process against dstream-kafka-mock: two members share a topic's
// partitions and hand them over, state included, when one leaves; a partition whose lock is
// held waits for it; a failing partition fails the member, naming it; bad settings are named.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/kafka_group.h"
#include "kafka/kafka_test_util.h"
#include "testing/errors.h"
#include "testing/files.h"
#include "testing/wait.h"

namespace dstream {
namespace {

using kafka::ConsumerRecord;
using kafka::TopicPartition;
using testing::Deadline;

// The newest running count of every key, over all partitions and members.
struct Totals {
  std::mutex mu;
  std::map<std::string, std::pair<long, long>> latest;  // key -> (batch ms, count)

  void record(const std::string& key, long batchMs, long count) {
    std::lock_guard lock(mu);
    auto& [at, n] = latest[key];
    if (batchMs >= at) at = batchMs, n = count;
  }
  long sum() {
    std::lock_guard lock(mu);
    long s = 0;
    for (auto& [k, v] : latest) s += v.second;
    return s;
  }
};

kafka::GroupOptions groupOptions(const std::string& bootstrap, const std::filesystem::path& root) {
  kafka::GroupOptions g;
  g.kafkaParams = {{"bootstrap.servers", bootstrap},
                   {"group.id", "group-test"},
                   {"auto.offset.reset", "earliest"},
                   {"session.timeout.ms", "6000"},
                   {"heartbeat.interval.ms", "300"}};
  g.topics = {"words"};
  g.checkpointRoot = root.string();
  g.batchDuration = Milliseconds(100);
  g.context.log = [](LogLevel, std::string_view) {};
  return g;
}

// Counts records per key and partition with updateStateByKey and reports every batch's counts
// to `totals`.
kafka::PartitionProgram countingProgram(Totals& totals) {
  return [&totals](StreamingContext&, const DStream<ConsumerRecord>& records, const TopicPartition&) {
    records
        .map([](const ConsumerRecord& r) {
          return std::pair<std::string, long>(std::string(r.key) + "/" + std::to_string(r.partition), 1L);
        })
        .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> total) {
          return std::optional<long>(total.value_or(0) + static_cast<long>(ones.size()));
        })
        .uid("running-count")
        .foreachRDD([&totals](const RDD<std::pair<std::string, long>>& rdd, Time t) {
          for (const auto& [key, n] : rdd.collect()) totals.record(key, toMillis(t), n);
        });
  };
}

bool waitFor(const std::function<bool()>& condition, Duration timeout = Seconds(60)) {
  Deadline deadline(timeout);
  while (!condition()) {
    if (deadline.passed()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(GroupMemberTest, TwoMembersShareThePartitionsAndHandThemOverWithTheirState) {
  testing::MockCluster mock({"--topic", "words:4"});
  testing::TempDir dir("dstream-group");
  testing::produce(mock.bootstrap(), "words", 200);  // keys key-0 .. key-9
  Totals totals;
  kafka::GroupMember a(groupOptions(mock.bootstrap(), dir.path()), countingProgram(totals));
  a.start();
  ASSERT_TRUE(waitFor([&] { return a.assignment().size() == 4; })) << "the first member never ran all 4 partitions";
  ASSERT_TRUE(waitFor([&] { return totals.sum() == 200; })) << totals.sum();

  kafka::GroupMember b(groupOptions(mock.bootstrap(), dir.path()), countingProgram(totals));
  b.start();
  ASSERT_TRUE(waitFor([&] { return a.assignment().size() == 2 && b.assignment().size() == 2; }))
      << "cooperative rebalance: " << a.assignment().size() << " + " << b.assignment().size();
  std::set<TopicPartition> all;
  for (const auto& tp : a.assignment()) all.insert(tp);
  for (const auto& tp : b.assignment()) all.insert(tp);
  EXPECT_EQ(all.size(), 4u) << "a partition ran in both members";

  testing::produce(mock.bootstrap(), "words", 100, "value-", 200);
  ASSERT_TRUE(waitFor([&] { return totals.sum() == 300; })) << "after the rebalance: " << totals.sum();

  a.stop();  // leaves the group: b takes a's partitions with their state
  EXPECT_TRUE(a.assignment().empty());
  ASSERT_TRUE(waitFor([&] { return b.assignment().size() == 4; }));
  testing::produce(mock.bootstrap(), "words", 100, "value-", 300);
  ASSERT_TRUE(waitFor([&] { return totals.sum() == 400; })) << "after the hand-over: " << totals.sum();
  std::lock_guard lock(totals.mu);
  for (const auto& [key, v] : totals.latest) EXPECT_EQ(v.second, 40) << key;  // 400 records over 10 keys
}

TEST(GroupMemberTest, APartitionWithoutACheckpointStartsWhereTheProgramSays) {
  testing::MockCluster mock({"--topic", "words:2"});
  testing::TempDir dir("dstream-group");
  testing::produce(mock.bootstrap(), "words", 30, "value-", 0, 0);
  testing::produce(mock.bootstrap(), "words", 30, "value-", 30, 1);
  auto options = groupOptions(mock.bootstrap(), dir.path());
  // Partition 1: as an exactly-once sink's committedInputOffsets would say; partition 0: no
  // word, so auto.offset.reset (earliest).
  options.startOffsetOf = [](const TopicPartition& tp) -> std::optional<std::int64_t> {
    return tp.partition == 1 ? std::optional<std::int64_t>(12) : std::nullopt;
  };
  Totals totals;
  kafka::GroupMember member(options, countingProgram(totals));
  member.start();
  ASSERT_TRUE(waitFor([&] { return member.assignment().size() == 2 && totals.sum() == 30 + 18; })) << totals.sum();
}

TEST(GroupMemberTest, APartitionWhoseLockIsHeldWaitsForIt) {
  testing::MockCluster mock({"--topic", "words:2"});
  testing::TempDir dir("dstream-group");
  testing::produce(mock.bootstrap(), "words", 20, "value-", 0, 1);
  // Another member (here: the test) still runs words-1.
  int held = ::open((dir / "words-1.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  Totals totals;
  kafka::GroupMember member(groupOptions(mock.bootstrap(), dir.path()), countingProgram(totals));
  member.start();
  // words-1 comes after words-0 in the assignment; while its lock is held nothing of it runs.
  ASSERT_TRUE(waitFor([&] { return member.assignment().size() == 1; }));
  EXPECT_EQ(totals.sum(), 0);
  ::close(held);
  ASSERT_TRUE(waitFor([&] { return member.assignment().size() == 2 && totals.sum() == 20; })) << totals.sum();
}

TEST(GroupMemberTest, AFailingPartitionFailsTheMemberNamingIt) {
  testing::MockCluster mock({"--topic", "words:1"});
  testing::TempDir dir("dstream-group");
  testing::produce(mock.bootstrap(), "words", 5);
  kafka::GroupMember member(groupOptions(mock.bootstrap(), dir.path()),
                            [](StreamingContext&, const DStream<ConsumerRecord>& records, const TopicPartition&) {
                              records.foreachRDD([](const RDD<ConsumerRecord>& rdd) {
                                if (rdd.count() > 0) throw std::runtime_error("bad record");
                              });
                            });
  member.start();
  Error e = testing::errorOf([&] { member.awaitTermination(); });
  EXPECT_NE(std::string(e.what()).find("partition words-0 failed"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("bad record"), std::string::npos) << e.what();
  EXPECT_TRUE(member.assignment().empty());
}

TEST(GroupMemberTest, BadSettingsAreRefusedNamingThem) {
  auto program = [](StreamingContext&, const DStream<ConsumerRecord>&, const TopicPartition&) {};
  kafka::GroupOptions g = groupOptions("127.0.0.1:1", "/tmp/unused");
  auto expect = [&](const std::string& message) {
    testing::expectInvalid([&] { kafka::GroupMember member(g, program); }, message);
  };
  g.kafkaParams.erase("group.id");
  expect("dstream: GroupMember: kafkaParams must set group.id");
  g.kafkaParams["group.id"] = "g";
  g.kafkaParams.erase("bootstrap.servers");
  expect("dstream: GroupMember: kafkaParams must set bootstrap.servers");
  g.kafkaParams["bootstrap.servers"] = "127.0.0.1:1";
  g.topics.clear();
  expect("dstream: GroupMember: topics is empty");
  g.topics = {"words"};
  g.checkpointRoot.clear();
  expect("dstream: GroupMember: checkpointRoot is empty (storage every member shares)");
  g.checkpointRoot = "/tmp/unused";
  g.batchDuration = Duration(0);
  expect("dstream: GroupMember: batchDuration must be positive");
  g.batchDuration = Seconds(1);
  g.workersPerPartition = 0;
  expect("dstream: GroupMember: workersPerPartition must be >= 1");
  g.workersPerPartition = 1;
  g.kafkaParams["auto.offset.reset"] = "sometimes";
  expect("dstream: GroupMember: auto.offset.reset 'sometimes' is not one of latest, earliest");
  g.kafkaParams["auto.offset.reset"] = "earliest";
  g.kafkaParams["no.such.property"] = "1";
  expect("dstream: GroupMember: kafkaParams no.such.property=1: No such configuration property: \"no.such.property\"");
  g.kafkaParams.erase("no.such.property");
  testing::expectInvalid([&] { kafka::GroupMember member(g, nullptr); }, "dstream: GroupMember: the partition program is empty");
  kafka::GroupMember member(g, program);
  testing::expectErrorMessage([&] { member.start(), member.start(); }, ErrorCode::kFailedPrecondition,
                              "dstream: GroupMember: start() called twice");
}

}  // namespace
}  // namespace dstream
