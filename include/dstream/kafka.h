// Kafka's direct stream (Spark's KafkaUtils.createDirectStream, spark-streaming-kafka-0-10),
// on Debian's librdkafka. Link dstream::kafka. doc/kafka.md tells the whole story.
//
//   dstream::kafka::DirectStreamOptions o;
//   o.kafkaParams = {{"bootstrap.servers", "127.0.0.1:9092"}, {"auto.offset.reset", "earliest"}};
//   o.topics = {"meetups"};
//   auto records = dstream::kafka::createDirectStream(ssc, o);
//   records.map([](const dstream::kafka::ConsumerRecord& r) { return r.value; }).count().pprint();
//   records.foreachRDD([&](const auto&, dstream::Time t) {
//     for (const auto& range : dstream::kafka::offsetRanges(records, t)) ...  // HasOffsetRanges
//   });
//
// Each batch reads a fixed range of offsets [fromOffset, untilOffset) per partition, decided
// when the batch runs: untilOffset is the partition's end then, at most maxRatePerPartition
// records per second of batch later. The ranges are part of the checkpoint, so after a crash
// and getOrCreate a re-run batch reads exactly the records it read before: windows and state
// count every record once. Offsets are never committed to Kafka by the stream itself.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "dstream/export.h"
#include "dstream/stream.h"
#include "dstream/streaming_context.h"
#include "dstream/time.h"

namespace dstream::kafka {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// The offsets one batch read from one partition (Spark's OffsetRange): [fromOffset, untilOffset).
struct OffsetRange {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t fromOffset = 0;
  std::int64_t untilOffset = 0;
  std::int64_t count() const { return untilOffset - fromOffset; }
  friend bool operator==(const OffsetRange&, const OffsetRange&) = default;
};

// One record. The views point into the batch's memory: they stay valid as long as the batch's
// RDD (or anything derived from it) is alive; copy them into std::string to keep them longer.
struct ConsumerRecord {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp = -1;  // ms since the epoch; -1 when the record has none
  std::string_view key;         // empty when the record has no key (hasKey false)
  std::string_view value;
  bool hasKey = false;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

struct DirectStreamOptions {
  // Kafka consumer properties, passed to librdkafka as they are (bootstrap.servers required).
  // auto.offset.reset ("latest", the default, or "earliest") says where partitions known at
  // start() begin; partitions that appear later are read from their beginning, so nothing
  // written to a new partition is skipped. enable.auto.commit is always false.
  std::map<std::string, std::string> kafkaParams;
  // Subscribe: every partition of these topics, including partitions added while running.
  std::vector<std::string> topics;
  // Assign: these partitions only, each from its offset (instead of topics).
  std::map<TopicPartition, std::int64_t> fromOffsets;
  // spark.streaming.kafka.maxRatePerPartition: records per second per partition; 0 = no limit.
  std::int64_t maxRatePerPartition = 0;
  // spark.streaming.kafka.consumer.poll.ms: how long a batch waits for the records of its
  // ranges before it fails, naming the partition and the offsets missing.
  Duration pollTimeout = Seconds(120);
};

namespace detail {
// What offsetRanges() asks the stream's node.
class OffsetRangeSource {
 public:
  virtual ~OffsetRangeSource() = default;
  virtual std::vector<OffsetRange> offsetRangesOf(Time t) const = 0;
};
DSTREAM_EXPORT std::shared_ptr<dstream::detail::TypedNode<ConsumerRecord>> addDirectStreamNode(
    dstream::detail::Graph& graph, DirectStreamOptions options);
}  // namespace detail

// Throws Error(kInvalidArgument) for missing bootstrap.servers, neither or both of topics and
// fromOffsets, negative offsets or rates, or a property librdkafka rejects (named).
inline DStream<ConsumerRecord> createDirectStream(StreamingContext& ssc, DirectStreamOptions options) {
  ssc.graph()->checkCanDefine("createDirectStream");
  return DStream<ConsumerRecord>(ssc.graph(), detail::addDirectStreamNode(*ssc.graph(), std::move(options)));
}

// Spark's HasOffsetRanges: the ranges batch `t` of `stream` read, one per partition, while the
// batch is remembered (inside foreachRDD of that batch, for instance); empty otherwise.
// Throws Error(kInvalidArgument) if `stream` is not a direct stream.
DSTREAM_EXPORT std::vector<OffsetRange> offsetRanges(const DStream<ConsumerRecord>& stream, Time t);

}  // namespace dstream::kafka
