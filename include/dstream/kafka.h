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
//
// writeToKafka writes a stream to a topic: at-least-once with the idempotent producer, or,
// with SinkOptions.transactionalId, exactly-once for read_committed readers (a transaction
// per batch; batches that committed before a crash are not written again).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "dstream/detail/thread_pool.h"
#include "dstream/export.h"
#include "dstream/log.h"
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
  // Subscribe by pattern (Spark's SubscribePattern): every partition of every topic whose
  // whole name matches this POSIX extended regular expression (egrep's), including topics
  // created while running; internal topics (names starting "__") never match. Instead of
  // topics.
  std::string topicPattern;
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
  // enable.idempotence defaults to true: a retried send is written once, in order. Set
  // transactionalId below rather than transactional.id here.
  std::map<std::string, std::string> kafkaParams;
  std::string topic;
  // How long a batch waits for every record of it to be acknowledged before it fails.
  Duration flushTimeout = Seconds(60);

  // Exactly-once (empty: at-least-once). Each batch is one Kafka transaction, and a batch
  // re-run after a crash whose transaction had committed is not written again. The id must
  // be stable across restarts of the same program instance and unique among running ones
  // (e.g. "<app>-<topic>-<partition>"): a restarted sink with the id fences the dead one and
  // aborts the transaction it left open.
  std::string transactionalId;
  // Exactly-once only: a topic where each committed transaction also writes one small commit
  // record (key: transactionalId; see CommittedBatch). A restarted sink reads it to tell which
  // batches committed. Partition 0 is used; compact it (cleanup.policy=compact) on a real
  // cluster. Empty: "<topic>.dstream-commits".
  std::string commitTopic;
  // Exactly-once only: the direct stream the written stream derives from. At commit, the
  // ranges it read for the batch (offsetRanges) are committed in the same transaction as
  // consumerGroupId's offsets (their untilOffsets), and recorded in the commit record.
  std::optional<DStream<ConsumerRecord>> offsetsOf;
  std::string consumerGroupId;  // required with offsetsOf
};

// The commit record of one committed transaction of an exactly-once sink.
struct CommittedBatch {
  std::string transactionalId;
  Time batchTime;
  // Per output partition, the offsets of the batch's first record and one past its last
  // (other producers' records may lie between). A read_committed reader sees exactly these.
  std::vector<OffsetRange> written;
  // The input ranges the batch read (SinkOptions.offsetsOf); empty without it.
  std::vector<OffsetRange> read;
};

// The commit records of `commitTopic` a read_committed reader sees, oldest first: what each
// committed transaction wrote and read. `kafkaParams` gives the cluster (bootstrap.servers and
// the security settings are used). Throws Error(kInvalidArgument) for bad settings,
// Error(kUnavailable) naming the topic when it cannot be read within `timeout`.
DSTREAM_EXPORT std::vector<CommittedBatch> readCommittedBatches(const std::map<std::string, std::string>& kafkaParams,
                                                                const std::string& commitTopic,
                                                                Duration timeout = Seconds(60));

// Where a program whose exactly-once sink commits its input offsets (SinkOptions.offsetsOf)
// starts reading when it has no checkpoint yet: per input partition, the end of what the
// batches `transactionalId` committed read; empty if none did. Give it to
// DirectStreamOptions.fromOffsets (a checkpoint, when there is one, takes precedence; every
// run that ran a batch has one, its start checkpoint at least): a program whose checkpoint
// directory is new while its output has commits (lost, moved) then writes nothing twice. The
// state it kept is not recovered that way. Throws as readCommittedBatches.
DSTREAM_EXPORT std::map<TopicPartition, std::int64_t> committedInputOffsets(
    const std::map<std::string, std::string>& kafkaParams, const std::string& commitTopic,
    const std::string& transactionalId, Duration timeout = Seconds(60));

