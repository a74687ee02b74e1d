// writeToKafka against dstream-kafka-mock: every element of every batch lands in the topic
// once, under its key and partition; retried sends are written once; a topic Kafka refuses
// fails the batch naming it; bad settings are refused naming them. Exactly-once: one committed
// transaction per batch, a failed batch aborted, a batch committed before a restart skipped,
// the input offsets in the commit. (The crash test is eos_crash_test.cc.)
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
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

kafka::SinkOptions exactlyOnceTo(const std::string& bootstrap, const std::string& topic, const std::string& id) {
  kafka::SinkOptions o = sinkTo(bootstrap, topic);
  o.transactionalId = id;
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

// One batch of 5 records to topic "out" of a mock that refuses every Produce request
// (87 = INVALID_RECORD: not retriable); returns the error the context stopped with.
std::string errorWhenKafkaRefuses(kafka::SinkOptions (*options)(const std::string& bootstrap)) {
  testing::MockCluster mock({"--topic", "out:1"});
  EXPECT_EQ(mock.command("errors 0 87 1000"), "ok errors 0 87 1000");
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 5));
  kafka::writeToKafka(ssc.queueStream(queue), options(mock.bootstrap()), [](const std::string& s) { return s; },
                      [](const std::string& s) { return s; });
  ssc.start();
  clock->advance(Seconds(1));
  try {
    ssc.awaitTermination();
  } catch (const Error& e) {
    EXPECT_TRUE(kafka::readCommittedBatches({{"bootstrap.servers", mock.bootstrap()}}, "out.dstream-commits").empty());
    return e.what();
  }
  ADD_FAILURE() << "the batch did not fail";
  return "";
}

TEST(KafkaSinkTest, ATopicKafkaRefusesFailsTheBatchNamingIt) {
  std::string what = errorWhenKafkaRefuses([](const std::string& bootstrap) { return sinkTo(bootstrap, "out"); });
  EXPECT_NE(what.find("record(s) could not be written to topic out"), std::string::npos) << what;
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

std::multiset<std::string> valuesOf(const std::vector<testing::ReadRecord>& records) {
  std::multiset<std::string> values;
  for (const auto& r : records) values.insert(r.value);
  return values;
}

std::multiset<std::string> asMultiset(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST(KafkaExactlyOnceSinkTest, EachBatchIsOneCommittedTransaction) {
  testing::MockCluster mock({"--topic", "out:3", "--topic", "out.dstream-commits:1"});
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 100), 3);
  queue->push({}, 1);  // an empty batch commits an empty transaction
  queue->push(numbers(100, 250), 2);
  kafka::writeToKafka(
      ssc.queueStream(queue), exactlyOnceTo(mock.bootstrap(), "out", "app-out-0"),
      [](const std::string& s) { return "key-" + std::to_string(std::stoi(s) % 10); }, [](const std::string& s) { return s; });
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 3));
  ssc.stop();

  auto commits = kafka::readCommittedBatches({{"bootstrap.servers", mock.bootstrap()}}, "out.dstream-commits");
  ASSERT_EQ(commits.size(), 3u);
  std::int64_t written = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(commits[i].transactionalId, "app-out-0");
    EXPECT_EQ(commits[i].batchTime, first + Seconds(i));
    EXPECT_TRUE(commits[i].read.empty());
    for (const auto& r : commits[i].written) written += r.count();
  }
  EXPECT_TRUE(commits[1].written.empty());
  EXPECT_EQ(written, 250);
  auto committed = testing::readCommittedOutput(mock.bootstrap(), "out", 3, "out.dstream-commits");
  EXPECT_EQ(valuesOf(committed), asMultiset(numbers(0, 250)));
  EXPECT_EQ(testing::readTopic(mock.bootstrap(), "out", 3).size(), 250u);  // nothing else was written
}

