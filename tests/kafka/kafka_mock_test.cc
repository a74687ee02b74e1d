// dstream-kafka-mock: the cluster it prints serves librdkafka producers and consumers on
// 127.0.0.1, its commands on stdin change the cluster, and bad arguments fail naming the option.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "testing/child_process.h"
#include "testing/wait.h"

namespace dstream::testing {
namespace {

using namespace std::chrono_literals;

struct Handle {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, Handle>;

// Starts the mock and reads its bootstrap address from its first line.
class MockCluster {
 public:
  explicit MockCluster(std::vector<std::string> args = {})
      : process_(withProgram(std::move(args)), ChildOptions{.pipeStdin = true}) {
    EXPECT_TRUE(process_.waitForOutput("\n")) << process_.output();
    const std::string& out = process_.output();
    const std::string prefix = "bootstrap.servers=";
    EXPECT_EQ(out.rfind(prefix, 0), 0u) << out;
    bootstrap_ = out.substr(prefix.size(), out.find('\n') - prefix.size());
  }
  const std::string& bootstrap() const { return bootstrap_; }
  ChildProcess& process() { return process_; }

  // Sends one command and returns its reply line.
  std::string command(const std::string& line) {
    std::size_t from = process_.output().size();
    process_.writeInput(line + "\n");
    EXPECT_TRUE(process_.waitForOutput("\n", kWaitTimeout, from)) << process_.output();
    const std::string& out = process_.output();
    return out.substr(from, out.find('\n', from) - from);
  }

 private:
  static std::vector<std::string> withProgram(std::vector<std::string> args) {
    args.insert(args.begin(), DSTREAM_KAFKA_MOCK_PATH);
    return args;
  }
  ChildProcess process_;
  std::string bootstrap_;
};

KafkaPtr client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << k << ": " << err;
  }
  KafkaPtr rk(rd_kafka_new(type, conf, err, sizeof err));
  EXPECT_NE(rk, nullptr) << err;
  return rk;
}

// Produces `n` records "key-<i % 10>" -> "value-<i>" and waits until each is acknowledged.
void produce(const std::string& bootstrap, const std::string& topic, int n) {
  KafkaPtr p = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"enable.idempotence", "true"}});
  for (int i = 0; i < n; ++i) {
    std::string key = "key-" + std::to_string(i % 10), value = "value-" + std::to_string(i);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                   RD_KAFKA_V_KEY(key.data(), key.size()),
                                   RD_KAFKA_V_VALUE(value.data(), value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p.get(), 10);
    }
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  }
  ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Reads every partition of `topic` from the start up to its high watermark: key -> partitions
// it was seen in, and the number of records.
struct Consumed {
  int records = 0;
  std::map<std::string, std::set<int>> partitionsOfKey;
};
Consumed consumeAll(const std::string& bootstrap, const std::string& topic, int partitions) {
  KafkaPtr c = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", "test"},
                                          {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  std::map<int, int64_t> high;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(c.get(), topic.c_str(), p, &lo, &hi, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    high[p] = hi;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(c.get(), list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  Consumed got;
  std::map<int, int64_t> next;
  auto done = [&] {
    for (auto [p, hi] : high) {
      if (next[p] < hi) return false;
    }
    return true;
  };
  Deadline deadline(kWaitTimeout);
  while (!done() && !deadline.passed()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.get(), 100);
    if (!m) continue;
    if (!m->err) {
      ++got.records;
      got.partitionsOfKey[std::string(static_cast<const char*>(m->key), m->key_len)].insert(m->partition);
      next[m->partition] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(done()) << "not every partition was read to its high watermark";
  rd_kafka_consumer_close(c.get());
  return got;
}

TEST(KafkaMockTest, ServesProducersAndConsumersOnLoopback) {
  MockCluster mock({"--brokers", "3", "--topic", "words:6"});
  EXPECT_EQ(mock.bootstrap().rfind("127.0.0.1:", 0), 0u) << mock.bootstrap();
  produce(mock.bootstrap(), "words", 300);
  Consumed got = consumeAll(mock.bootstrap(), "words", 6);
  EXPECT_EQ(got.records, 300);
  ASSERT_EQ(got.partitionsOfKey.size(), 10u);
  for (const auto& [key, parts] : got.partitionsOfKey) EXPECT_EQ(parts.size(), 1u) << key << " in several partitions";
}

TEST(KafkaMockTest, CommandsChangeTheClusterAndEachGetsAReply) {
  MockCluster mock({"--brokers", "2"});
  EXPECT_EQ(mock.command("topic events 4"), "ok topic events 4");
  EXPECT_EQ(mock.command("down 3"), "error down: broker id 3 is not in 1..2");
  EXPECT_EQ(mock.command("topic events 0"), "error topic: partitions must be >= 1 and replication in 1..2");
  mock.process().writeInput("# a comment gets no reply\n");
  EXPECT_EQ(mock.command("up 1"), "ok up 1");
}

TEST(KafkaMockTest, UnknownCommandsAreAnsweredWithTheCommandList) {
  MockCluster mock;
  std::string reply = mock.command("launch rockets");
  EXPECT_NE(reply.find("error: cannot read 'launch rockets'"), std::string::npos) << reply;
  EXPECT_NE(reply.find("topic NAME PARTITIONS"), std::string::npos) << reply;
}

TEST(KafkaMockTest, InjectedProduceErrorsAreRetriedByTheProducer) {
  MockCluster mock({"--topic", "t:1"});
  // 0 = Produce; 6 = NOT_LEADER_OR_FOLLOWER, which an idempotent producer retries.
  EXPECT_EQ(mock.command("errors 0 6 3"), "ok errors 0 6 3");
  produce(mock.bootstrap(), "t", 20);
  EXPECT_EQ(consumeAll(mock.bootstrap(), "t", 1).records, 20);
}

TEST(KafkaMockTest, EndsOnSigtermAndWhenStdinClosesWithExitOnEof) {
  MockCluster a;
  a.process().signal(SIGTERM);
  EXPECT_EQ(a.process().wait(), 0);
  MockCluster b({"--exit-on-eof"});
  b.process().closeInput();
  EXPECT_EQ(b.process().wait(), 0);
}

TEST(KafkaMockTest, BadArgumentsFailNamingTheOption) {
  std::string out, err;
  EXPECT_EQ(run({DSTREAM_KAFKA_MOCK_PATH, "--topic", "orders:0"}, &out, &err), 1);
  EXPECT_NE(err.find("--topic 'orders:0'"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_KAFKA_MOCK_PATH, "--topic", "orders:x"}, &out, &err), 0);
  EXPECT_NE(err.find("NAME:PARTITIONS"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_KAFKA_MOCK_PATH, "--brokers", "0"}, &out, &err), 0);
  EXPECT_NE(err.find("--brokers"), std::string::npos) << err;
}

}  // namespace
}  // namespace dstream::testing
