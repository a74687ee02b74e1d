// Commit records: their text form, and reading them back as a read_committed consumer.
#include "kafka/commit_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>

#include "dstream/error.h"
#include "kafka/kafka_config.h"

namespace dstream::kafka::detail {
namespace {

constexpr std::string_view kHeader = "dstream-commit 1";

void encodeRanges(std::string& out, const char* label, const std::vector<OffsetRange>& ranges) {
  for (const auto& r : ranges) {
    out += std::string(label) + " " + r.topic + " " + std::to_string(r.partition) + " " + std::to_string(r.fromOffset) +
           " " + std::to_string(r.untilOffset) + "\n";
  }
}

// The settings that say how to reach the cluster, taken from a producer's properties.
bool isConnectionSetting(const std::string& key) {
  return key == "bootstrap.servers" || key == "client.id" || key == "security.protocol" || key.rfind("ssl.", 0) == 0 ||
         key.rfind("sasl.", 0) == 0 || key == "broker.address.family";
}

}  // namespace

std::string encodeCommit(const CommittedBatch& batch) {
  std::string out(kHeader);
  out += "\nbatch " + std::to_string(toMillis(batch.batchTime)) + "\n";
  encodeRanges(out, "written", batch.written);
  encodeRanges(out, "read", batch.read);
  return out;
}

std::optional<CommittedBatch> decodeCommit(std::string_view key, std::string_view value) {
  std::istringstream in{std::string(value)};
  std::string line;
  if (!std::getline(in, line) || line != kHeader) return std::nullopt;
  CommittedBatch batch;
  batch.transactionalId = std::string(key);
  bool hasTime = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string label;
    fields >> label;
    if (label == "batch") {
      std::int64_t ms = 0;
      if (!(fields >> ms)) return std::nullopt;
      batch.batchTime = timeFromMillis(ms);
      hasTime = true;
    } else if (label == "written" || label == "read") {
      OffsetRange r;
      if (!(fields >> r.topic >> r.partition >> r.fromOffset >> r.untilOffset)) return std::nullopt;
      (label == "written" ? batch.written : batch.read).push_back(std::move(r));
    } else {
      return std::nullopt;
    }
  }
  if (!hasTime) return std::nullopt;
  return batch;
}

}  // namespace dstream::kafka::detail

namespace dstream::kafka {

std::vector<CommittedBatch> readCommittedBatches(const std::map<std::string, std::string>& kafkaParams,
                                                 const std::string& commitTopic, Duration timeout) {
  const std::string what = "readCommittedBatches: commit topic " + commitTopic;
  auto bootstrap = kafkaParams.find("bootstrap.servers");
  if (bootstrap == kafkaParams.end() || bootstrap->second.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "readCommittedBatches: kafkaParams must set bootstrap.servers");
  }
  detail::KafkaConfig conf("readCommittedBatches");
  for (const auto& [k, v] : kafkaParams) {
    if (detail::isConnectionSetting(k)) conf.set(k, v);
  }
  conf.set("group.id", "dstream-commit-reader");  // never joins nor commits: partitions are assigned
  conf.set("enable.auto.commit", "false");
  conf.set("isolation.level", "read_committed");
  conf.set("enable.partition.eof", "true");
  conf.set("fetch.wait.max.ms", "20");  // the end is known from an empty fetch: do not wait 500 ms for it
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> consumer(conf.newClient(RD_KAFKA_CONSUMER), &rd_kafka_destroy);
  const int timeoutMs = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  std::int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer.get(), commitTopic.c_str(), 0, &low, &high, timeoutMs);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
      err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
    return {};  // nothing committed yet; the first commit creates it where topics are created on use
  }
  if (err) throw Error(ErrorCode::kUnavailable, what + ": " + rd_kafka_err2str(err));
  std::vector<CommittedBatch> batches;
  if (high <= low) return batches;
  detail::PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), commitTopic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  if ((err = rd_kafka_assign(consumer.get(), list.get()))) throw Error(ErrorCode::kUnavailable, what + ": " + rd_kafka_err2str(err));
  // A read_committed consumer reaches the end at the last stable offset: open transactions of
  // live sinks are not waited for.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(ErrorCode::kUnavailable, what + ": not read to its end within " + formatDuration(timeout));
    }
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> m(rd_kafka_consumer_poll(consumer.get(), 100),
                                                                               &rd_kafka_message_destroy);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err) throw Error(ErrorCode::kUnavailable, what + ": " + rd_kafka_message_errstr(m.get()));
    auto batch = detail::decodeCommit(std::string_view(static_cast<const char*>(m->key), m->key_len),
                                      std::string_view(static_cast<const char*>(m->payload), m->len));
    if (batch) batches.push_back(std::move(*batch));
  }
  rd_kafka_consumer_close(consumer.get());
  return batches;
}

std::map<TopicPartition, std::int64_t> committedInputOffsets(const std::map<std::string, std::string>& kafkaParams,
                                                             const std::string& commitTopic, const std::string& transactionalId,
                                                             Duration timeout) {
  std::map<TopicPartition, std::int64_t> next;
  for (const auto& batch : readCommittedBatches(kafkaParams, commitTopic, timeout)) {
    if (batch.transactionalId != transactionalId) continue;
    for (const auto& r : batch.read) {
      auto& offset = next.try_emplace({r.topic, r.partition}, r.untilOffset).first->second;
      offset = std::max(offset, r.untilOffset);
    }
  }
  return next;
}

}  // namespace dstream::kafka