TEST(KafkaExactlyOnceSinkTest, AFailingBatchIsAbortedAndNotCommitted) {
  testing::MockCluster mock({"--topic", "out:2"});
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push(numbers(0, 10));
  queue->push(numbers(10, 60), 2);  // a worker fails at "55", after others were sent
  kafka::writeToKafka(ssc.queueStream(queue), exactlyOnceTo(mock.bootstrap(), "out", "failing"),
                      [](const std::string& s) { return s; },
                      [](const std::string& s) {
                        if (s == "55") throw std::runtime_error("no value for 55");
                        return s;
                      });
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  clock->setTime(first + Seconds(1));
  try {
    ssc.awaitTermination();
    FAIL() << "the batch did not fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no value for 55"), std::string::npos) << e.what();
  }
  auto commits = kafka::readCommittedBatches({{"bootstrap.servers", mock.bootstrap()}}, "out.dstream-commits");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].batchTime, first);
  EXPECT_EQ(valuesOf(testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits")),
            asMultiset(numbers(0, 10)));
}

TEST(KafkaExactlyOnceSinkTest, ARecordKafkaRefusesAbortsTheBatchNamingTopicAndCause) {
  std::string what = errorWhenKafkaRefuses([](const std::string& bootstrap) { return exactlyOnceTo(bootstrap, "out", "refused"); });
  EXPECT_NE(what.find("writeToKafka: topic out: batch 101000 ms not written (transaction aborted): "), std::string::npos) << what;
  EXPECT_NE(what.find("could not be written to topic out"), std::string::npos) << what;
}

// EndTxn (API 26) errors: 51 = CONCURRENT_TRANSACTIONS is retriable and retried; 47 =
// INVALID_PRODUCER_EPOCH (fenced) is not, and fails the batch naming the commit and the cause.
TEST(KafkaExactlyOnceSinkTest, ACommitErrorIsRetriedOrFailsTheBatchNamingIt) {
  for (const char* error : {"51", "47"}) {
    SCOPED_TRACE(error);
    testing::MockCluster mock({"--topic", "out:1"});
    auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
    StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
    auto queue = std::make_shared<RDDQueue<std::string>>();
    queue->push(numbers(0, 5));
    kafka::writeToKafka(ssc.queueStream(queue), exactlyOnceTo(mock.bootstrap(), "out", "commit-error"),
                        [](const std::string& s) { return s; }, [](const std::string& s) { return s; });
    EXPECT_EQ(mock.command(std::string("errors 26 ") + error + " 1"), std::string("ok errors 26 ") + error + " 1");
    ssc.start();
    if (std::string(error) == "51") {
      ASSERT_TRUE(testing::runBatches(ssc, *clock, 1));
      ssc.stop();
      EXPECT_EQ(valuesOf(testing::readCommittedOutput(mock.bootstrap(), "out", 1, "out.dstream-commits")),
                asMultiset(numbers(0, 5)));
      continue;
    }
    clock->advance(Seconds(1));
    try {
      ssc.awaitTermination();
      ADD_FAILURE() << "the batch did not fail";
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("writeToKafka: topic out: batch 101000 ms not written (transaction aborted): commit: "), std::string::npos)
          << what;
    }
  }
}

