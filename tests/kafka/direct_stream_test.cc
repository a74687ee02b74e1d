// Kafka's direct stream against dstream-kafka-mock: each batch reads a fixed offset range per
// partition, the ranges are what offsetRanges() reports and what a restart re-reads, rates cap
// the ranges, and bad settings or an unreachable cluster fail with messages that name them.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "dstream/testing.h"
#include "kafka/kafka_test_util.h"
#include "testing/batches.h"
#include "testing/errors.h"
#include "testing/files.h"

namespace dstream {
namespace {

using kafka::ConsumerRecord;
using kafka::OffsetRange;

// What the batches saw: values per batch and the ranges offsetRanges() gave inside foreachRDD.
struct Seen {
  std::mutex mu;
  std::map<long, std::vector<std::string>> values;
  std::map<long, std::vector<OffsetRange>> ranges;
  std::vector<std::string> headers;

  std::vector<std::string> all() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [t, v] : values) out.insert(out.end(), v.begin(), v.end());
    return out;
  }
};

void collect(const DStream<ConsumerRecord>& records, Seen& seen) {
  records.foreachRDD([&seen, records](const RDD<ConsumerRecord>& rdd, Time t) {
    std::vector<std::string> values;
    std::vector<std::string> headers;
    for (const auto& r : rdd.collect()) {
      values.emplace_back(r.value);
      for (const auto& [k, v] : r.headers) headers.push_back(std::string(k) + "=" + std::string(v));
    }
    auto ranges = kafka::offsetRanges(records, t);
    std::lock_guard lock(seen.mu);
    seen.values[toMillis(t)] = std::move(values);
    seen.ranges[toMillis(t)] = std::move(ranges);
    seen.headers.insert(seen.headers.end(), headers.begin(), headers.end());
  });
}

kafka::DirectStreamOptions subscribe(const std::string& bootstrap, std::vector<std::string> topics,
                                     std::string reset = "earliest") {
  kafka::DirectStreamOptions o;
  o.kafkaParams = {{"bootstrap.servers", bootstrap}, {"auto.offset.reset", reset}};
  o.topics = std::move(topics);
  o.pollTimeout = Seconds(30);
  return o;
}

std::int64_t total(const std::vector<OffsetRange>& ranges) {
  std::int64_t n = 0;
  for (const auto& r : ranges) n += r.count();
  return n;
}

TEST(DirectStreamTest, EachBatchReadsItsOffsetRangesOnce) {
  testing::MockCluster mock({"--topic", "words:3"});
  testing::produce(mock.bootstrap(), "words", 90);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  Seen seen;
  collect(kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"words"})), seen);
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  testing::produce(mock.bootstrap(), "words", 30, "value-", 90);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(1)));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(2)));
  ssc.stop();

  std::lock_guard lock(seen.mu);
  const auto& r1 = seen.ranges.at(toMillis(first));
  const auto& r2 = seen.ranges.at(toMillis(first + Seconds(1)));
  const auto& r3 = seen.ranges.at(toMillis(first + Seconds(2)));
  ASSERT_EQ(r1.size(), 3u);
  EXPECT_EQ(total(r1), 90);
  EXPECT_EQ(total(r2), 30);
  EXPECT_EQ(total(r3), 0);
  for (std::size_t p = 0; p < 3; ++p) {
    EXPECT_EQ(r1[p].fromOffset, 0) << p;
    EXPECT_EQ(r2[p].fromOffset, r1[p].untilOffset) << p;  // the next batch goes on where this one ended
    EXPECT_EQ(r3[p].fromOffset, r2[p].untilOffset) << p;
  }
  EXPECT_EQ(seen.values.at(toMillis(first)).size(), 90u);
  EXPECT_EQ(seen.values.at(toMillis(first + Seconds(1))).size(), 30u);
  std::set<std::string> distinct;
  for (auto& [t, v] : seen.values) distinct.insert(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), 120u);
  ASSERT_EQ(seen.headers.size(), 120u);
  EXPECT_EQ(seen.headers.front(), "source=test");
}

