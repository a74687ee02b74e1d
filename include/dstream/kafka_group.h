// Scale-out past one machine: several processes in one Kafka consumer group share a topic's
// partitions, and each partition runs its own streaming context whose checkpoint (state,
// windows, the offset ranges of its batches) lives on storage all processes share. When a
// partition moves (a process joins, leaves or dies), its new owner recovers that partition's
// context from its checkpoint with getOrCreate and goes on where it ended. doc/scale_out.md
// tells the model: what is exact, what is per partition, how to size partitions.
//
//   dstream::kafka::GroupOptions g;
//   g.kafkaParams = {{"bootstrap.servers", "broker:9092"}, {"group.id", "word-counts"}};
//   g.topics = {"words"};
//   g.checkpointRoot = "/mnt/shared/word-counts";      // one directory per partition below it
//   g.batchDuration = dstream::Seconds(1);
//   dstream::kafka::GroupMember member(g, [](dstream::StreamingContext& ssc,
//                                            const dstream::DStream<dstream::kafka::ConsumerRecord>& records,
//                                            const dstream::kafka::TopicPartition& tp) {
//     auto counts = records.map(...).updateStateByKey(...);       // state of this partition only
//     dstream::kafka::SinkOptions out = ...;                       // exactly-once per partition:
//     out.transactionalId = "word-counts-" + tp.topic + "-" + std::to_string(tp.partition);
//     dstream::kafka::writeToKafka(counts, out, ...);
//   });
//   member.start();
//   member.awaitTermination();
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dstream/export.h"
#include "dstream/kafka.h"
#include "dstream/options.h"
#include "dstream/streaming_context.h"
#include "dstream/time.h"

namespace dstream::kafka {

struct GroupOptions {
  // Consumer properties, passed to librdkafka as they are; bootstrap.servers and group.id are
  // required. partition.assignment.strategy defaults to cooperative-sticky (partitions that
  // stay put keep running through a rebalance); session.timeout.ms bounds how long a dead
  // process's partitions wait before they move. auto.offset.reset (latest, the default, or
  // earliest) says where a partition with neither a checkpoint nor a committed offset begins.
  std::map<std::string, std::string> kafkaParams;
  // The input topics; every partition of them is run by exactly one member at a time.
  std::vector<std::string> topics;
  // Where each partition's checkpoint lives: <checkpointRoot>/<topic>-<partition>. It must be
  // storage every member reaches (a shared file system); a member takes a partition's
  // directory only while holding its lock file, so two members never run one partition.
  std::string checkpointRoot;
  Duration batchDuration = Seconds(1);
  // Worker threads of each partition's context (local[N]).
  int workersPerPartition = 1;
  // spark.streaming.kafka.maxRatePerPartition; 0 = no limit.
  std::int64_t maxRatePerPartition = 0;
  // Where a partition with no checkpoint begins, when the program knows: an exactly-once
  // sink's committedInputOffsets (kafka.h) for the partition. A partition that ran a batch
  // has a checkpoint (its context's start checkpoint at least), so this is for a checkpoint
  // root that is new while the output has commits. nullopt, or no function: the group's
  // committed offset, else auto.offset.reset.
  std::function<std::optional<std::int64_t>(const TopicPartition&)> startOffsetOf;
  // How often each partition's state is written; zero: the context's default.
  Duration stateCheckpointInterval = Duration(0);
  // The options of each partition's context. The web UI is off by default here: one member
  // runs many contexts.
  ContextOptions context = [] {
    ContextOptions o;
    o.ui.enabled = false;
    return o;
  }();
};

// Defines one partition's pipeline on `ssc`, reading `records`, the direct stream of
// `partition` alone. Called each time the member takes the partition (C++ cannot serialise
// closures: as with getOrCreate, the pipeline is rebuilt and then recovered).
using PartitionProgram =
    std::function<void(StreamingContext& ssc, const DStream<ConsumerRecord>& records, const TopicPartition& partition)>;

// One process's membership in the group. Thread-safety: every method may be called from any
// thread.
class DSTREAM_EXPORT GroupMember {
 public:
  // Throws Error(kInvalidArgument) for a missing bootstrap.servers, group.id, topic or
  // checkpointRoot, a non-positive batch duration or worker count, or a property librdkafka
  // rejects (named).
  GroupMember(GroupOptions options, PartitionProgram program);
  ~GroupMember();  // stop()
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // Joins the group; partitions start as the group assigns them. Throws
  // Error(kFailedPrecondition) when called twice.
  void start();
  // Leaves the group: each running partition's context stops (its running batch finishes and
  // its checkpoint stays for the partition's next owner), then the membership ends.
  void stop();
  // Waits until stop() or until a partition's context fails, and then rethrows that failure
  // (Error naming the partition); the member has then left the group.
  void awaitTermination();
  // The partitions this member runs now.
  std::vector<TopicPartition> assignment() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dstream::kafka
