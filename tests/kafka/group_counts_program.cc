// The scale-out crash test's member: one process of a consumer group over a keyed topic, a
// running count per key (updateStateByKey) in each partition's context, written to an output
// topic exactly once as "<count>@<batch ms>" under the key, input partition p to output
// partition p. Ends when its standard input
// closes (the test, or the test's death); the test kills it with SIGKILL at other times.
// bench/kafka/rebalance.py times its rebalances with a shorter session timeout.
//
//   group_counts_program BOOTSTRAP GROUP INPUT OUTPUT CHECKPOINT_ROOT BATCH_MS [SESSION_TIMEOUT_MS]
#include <cstdio>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "dstream/kafka_group.h"
#include "testing/wall_clock.h"

using namespace dstream;

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP GROUP INPUT OUTPUT CHECKPOINT_ROOT BATCH_MS [SESSION_TIMEOUT_MS]\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1], group = argv[2], input = argv[3], output = argv[4];
  // How long the group waits for a silent member before its partitions move (librdkafka checks
  // the value and names it if it is out of range).
  const std::string sessionTimeoutMs = argc == 8 ? argv[7] : "6000";
  kafka::GroupOptions options;
  options.kafkaParams = {{"bootstrap.servers", bootstrap},
                         {"group.id", group},
                         {"auto.offset.reset", "earliest"},
                         {"session.timeout.ms", sessionTimeoutMs},
                         {"heartbeat.interval.ms", "500"}};
  options.topics = {input};
  options.checkpointRoot = argv[5];
  options.batchDuration = Milliseconds(std::stoi(argv[6]));
  options.stateCheckpointInterval = 2 * options.batchDuration;
  // Lines stamped with the wall-clock time, which the test's own lines show too: a failure's
  // member logs then say what each member did around each kill.
  options.context.log = [](LogLevel level, std::string_view message) {
    if (level < LogLevel::kInfo) return;
    std::string line = testing::secondOfDay() + " " + std::string(logLevelName(level)) + ": " + std::string(message) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: threads do not interleave
  };
  auto transactionalIdOf = [group](const kafka::TopicPartition& tp) {
    return group + "-" + tp.topic + "-" + std::to_string(tp.partition);
  };
  // A partition never checkpointed starts where its sink's committed batches stopped reading.
  options.startOffsetOf = [&](const kafka::TopicPartition& tp) -> std::optional<std::int64_t> {
    auto offsets = kafka::committedInputOffsets({{"bootstrap.servers", bootstrap}}, output + ".dstream-commits", transactionalIdOf(tp));
    auto it = offsets.find(tp);
    return it == offsets.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
  };
  kafka::GroupMember member(options, [&](StreamingContext&, const DStream<kafka::ConsumerRecord>& records,
                                         const kafka::TopicPartition& tp) {
    auto counts = records.map([](const kafka::ConsumerRecord& r) { return std::pair<std::string, long>(std::string(r.key), 1L); })
                      .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> total) {
                        return std::optional<long>(total.value_or(0) + static_cast<long>(ones.size()));
                      })
                      .uid("running-count");
    auto stamped = counts.transform([](const RDD<std::pair<std::string, long>>& rdd, Time t) {
      long ms = toMillis(t);
      return rdd.map([ms](const std::pair<std::string, long>& kv) {
        return std::pair<std::string, std::string>(kv.first, std::to_string(kv.second) + "@" + std::to_string(ms));
      });
    });
    kafka::SinkOptions out;
    out.kafkaParams = {{"bootstrap.servers", bootstrap}};
    out.topic = output;
    out.transactionalId = transactionalIdOf(tp);
    out.offsetsOf = records;
    out.consumerGroupId = group;
    // Input partition p writes output partition p: one writer per output partition at a time.
    kafka::writeToKafka(
        stamped, out, [](const std::pair<std::string, std::string>& kv) { return std::string_view(kv.first); },
        [](const std::pair<std::string, std::string>& kv) { return std::string_view(kv.second); },
        [p = tp.partition](const std::pair<std::string, std::string>&) { return p; });
  });
  member.start();
  std::thread endOnEof([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    member.stop();
  });
  int status = 0;
  try {
    member.awaitTermination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "group_counts_program: %s\n", e.what());
    status = 1;
  }
  if (status != 0) std::_Exit(status);  // the stdin reader may still be blocked
  endOnEof.join();
  return 0;
}