TEST(DirectStreamTest, LatestSkipsWhatWasThereAtStartAndKeysKeepTheirPartition) {
  testing::MockCluster mock({"--topic", "t:2"});
  testing::produce(mock.bootstrap(), "t", 20, "old-");
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  std::mutex mu;
  std::map<std::string, std::set<int>> partitionsOfKey;
  auto records = kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"t"}, "latest"));
  Seen seen;
  collect(records, seen);
  records.foreachRDD([&](const RDD<ConsumerRecord>& rdd) {
    std::lock_guard lock(mu);
    for (const auto& r : rdd.collect()) {
      EXPECT_EQ(r.topic, "t");
      EXPECT_TRUE(r.hasKey);
      EXPECT_GT(r.timestamp, 0);
      partitionsOfKey[std::string(r.key)].insert(r.partition);
    }
  });
  ssc.start();
  testing::produce(mock.bootstrap(), "t", 10, "new-");
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 1));
  ssc.stop();
  auto all = seen.all();
  ASSERT_EQ(all.size(), 10u);
  for (const auto& v : all) EXPECT_EQ(v.rfind("new-", 0), 0u) << v;
  for (const auto& [key, parts] : partitionsOfKey) EXPECT_EQ(parts.size(), 1u) << key;
}

TEST(DirectStreamTest, MaxRatePerPartitionCapsEachRangeAndTheRestFollowsInOrder) {
  testing::MockCluster mock({"--topic", "t:2"});
  testing::produce(mock.bootstrap(), "t", 20, "v", 0, 0);  // all in partition 0
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(2), testing::onManualClock(clock));
  auto o = subscribe(mock.bootstrap(), {"t"});
  o.maxRatePerPartition = 3;  // 6 per 2 s batch
  Seen seen;
  collect(kafka::createDirectStream(ssc, o), seen);
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 4));
  ssc.stop();
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(std::string("v").append(std::to_string(i)));  // not "v" + ...: GCC 12's false -Wrestrict
  EXPECT_EQ(seen.all(), expected);  // one partition: offset order
  std::lock_guard lock(seen.mu);
  std::vector<std::int64_t> counts;
  for (auto& [t, r] : seen.ranges) counts.push_back(total(r));
  EXPECT_EQ(counts, (std::vector<std::int64_t>{6, 6, 6, 2}));
}

TEST(DirectStreamTest, AssignReadsTheGivenPartitionsFromTheirOffsets) {
  testing::MockCluster mock({"--topic", "t:2"});
  testing::produce(mock.bootstrap(), "t", 10, "p0-", 0, 0);
  testing::produce(mock.bootstrap(), "t", 10, "p1-", 0, 1);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  kafka::DirectStreamOptions o;
  o.kafkaParams = {{"bootstrap.servers", mock.bootstrap()}};
  o.fromOffsets = {{{"t", 1}, 7}};
  Seen seen;
  collect(kafka::createDirectStream(ssc, o), seen);
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 1));
  ssc.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"p1-7", "p1-8", "p1-9"}));
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.ranges.begin()->second, (std::vector<OffsetRange>{{"t", 1, 7, 10}}));
}

// The mock creates a topic on the first metadata request for it, as a broker with
// auto.create.topics.enable does (and it cannot add partitions to a topic: the path for
// partitions added later is the same discovery, checked here on a topic that appears).
TEST(DirectStreamTest, ATopicThatAppearsWhileRunningIsReadFromItsBeginning) {
  testing::MockCluster mock;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  Seen seen;
  collect(kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"later"}, "latest")), seen);
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  testing::produce(mock.bootstrap(), "later", 8);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(1)));
  ssc.stop();
  EXPECT_EQ(seen.all().size(), 8u);
}