namespace detail {
// Where an exactly-once sink's commit records are: what each batch of the stream it commits
// the offsets of (SinkOptions.offsetsOf) read.
struct CommitLogOf {
  std::map<std::string, std::string> kafkaParams;
  std::string commitTopic;
  std::string transactionalId;
  Duration timeout;
};
// What offsetRanges() and the exactly-once sink ask the stream's node.
class OffsetRangeSource {
 public:
  virtual ~OffsetRangeSource() = default;
  virtual std::vector<OffsetRange> offsetRangesOf(Time t) const = 0;
  virtual void commitAsync(std::vector<OffsetRange> ranges) = 0;
  // After a restart from a checkpoint, the batches `log` committed after the checkpoint's
  // last re-read the ranges they committed, not new ones: the sink skips them as written, so
  // records new ranges would add would never be written. Called before start().
  virtual void replayCommittedBatches(CommitLogOf log) = 0;
};
DSTREAM_EXPORT std::shared_ptr<dstream::detail::TypedNode<ConsumerRecord>> addDirectStreamNode(
    dstream::detail::Graph& graph, DirectStreamOptions options);

// One producer shared by a sink's batches; send() may be called from several threads, the
// batch calls (beginBatch, commitBatch, abortBatch) from one batch at a time.
class DSTREAM_EXPORT KafkaWriter {
 public:
  // Throws Error(kInvalidArgument) for a missing topic or bootstrap.servers, offsetsOf that is
  // not a direct stream, offsetsOf or consumerGroupId without transactionalId, or a property
  // librdkafka rejects (named).
  // librdkafka's lines and the sink's own go to `log` (the context's; empty: stderr).
  explicit KafkaWriter(SinkOptions options, LogSink log = {});
  ~KafkaWriter();
  KafkaWriter(const KafkaWriter&) = delete;
  KafkaWriter& operator=(const KafkaWriter&) = delete;
  // Exactly-once: false if batch `t`'s transaction committed already (a re-run: write
  // nothing); else begins its transaction (the first call initialises transactions, fencing
  // a previous instance, and reads the commit topic). At-least-once: true.
  // Throws Error(kUnavailable) naming the topic and the cause.
  bool beginBatch(Time t);
  // Queues one record; partition -1 lets the producer's partitioner choose from the key.
  void send(std::string_view key, bool hasKey, std::string_view value, std::int32_t partition);
  // Waits until everything sent is acknowledged; exactly-once: then writes the commit record,
  // sends the input offsets and commits the transaction. Throws Error(kUnavailable) naming
  // the topic, the cause (the first delivery error and how many records failed, or the
  // timeout) and, exactly-once, the batch, whose transaction is then aborted.
  void commitBatch(Time t);
  // Aborts batch `t`'s transaction after a failure while sending (exactly-once; no-op otherwise).
  // Never throws: a failed abort is logged, and the next beginBatch starts afresh.
  void abortBatch(Time t) noexcept;
  // Waits until everything sent is acknowledged; throws as commitBatch does.
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
// naming the topic and the error, if it cannot.
// Without options.transactionalId: at-least-once, as Spark's: a batch re-run after a crash
// writes its records again. With it: exactly-once for read_committed readers: one transaction
// per batch, committed when the batch's records are all written, aborted if the batch fails;
// a re-run batch whose transaction had committed is skipped (doc/kafka.md).
// Throws what KafkaWriter's constructor throws.
template <class T, class KeyF, class ValueF>
void writeToKafka(const DStream<T>& stream, SinkOptions options, KeyF keyOf, ValueF valueOf) {
  writeToKafka(stream, std::move(options), std::move(keyOf), std::move(valueOf), [](const T&) { return std::int32_t{-1}; });
}
template <class T, class KeyF, class ValueF, class PartitionF>
void writeToKafka(const DStream<T>& stream, SinkOptions options, KeyF keyOf, ValueF valueOf, PartitionF partitionOf) {
  stream.graph()->checkCanDefine("writeToKafka");
  auto writer = std::make_shared<detail::KafkaWriter>(std::move(options), stream.graph()->log());
  stream.foreachRDD(
      [writer, keyOf, valueOf, partitionOf](const RDD<T>& rdd, Time t) {
        if (!writer->beginBatch(t)) return;
        try {
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
        } catch (...) {
          writer->abortBatch(t);
          throw;
        }
        writer->commitBatch(t);
      },
      "writeToKafka");
}

// Throws Error(kInvalidArgument) for missing bootstrap.servers, not exactly one of topics,
// topicPattern and fromOffsets, a topicPattern that is not a regular expression, negative
// offsets or rates, or a property librdkafka rejects (named).
inline DStream<ConsumerRecord> createDirectStream(StreamingContext& ssc, DirectStreamOptions options) {
  ssc.graph()->checkCanDefine("createDirectStream");
  return DStream<ConsumerRecord>(ssc.graph(), detail::addDirectStreamNode(*ssc.graph(), std::move(options)));
}

// Spark's HasOffsetRanges: the ranges batch `t` of `stream` read, one per partition, while the
// batch is remembered (inside foreachRDD of that batch, for instance); empty otherwise.
// Throws Error(kInvalidArgument) if `stream` is not a direct stream.
DSTREAM_EXPORT std::vector<OffsetRange> offsetRanges(const DStream<ConsumerRecord>& stream, Time t);

// Spark's CanCommitOffsets.commitAsync: commits the untilOffsets of `ranges` (typically
// offsetRanges(stream, t) inside foreachRDD, once the batch's output is done) to Kafka for
// the stream's group.id, when the stream generates its next batch. For monitoring (consumer
// lag tools) only: the stream itself goes on from its checkpoint, never from these offsets.
// A commit Kafka refuses is logged as a warning. Throws Error(kInvalidArgument) if `stream`
// is not a direct stream or its kafkaParams have no group.id.
DSTREAM_EXPORT void commitAsync(const DStream<ConsumerRecord>& stream, std::vector<OffsetRange> ranges);

}  // namespace dstream::kafka
