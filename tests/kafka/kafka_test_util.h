// Helpers of the Kafka tests: dstream-kafka-mock as a child process, and plain librdkafka
// producers and consumers to write and check topics with.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "testing/child_process.h"

namespace dstream::testing {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

// Starts dstream-kafka-mock with `args` and reads its bootstrap address from its first line.
class MockCluster {
 public:
  explicit MockCluster(std::vector<std::string> args = {});
  const std::string& bootstrap() const { return bootstrap_; }
  ChildProcess& process() { return process_; }
  // Sends one command and returns its reply line.
  std::string command(const std::string& line);

 private:
  ChildProcess process_;
  std::string bootstrap_;
};

// A librdkafka client with `settings`; a failed assertion names a rejected setting.
KafkaPtr kafkaClient(rd_kafka_type_t type, const std::map<std::string, std::string>& settings);

// Produces `n` records "key-<i % 10>" -> "<valuePrefix><i>" (i from `first`) with an
// idempotent producer, and waits until each is acknowledged.
void produce(const std::string& bootstrap, const std::string& topic, int n, const std::string& valuePrefix = "value-",
             int first = 0, int partition = -1);

// Every partition of `topic` from the start to its high watermark: the record count and the
// partitions each key was seen in.
struct Consumed {
  int records = 0;
  std::map<std::string, std::set<int>> partitionsOfKey;
};
Consumed consumeAll(const std::string& bootstrap, const std::string& topic, int partitions);

// One record of a topic as read back.
struct ReadRecord {
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
};
// Every partition of `topic` from the start to its end, read with isolation.level=
// read_committed; `committedOnly` keeps only the records inside the ranges that the commit
// records in `commitTopic` (exactly-once sinks, kafka::readCommittedBatches) name. That is what
// read_committed shows on a real cluster; dstream-kafka-mock's Fetch ignores isolation.level
// and shows aborted records too, so tests of exactly-once output read it this way.
std::vector<ReadRecord> readTopic(const std::string& bootstrap, const std::string& topic, int partitions);
std::vector<ReadRecord> readCommittedOutput(const std::string& bootstrap, const std::string& topic, int partitions,
                                            const std::string& commitTopic);

}  // namespace dstream::testing