TEST(DirectStreamTest, ARestartReadsOnFromTheCheckpointedRangesWithoutLossOrRepeat) {
  testing::MockCluster mock({"--topic", "t:3"});
  testing::TempDir root;
  std::string ckpt = (root.path() / "ckpt").string();
  Seen seen;  // across both lives
  auto build = [&](std::shared_ptr<ManualClock> clock) {
    auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1), testing::onManualClock(clock));
    ctx->checkpoint(ckpt);
    collect(kafka::createDirectStream(*ctx, subscribe(mock.bootstrap(), {"t"}, "latest")), seen);
    return ctx;
  };
  {
    auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
    auto ctx = StreamingContext::getOrCreate(ckpt, [&] { return build(clock); });
    ASSERT_FALSE(ctx->isRecovering());
    ctx->start();
    testing::produce(mock.bootstrap(), "t", 30, "a");
    ASSERT_TRUE(testing::runBatches(*ctx, *clock, 2));
    ctx->stop();
  }
  testing::produce(mock.bootstrap(), "t", 40, "b");  // written while the program is down
  auto clock = std::make_shared<ManualClock>(timeFromMillis(103'000));
  auto ctx = StreamingContext::getOrCreate(ckpt, [&] { return build(clock); });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  ASSERT_TRUE(testing::awaitBatchCompleted(*ctx, timeFromMillis(103'000), testing::kWaitTimeout));
  ctx->stop();
  // "latest" applies to a fresh start only: the restart goes on from the checkpoint's ranges.
  std::multiset<std::string> values;
  for (const auto& v : seen.all()) values.insert(v);
  EXPECT_EQ(values.size(), 70u);
  EXPECT_EQ(std::set<std::string>(values.begin(), values.end()).size(), 70u) << "a record was read twice";
}

TEST(DirectStreamTest, BadSettingsAreRefusedNamingThem) {
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(std::make_shared<ManualClock>()));
  kafka::DirectStreamOptions o;
  o.topics = {"t"};
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: kafkaParams must set bootstrap.servers");
  o.kafkaParams = {{"bootstrap.servers", "127.0.0.1:1"}};
  o.fromOffsets = {{{"t", 0}, 0}};
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: give one of topics (subscribe), topicPattern (subscribe by pattern) or "
                         "fromOffsets (assign), not several");
  o.fromOffsets.clear();
  o.topics.clear();
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: give one of topics (subscribe), topicPattern (subscribe by pattern) or "
                         "fromOffsets (assign), not none");
  o.topicPattern = "meetups-(";
  testing::expectErrorContaining([&] { kafka::createDirectStream(ssc, o); }, ErrorCode::kInvalidArgument,
                                 "createDirectStream: topicPattern 'meetups-(' is not a regular expression: ");
  o.topicPattern.clear();
  o.topics = {"t"};
  o.fromOffsets.clear();
  o.kafkaParams["no.such.property"] = "1";
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: kafkaParams no.such.property=1: No such configuration property: \"no.such.property\"");
  o.kafkaParams.erase("no.such.property");
  o.kafkaParams["auto.offset.reset"] = "sometimes";
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: auto.offset.reset 'sometimes' is not one of latest, earliest");
  o.kafkaParams.erase("auto.offset.reset");
  o.maxRatePerPartition = -1;
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: maxRatePerPartition must be >= 0 (0 = no limit)");
  o.maxRatePerPartition = 0;
  o.topics.clear();
  o.fromOffsets = {{{"t", 0}, -5}};
  testing::expectInvalid([&] { kafka::createDirectStream(ssc, o); },
                         "dstream: createDirectStream: fromOffsets has t-0 at offset -5; partitions and offsets must be >= 0");
  auto lines = ssc.queueStream(std::make_shared<RDDQueue<ConsumerRecord>>());
  testing::expectInvalid([&] { kafka::offsetRanges(lines, Time{}); },
                         "dstream: offsetRanges: the stream is not a Kafka direct stream (call it on what createDirectStream returned)");
}

TEST(DirectStreamTest, AnUnreachableClusterStopsTheContextNamingTheTopic) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  // A port nobody listens on: metadata requests time out (timeout shortened by pollTimeout).
  auto o = subscribe("127.0.0.1:1", {"t"});
  o.pollTimeout = Seconds(2);
  kafka::createDirectStream(ssc, o).foreachRDD([](const RDD<ConsumerRecord>&) {});
  try {
    ssc.start();
    clock->advance(Seconds(1));
    ssc.awaitTermination();
    FAIL() << "the context did not stop";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read the partitions of topic t from 127.0.0.1:1"), std::string::npos)
        << e.what();
  }
}

TEST(DirectStreamTest, APatternSubscribesToEveryMatchingTopic) {
  testing::MockCluster mock({"--topic", "meetups-a:1", "--topic", "meetups-b:2", "--topic", "other:1"});
  testing::produce(mock.bootstrap(), "meetups-a", 10, "a-");
  testing::produce(mock.bootstrap(), "meetups-b", 20, "b-");
  testing::produce(mock.bootstrap(), "other", 5, "other-");
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), testing::onManualClock(clock));
  kafka::DirectStreamOptions o = subscribe(mock.bootstrap(), {});
  o.topicPattern = "meetups-.*";
  Seen seen;
  auto records = kafka::createDirectStream(ssc, o);
  collect(records, seen);
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  ssc.stop();
  auto values = seen.all();
  EXPECT_EQ(values.size(), 30u);
  for (const auto& v : values) EXPECT_TRUE(v.starts_with("a-") || v.starts_with("b-")) << v;
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.ranges.at(toMillis(first)).size(), 3u) << "meetups-a's partition and meetups-b's two";
}

