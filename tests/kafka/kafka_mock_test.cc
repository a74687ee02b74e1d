// dstream-kafka-mock: the cluster it prints serves librdkafka producers and consumers on
// 127.0.0.1, its commands on stdin change the cluster, and bad arguments fail naming the option.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kafka/kafka_test_util.h"
#include "testing/child_process.h"
#include "testing/wait.h"

namespace dstream::testing {
namespace {

using namespace std::chrono_literals;

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
