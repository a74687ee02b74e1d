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

#include "dstream/detail/thread_pool.h"
#include "dstream/export.h"
#include "dstream/rdd.h"
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

// Where writeToKafka writes, and how.
struct SinkOptions {
  // Kafka producer properties, passed to librdkafka as they are (bootstrap.servers required).
  // enable.idempotence defaults to true: a retried send is written once, in order.
  std::map<std::string, std::string> kafkaParams;
  std::string topic;
  // How long a batch waits for every record of it to be acknowledged before it fails.
  Duration flushTimeout = Seconds(60);
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

// One producer shared by a sink's batches; send() may be called from several threads.
class DSTREAM_EXPORT KafkaWriter {
 public:
  // Throws Error(kInvalidArgument) for a missing topic or bootstrap.servers, or a property
  // librdkafka rejects (named).
  explicit KafkaWriter(SinkOptions options);
  ~KafkaWriter();
  KafkaWriter(const KafkaWriter&) = delete;
  KafkaWriter& operator=(const KafkaWriter&) = delete;
  // Queues one record; partition -1 lets the producer's partitioner choose from the key.
  void send(std::string_view key, bool hasKey, std::string_view value, std::int32_t partition);
  // Waits until everything sent is acknowledged; throws Error(kUnavailable) naming the topic,
  // the first delivery error and how many records failed, or the timeout.
  void flush();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
}  // namespace detail

// Writes every element of every batch of `stream` to a topic: keyOf(x) and valueOf(x) give
// the record's key and value (anything convertible to std::string_view; a key of
// std::nullopt writes no key), partitionOf(x), if given, the partition (else the producer's
// partitioner places records by key). Sent from the workers in parallel with one idempotent
// producer; a batch completes only once Kafka has acknowledged all of its records, and fails,
// naming the topic and the error, if it cannot. At-least-once, as Spark's: a batch re-run
// after a crash writes its records again.
template <class T, class KeyF, class ValueF>
void writeToKafka(const DStream<T>& stream, SinkOptions options, KeyF keyOf, ValueF valueOf) {
  writeToKafka(stream, std::move(options), std::move(keyOf), std::move(valueOf), [](const T&) { return std::int32_t{-1}; });
}
template <class T, class KeyF, class ValueF, class PartitionF>
void writeToKafka(const DStream<T>& stream, SinkOptions options, KeyF keyOf, ValueF valueOf, PartitionF partitionOf) {
  auto writer = std::make_shared<detail::KafkaWriter>(std::move(options));
  stream.foreachRDD(
      [writer, keyOf, valueOf, partitionOf](const RDD<T>& rdd) {
        dstream::detail::forEachIndex(rdd.pool().get(), rdd.partitions().size(), [&](std::size_t i) {
          for (const T& x : *rdd.partitions()[i]) {
            auto key = keyOf(x);
            std::int32_t partition = static_cast<std::int32_t>(partitionOf(x));
            if constexpr (requires { key.has_value(); }) {
              writer->send(key ? std::string_view(*key) : std::string_view(), key.has_value(), std::string_view(valueOf(x)), partition);
            } else {
              writer->send(std::string_view(key), true, std::string_view(valueOf(x)), partition);
            }
          }
        });
        writer->flush();
      },
      "writeToKafka");
}

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