TEST(DirectStreamTest, CommitAsyncCommitsTheRangesForTheGroupAtTheNextBatch) {
  testing::MockCluster mock({"--topic", "words:2"});
  testing::produce(mock.bootstrap(), "words", 40);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  kafka::DirectStreamOptions o = subscribe(mock.bootstrap(), {"words"});
  o.kafkaParams["group.id"] = "lag-monitor";
  auto records = kafka::createDirectStream(ssc, o);
  std::mutex mu;
  std::vector<OffsetRange> firstRanges;
  records.foreachRDD([&](const RDD<ConsumerRecord>&, Time t) {
    auto ranges = kafka::offsetRanges(records, t);
    std::lock_guard lock(mu);
    if (firstRanges.empty()) firstRanges = ranges;
    kafka::commitAsync(records, std::move(ranges));  // after the batch's output, as in Spark
  });
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(1)));  // commits the first batch's
  ssc.stop();

  testing::KafkaPtr reader = testing::kafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", mock.bootstrap()}, {"group.id", "lag-monitor"}});
  testing::Deadline deadline(testing::kWaitTimeout);
  std::map<int, std::int64_t> committed;
  while (committed.size() < 2 && !deadline.passed()) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(list, "words", 0);
    rd_kafka_topic_partition_list_add(list, "words", 1);
    committed.clear();
    if (rd_kafka_committed(reader.get(), list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < list->cnt; ++i) {
        if (list->elems[i].offset >= 0) committed[list->elems[i].partition] = list->elems[i].offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(firstRanges.size(), 2u);
  for (const auto& r : firstRanges) EXPECT_EQ(committed[r.partition], r.untilOffset) << "partition " << r.partition;
  StreamingContext other("local[1]", Seconds(1), testing::onManualClock(clock));
  auto withoutGroup = kafka::createDirectStream(other, subscribe(mock.bootstrap(), {"words"}));
  testing::expectInvalid([&] { kafka::commitAsync(withoutGroup, {}); },
                         "dstream: commitAsync: the stream's kafkaParams have no group.id to commit for");
}

TEST(DirectStreamTest, InjectedFetchErrorsAreRetriedAndTheStreamGoesOn) {
  testing::MockCluster mock({"--topic", "words:1"});
  testing::produce(mock.bootstrap(), "words", 25);
  // The next 3 Fetch requests (API key 1) fail with NOT_LEADER_FOR_PARTITION (6), retriable.
  EXPECT_NE(mock.command("errors 1 6 3").find("ok"), std::string::npos);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  Seen seen;
  collect(kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"words"})), seen);
  ssc.start();
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, testing::firstBatchTime(ssc)));
  ssc.stop();
  EXPECT_EQ(seen.all().size(), 25u);
}

TEST(DirectStreamTest, APersistentTopicErrorStopsTheContextNamingTheTopic) {
  testing::MockCluster mock({"--topic", "words:1"});
  // TOPIC_AUTHORIZATION_FAILED (29) on every metadata request for the topic.
  EXPECT_NE(mock.command("topic-error words 29").find("ok"), std::string::npos);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[1]", Seconds(1), testing::onManualClock(clock));
  Seen seen;
  collect(kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"words"})), seen);
  Error e = testing::errorOf([&] {
    ssc.start();
    testing::runBatchAt(ssc, *clock, testing::firstBatchTime(ssc));
    ssc.awaitTermination();
  });
  EXPECT_NE(std::string(e.what()).find("topic words"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("uthoriz"), std::string::npos) << e.what();
}

TEST(DirectStreamTest, BackpressureSharesTheRateOutByLagStartingFromInitialRate) {
  testing::MockCluster mock({"--topic", "words:2"});
  testing::produce(mock.bootstrap(), "words", 150, "a-", 0, 0);
  testing::produce(mock.bootstrap(), "words", 50, "b-", 0, 1);
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  ContextOptions options = testing::onManualClock(clock);
  options.backpressure.enabled = true;
  options.backpressure.initialRate = 20;  // records/s for the whole stream before an estimate
  StreamingContext ssc("local[1]", Seconds(1), options);
  Seen seen;
  collect(kafka::createDirectStream(ssc, subscribe(mock.bootstrap(), {"words"})), seen);
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(1)));
  ssc.stop();
  std::lock_guard lock(seen.mu);
  // On a manual clock batches take no time, so no estimate replaces initialRate: 20 records a
  // batch, shared 3:1 as the partitions' lags are (150 and 50, then 135 and 45).
  for (Time t : {first, first + Seconds(1)}) {
    const auto& ranges = seen.ranges.at(toMillis(t));
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(ranges[0].count(), 15) << "partition 0";
    EXPECT_EQ(ranges[1].count(), 5) << "partition 1";
  }
}

}  // namespace
}  // namespace dstream