TEST(KafkaExactlyOnceSinkTest, ABatchCommittedBeforeARestartIsNotWrittenAgain) {
  testing::MockCluster mock({"--topic", "out:2"});
  auto run = [&](std::vector<std::vector<std::string>> batches) {
    auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
    StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
    auto queue = std::make_shared<RDDQueue<std::string>>();
    for (auto& b : batches) queue->push(std::move(b));
    kafka::writeToKafka(ssc.queueStream(queue), exactlyOnceTo(mock.bootstrap(), "out", "restarted"),
                        [](const std::string& s) { return s; }, [](const std::string& s) { return s; });
    ssc.start();
    ASSERT_TRUE(testing::runBatches(ssc, *clock, static_cast<int>(batches.size())));
    ssc.stop();
  };
  run({numbers(0, 10), numbers(10, 20)});
  // The same program instance again, its first two batches re-run (with other values, to
  // tell them apart): they committed before, so only the third is written.
  run({numbers(100, 110), numbers(110, 120), numbers(20, 30)});
  EXPECT_EQ(valuesOf(testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits")),
            asMultiset(numbers(0, 30)));
  EXPECT_EQ(testing::readTopic(mock.bootstrap(), "out", 2).size(), 30u);
}

TEST(KafkaExactlyOnceSinkTest, TheInputOffsetsAreCommittedWithTheBatch) {
  testing::MockCluster mock({"--topic", "in:2", "--topic", "out:2"});
  testing::produce(mock.bootstrap(), "in", 40);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  kafka::DirectStreamOptions in;
  in.kafkaParams = {{"bootstrap.servers", mock.bootstrap()}, {"auto.offset.reset", "earliest"}};
  in.topics = {"in"};
  in.pollTimeout = Seconds(30);
  auto records = kafka::createDirectStream(ssc, in);
  auto o = exactlyOnceTo(mock.bootstrap(), "out", "app-in");
  o.offsetsOf = records;
  o.consumerGroupId = "app";
  std::map<long, std::vector<kafka::OffsetRange>> ranges;
  records.foreachRDD([&](const RDD<kafka::ConsumerRecord>&, Time t) { ranges[toMillis(t)] = kafka::offsetRanges(records, t); });
  DStream<std::string> values = records.map([](const kafka::ConsumerRecord& r) { return std::string(r.value); });
  kafka::writeToKafka(values, o, [](const std::string&) { return std::optional<std::string>(); },
                      [](const std::string& s) { return s; });
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  testing::produce(mock.bootstrap(), "in", 20, "value-", 40);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(1)));
  ssc.stop();
  auto commits = kafka::readCommittedBatches({{"bootstrap.servers", mock.bootstrap()}}, "out.dstream-commits");
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].read, ranges.at(toMillis(first)));
  EXPECT_EQ(commits[1].read, ranges.at(toMillis(first + Seconds(1))));
  EXPECT_EQ(testing::readCommittedOutput(mock.bootstrap(), "out", 2, "out.dstream-commits").size(), 60u);
}

TEST(KafkaExactlyOnceSinkTest, BadSettingsAreRefusedNamingThem) {
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(std::make_shared<ManualClock>()));
  auto stream = ssc.queueStream(std::make_shared<RDDQueue<std::string>>());
  auto id = [](const std::string& s) { return s; };
  kafka::SinkOptions o = sinkTo("127.0.0.1:1", "t");
  o.kafkaParams["transactional.id"] = "x";
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: set SinkOptions.transactionalId instead of kafkaParams transactional.id "
                         "(each batch is then one transaction)");
  o.kafkaParams.erase("transactional.id");
  o.consumerGroupId = "app";
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: SinkOptions offsetsOf, consumerGroupId and commitTopic need transactionalId (exactly-once)");
  o.transactionalId = "app-t-0";
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: SinkOptions.consumerGroupId needs offsetsOf, the direct stream whose offsets to commit");
  o.consumerGroupId.clear();
  o.offsetsOf = ssc.queueStream(std::make_shared<RDDQueue<kafka::ConsumerRecord>>());
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: SinkOptions.offsetsOf is not a Kafka direct stream (give what createDirectStream returned)");
  kafka::DirectStreamOptions in;
  in.kafkaParams = {{"bootstrap.servers", "127.0.0.1:1"}};
  in.topics = {"in"};
  o.offsetsOf = kafka::createDirectStream(ssc, in);
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: SinkOptions.offsetsOf needs consumerGroupId, the group to commit them for");
  o.offsetsOf.reset();
  o.kafkaParams["transaction.timeout.ms"] = "soon";
  testing::expectInvalid([&] { kafka::writeToKafka(stream, o, id, id); },
                         "dstream: writeToKafka: kafkaParams transaction.timeout.ms=soon: Invalid value for configuration property \"transaction.timeout.ms\"");
  o.kafkaParams["transaction.timeout.ms"] = "60000";
  o.kafkaParams["enable.idempotence"] = "false";
  try {
    kafka::writeToKafka(stream, o, id, id);
    FAIL() << "a transactional producer without idempotence was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("writeToKafka: cannot create a Kafka producer: "), std::string::npos) << e.what();
  }
  testing::expectInvalid([&] { kafka::readCommittedBatches({}, "c"); },
                         "dstream: readCommittedBatches: kafkaParams must set bootstrap.servers");
}

}  // namespace
}  // namespace dstream
