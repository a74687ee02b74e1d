// writeToKafka against dstream-kafka-mock: every element of every batch lands in the topic
// once, under its key and partition; retried sends are written once; a topic Kafka refuses
// fails the batch naming it; bad settings are refused naming them.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "dstream/testing.h"
#include "kafka/kafka_test_util.h"
#include "testing/batches.h"
#include "testing/errors.h"

namespace dstream {
namespace {

kafka::SinkOptions sinkTo(const std::string& bootstrap, const std::string& topic) {
  kafka::SinkOptions o;
  o.kafkaParams = {{"bootstrap.servers", bootstrap}};
  o.topic = topic;
  o.flushTimeout = Seconds(30);
  return o;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

TEST(KafkaSinkTest, EveryElementIsWrittenOnceUnderItsKey) {
  testing::MockCluster mock({"--topic", "out:4"});
  // 0 = Produce, 6 = NOT_LEADER_OR_FOLLOWER: the idempotent producer retries, writing once.
  EXPECT_EQ(mock.command("errors 0 6 2"), "ok errors 0 6 2");
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 100), 3);
  queue->push(numbers(100, 250), 2);
  kafka::writeToKafka(
      ssc.queueStream(queue), sinkTo(mock.bootstrap(), "out"),
      [](const std::string& s) { return "key-" + std::to_string(std::stoi(s) % 10); },
      [](const std::string& s) { return s; });
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 2));
  ssc.stop();
  testing::Consumed got = testing::consumeAll(mock.bootstrap(), "out", 4);
  EXPECT_EQ(got.records, 250);
  ASSERT_EQ(got.partitionsOfKey.size(), 10u);
  for (const auto& [key, parts] : got.partitionsOfKey) EXPECT_EQ(parts.size(), 1u) << key;
}

TEST(KafkaSinkTest, APartitionFunctionAndNoKeyAreHonoured) {
  testing::MockCluster mock({"--topic", "out:3"});
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 30));
  kafka::writeToKafka(
      ssc.queueStream(queue), sinkTo(mock.bootstrap(), "out"),
      [](const std::string&) { return std::optional<std::string>(); }, [](const std::string& s) { return s; },
      [](const std::string& s) { return std::stoi(s) % 3; });
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 1));
  ssc.stop();
  testing::Consumed got = testing::consumeAll(mock.bootstrap(), "out", 3);
  EXPECT_EQ(got.records, 30);
  ASSERT_EQ(got.partitionsOfKey.size(), 1u);  // one key: none
  EXPECT_EQ(got.partitionsOfKey.begin()->first, "");
  EXPECT_EQ(got.partitionsOfKey.begin()->second, (std::set<int>{0, 1, 2}));
}

TEST(KafkaSinkTest, ATopicKafkaRefusesFailsTheBatchNamingIt) {
  testing::MockCluster mock({"--topic", "out:1"});
  // 0 = Produce; 87 = INVALID_RECORD: not retriable, every send of the batch fails.
  EXPECT_EQ(mock.command("errors 0 87 1000"), "ok errors 0 87 1000");
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 5));
  kafka::writeToKafka(ssc.queueStream(queue), sinkTo(mock.bootstrap(), "out"), [](const std::string& s) { return s; },
                      [](const std::string& s) { return s; });
  ssc.start();
  clock->advance(Seconds(1));
  try {
    ssc.awaitTermination();
    FAIL() << "the batch did not fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("record(s) could not be written to topic out"), std::string::npos) << e.what();
  }
}

TEST(KafkaSinkTest, BadSettingsAreRefusedNamingThem) {
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(std::make_shared<ManualClock>()));
  auto stream = ssc.queueStream(std::make_shared<RDDQueue<std::string>>());
  auto id = [](const std::string& s) { return s; };
  kafka::SinkOptions o;
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); }, "dstream: writeToKafka: SinkOptions.topic is empty");
  o.topic = "t";
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: kafkaParams must set bootstrap.servers");
  o.kafkaParams = {{"bootstrap.servers", "127.0.0.1:1"}, {"acks", "sometimes"}};
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: kafkaParams acks=sometimes: Invalid value for configuration property \"request.required.acks\"");
}

}  // namespace
}  // namespace dstream
