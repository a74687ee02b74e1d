// Scale-out under kill -9: three group_counts_program processes in one consumer group share a
// keyed 6-partition topic; while records arrive, one of them at a time is killed with SIGKILL
// at a random moment and started again. At the end, the running count of every key, read back
// from the output topic with isolation.level=read_committed, is exactly the number of records
// written with that key; no count ever exceeds it; and no batch's result for a key is there
// twice (each partition's batches are written exactly once).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/kafka_test_util.h"
#include "testing/child_process.h"
#include "testing/files.h"
#include "testing/wait.h"
#include "testing/wall_clock.h"

namespace dstream {
namespace {

using testing::ChildProcess;
using testing::Deadline;
using testing::KafkaPtr;
using testing::kafkaClient;

constexpr int kPartitions = 6;
constexpr int kKeys = 48;

// Writes `n` records keyed "key-<k>", k cycling from `first`, placed by the producer's
// partitioner (one key, one partition), and waits for their acknowledgements. One producer
// for the whole test: librdkafka's mock cluster draws producer ids at random from 900,000
// without checking them, and a transactional sink given an id that an earlier producer holds
// fails every transaction (INVALID_PRODUCER_ID_MAPPING). A producer per call made thousands.
void produceKeyed(rd_kafka_t* p, const std::string& topic, int n, int first, std::map<std::string, long>& expected) {
  for (int i = 0; i < n; ++i) {
    std::string key = "key-" + std::to_string((first + i) % kKeys);
    std::string value = "record-" + std::to_string(first + i);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                                    RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p, 10);
    }
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    ++expected[key];
  }
  ASSERT_EQ(rd_kafka_flush(p, 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

// What the output topic says: results in the order of their partitions.
struct Output {
  std::map<std::string, long> last;                  // the newest count of each key
  std::map<std::string, long> highest;               // the largest count ever written for it
  std::set<std::pair<std::string, std::string>> seen;  // (key, batch ms) results
  std::vector<std::string> duplicates;               // results written twice
  std::vector<std::string> malformed;

  void take(const std::string& key, const std::string& value) {
    auto at = value.find('@');
    if (at == std::string::npos) {
      malformed.push_back(key + "=" + value);
      return;
    }
    long count = std::stol(value.substr(0, at));
    if (!seen.insert({key, value.substr(at + 1)}).second) duplicates.push_back(key + "=" + value);
    last[key] = count;
    highest[key] = std::max(highest[key], count);
  }
};

// Follows the output topic as it grows (progress only: on the mock it shows aborted records too).
class OutputReader {
 public:
  OutputReader(const std::string& bootstrap, const std::string& topic) {
    consumer_ = kafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                {"group.id", "crash-test-reader"},
                                                {"enable.auto.commit", "false"},
                                                {"isolation.level", "read_committed"}});
    rd_kafka_topic_partition_list_t* all = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(all, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    EXPECT_EQ(rd_kafka_assign(consumer_.get(), all), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(all);
  }
  ~OutputReader() { rd_kafka_consumer_close(consumer_.get()); }

  // Reads what has arrived, for up to `forMillis`.
  void read(int forMillis) {
    Deadline until{std::chrono::milliseconds(forMillis)};
    while (!until.passed()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 50);
      if (!m) continue;
      if (!m->err) take(m);
      rd_kafka_message_destroy(m);
    }
  }
  const Output& output() const { return out_; }

 private:
  void take(const rd_kafka_message_t* m) {
    out_.take(std::string(static_cast<const char*>(m->key), m->key_len),
              std::string(static_cast<const char*>(m->payload), m->len));
  }

  KafkaPtr consumer_;
  Output out_;
};

std::unique_ptr<ChildProcess> startMember(const testing::MockCluster& cluster, const testing::TempDir& dir, int i) {
  testing::ChildOptions options;
  options.stdoutFile = dir / ("member-" + std::to_string(i) + ".log");
  options.append = true;
  options.pipeStdin = true;  // its end, or the test's death, ends the member
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{GROUP_COUNTS_PROGRAM, cluster.bootstrap(), "counts", "words", "counts",
                               (dir / "checkpoints").string(), "200"},
      options);
}

TEST(KafkaGroupCrashTest, ThreeMembersKilledAtRandomKeepRunningCountsExact) {
  testing::MockCluster cluster({"--brokers", "3", "--topic", "words:" + std::to_string(kPartitions), "--topic",
                                "counts:" + std::to_string(kPartitions)});
  testing::TempDir dir("dstream-group-crash");
  std::vector<std::unique_ptr<ChildProcess>> members;
  for (int i = 0; i < 3; ++i) members.push_back(startMember(cluster, dir, i));
  // Where each member's current incarnation begins in its (appended) log.
  std::vector<std::size_t> logStart(3, 0);
  auto logOf = [&](int i) { return dir / ("member-" + std::to_string(i) + ".log"); };
  // Whether member i's current incarnation runs partitions now (its log: "runs" minus "stopped").
  auto holdsPartitions = [&](int i) {
    std::string log = testing::readFile(logOf(i));
    log = log.substr(std::min(logStart[i], log.size()));
    int held = 0;
    for (auto at = log.find("GroupMember: runs "); at != std::string::npos; at = log.find("GroupMember: runs ", at + 1)) ++held;
    for (auto at = log.find("GroupMember: stopped "); at != std::string::npos; at = log.find("GroupMember: stopped ", at + 1)) --held;
    return held > 0;
  };

  // Records keep arriving through the whole test, so that every kill lands among running
  // batches and open transactions.
  std::mutex mu;
  std::map<std::string, long> expected;  // guarded by mu
  std::atomic<bool> producing{true};
  std::thread producer([&] {
    KafkaPtr p = kafkaClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", cluster.bootstrap()}, {"enable.idempotence", "true"}});
    for (int written = 0; producing; written += 40) {
      std::map<std::string, long> batch;
      produceKeyed(p.get(), "words", 40, written, batch);
      std::lock_guard lock(mu);
      for (const auto& [k, n] : batch) expected[k] += n;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing: about 1,500 records/s
    }
  });
  auto stopProducing = [&] {
    producing = false;
    if (producer.joinable()) producer.join();
  };
  // On any failure, an early return from a failed assertion too: the producer stops, and what
  // each incarnation ran is printed (CI keeps nothing else of the members).
  struct OnExit {
    std::function<void()> run;
    ~OnExit() { run(); }
  } onExit{[&] {
    stopProducing();
    if (!HasFailure()) return;
    for (int i = 0; i < 3; ++i) std::printf("member %d's log:\n%s\n", i, testing::readFile(logOf(i)).c_str());
  }};
  auto expectedNow = [&] {
    std::lock_guard lock(mu);
    return expected;
  };

  OutputReader reader(cluster.bootstrap(), "counts");
  // Whether every key's count has reached `target`: all six partitions are owned and running.
  auto reached = [&](const std::map<std::string, long>& target) {
    for (const auto& [key, n] : target) {
      auto it = reader.output().last.find(key);
      if (it == reader.output().last.end() || it->second < n) return false;
    }
    return true;
  };
  unsigned seed = static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    // The group has settled since the last kill: every member runs partitions (so whichever
    // is killed leaves partitions to recover), and what was written before now is counted.
    auto target = expectedNow();
    auto settledNow = [&] { return holdsPartitions(0) && holdsPartitions(1) && holdsPartitions(2) && reached(target); };
    Deadline settled(std::chrono::seconds(120));
    const auto settling = std::chrono::steady_clock::now();
    // A member that fails exits: its partitions move on, but the group cannot settle again.
    auto exited = [&]() -> int {
      for (int i = 0; i < 3; ++i) {
        if (!members[i]->running()) return i;
      }
      return -1;
    };
    while (!settledNow() && !settled.passed() && exited() < 0) reader.read(200);
    if (int gone = exited(); gone >= 0) {
      FAIL() << "round " << round << ": member " << gone << " exited with status " << members[gone]->wait() << " at "
             << testing::secondOfDay() << " (its log is below)";
    }
    if (!settledNow()) {
      std::string behind;
      for (const auto& [key, n] : target) {
        auto it = reader.output().last.find(key);
        long at = it == reader.output().last.end() ? -1 : it->second;
        if (at < n) behind += " " + key + "=" + std::to_string(at) + "/" + std::to_string(n);
      }
      FAIL() << "round " << round << ": the group did not settle within 120 s (at " << testing::secondOfDay()
             << "); members holding partitions: "
             << holdsPartitions(0) << holdsPartitions(1) << holdsPartitions(2) << "; keys behind (count/written):" << behind;
    }
    reader.read(std::uniform_int_distribution<int>(0, 1000)(rng));  // a random moment
    int victim = std::uniform_int_distribution<int>(0, 2)(rng);
    std::printf("round %d (settled in %.1f s): kill -9 member %d at %s\n", round,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - settling).count(), victim,
                testing::secondOfDay().c_str());
    members[victim]->kill();
    logStart[victim] = std::filesystem::file_size(logOf(victim));
    members[victim] = startMember(cluster, dir, victim);
  }
  stopProducing();
  auto total = expectedNow();
  ASSERT_EQ(total.size(), static_cast<std::size_t>(kKeys));

  Deadline deadline(std::chrono::seconds(120));
  auto exact = [&] {
    for (const auto& [key, n] : total) {
      auto it = reader.output().last.find(key);
      if (it == reader.output().last.end() || it->second != n) return false;
    }
    return true;
  };
  while (!exact() && !deadline.passed()) reader.read(500);

  // What a read_committed reader of a real cluster sees (the mock shows aborted records too:
  // readCommittedOutput keeps the records the sinks' commit records name).
  Output out;
  for (const auto& r : testing::readCommittedOutput(cluster.bootstrap(), "counts", kPartitions, "counts.dstream-commits")) {
    out.take(r.key, r.value);
  }
  for (const auto& [key, n] : total) {
    EXPECT_EQ(out.last.count(key) ? out.last.at(key) : -1, n) << "the running count of " << key;
    EXPECT_LE(out.highest.count(key) ? out.highest.at(key) : -1, n) << key << " was counted too often at some batch";
  }
  EXPECT_TRUE(out.duplicates.empty()) << out.duplicates.size() << " results written twice, e.g. " << out.duplicates.front();
  EXPECT_TRUE(out.malformed.empty());

  for (auto& m : members) m->closeInput();
  int recovered = 0;
  for (int i = 0; i < 3; ++i) {
    std::string log = testing::readFile(dir / ("member-" + std::to_string(i) + ".log"));
    EXPECT_EQ(members[i]->wait(), 0) << "member " << i << " did not leave cleanly; its log: " << log;
        for (auto at = log.find("recovered from"); at != std::string::npos; at = log.find("recovered from", at + 1)) ++recovered;
  }
  // Killed members' partitions moved and were recovered from their checkpoints: the test
  // exercised recovery, not only fresh starts.
  std::printf("partitions recovered from their checkpoints: %d\n", recovered);
  EXPECT_GE(recovered, kRounds);
}

}  // namespace
}  // namespace dstream
