// writeToKafka's producer: one librdkafka producer per sink, shared by the workers of a batch;
// a batch waits in flush() for Kafka to acknowledge every record it sent. Idempotent by
// default; with a transactionalId, one transaction per batch, closed by a commit record
// (commit_log.h) that tells a restarted sink which batches committed.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "dstream/error.h"
#include "dstream/kafka.h"
#include "dstream/log.h"
#include "kafka/commit_log.h"
#include "kafka/kafka_config.h"

namespace dstream::kafka::detail {
namespace {

int toTimeoutMs(Duration d) {
  return static_cast<int>(std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), INT32_MAX));
}

std::string batchName(Time t) { return "batch " + std::to_string(toMillis(t)) + " ms"; }

// "in-0 [10, 20), in-1 [5, 5)"
std::string describeRanges(const std::vector<OffsetRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    out += (out.empty() ? "" : ", ") + nameOf({r.topic, r.partition}) + " [" + std::to_string(r.fromOffset) + ", " +
           std::to_string(r.untilOffset) + ")";
  }
  return out.empty() ? "(none)" : out;
}

// Re-runs after a crash are the batches since the last checkpoint: a few.
constexpr std::size_t kCommittedReadsKept = 64;

// Runs a transactional call, retrying while librdkafka calls its error retriable (a
// coordinator moving, a timeout) until `timeout`; returns the error's text, empty on success.
template <class Call>
std::string retrying(Call call, Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    rd_kafka_error_t* error = call();
    if (!error) return "";
    std::string text = rd_kafka_error_string(error);
    bool retry = rd_kafka_error_is_retriable(error) && std::chrono::steady_clock::now() < deadline;
    rd_kafka_error_destroy(error);
    if (!retry) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // librdkafka's advice: back off briefly
  }
}

}  // namespace

struct KafkaWriter::Impl {
  SinkOptions options;
  LogSink log;
  rd_kafka_t* producer = nullptr;
  std::shared_ptr<const dstream::detail::Node> input;  // offsetsOf's node, an OffsetRangeSource
  bool transactional = false;
  bool initialised = false;          // transactions initialised, commits read
  std::optional<Time> lastCommitted;  // the newest batch this transactionalId committed
  // What its newest committed batches read, to check that their re-runs read the same.
  std::map<Time, std::vector<OffsetRange>> committedReads;
  bool inTransaction = false;
  std::mutex mu;
  std::int64_t failed = 0;  // since the last flush; guarded by mu
  std::string firstError;   // guarded by mu
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> written;  // partition -> first, last; guarded by mu

  void fail(const std::string& error) {
    std::lock_guard lock(mu);
    if (failed++ == 0) firstError = error;
  }
  void delivered(std::int32_t partition, std::int64_t offset) {
    std::lock_guard lock(mu);
    auto [it, inserted] = written.try_emplace(partition, offset, offset);
    if (!inserted) {
      it->second.first = std::min(it->second.first, offset);
      it->second.second = std::max(it->second.second, offset);
    }
  }
  [[noreturn]] void throwFor(Time t, const std::string& cause) const {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: topic " + options.topic + ": " + batchName(t) +
                                             " not written (transaction aborted): " + cause);
  }
};

KafkaWriter::KafkaWriter(SinkOptions options, LogSink log) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->log = std::move(log);
  auto& o = impl_->options;
  if (o.topic.empty()) throw Error(ErrorCode::kInvalidArgument, "writeToKafka: SinkOptions.topic is empty");
  auto bootstrap = o.kafkaParams.find("bootstrap.servers");
  if (bootstrap == o.kafkaParams.end() || bootstrap->second.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "writeToKafka: kafkaParams must set bootstrap.servers");
  }
  if (o.flushTimeout <= Duration(0)) throw Error(ErrorCode::kInvalidArgument, "writeToKafka: flushTimeout must be positive");
  if (o.kafkaParams.contains("transactional.id")) {
    throw Error(ErrorCode::kInvalidArgument,
                "writeToKafka: set SinkOptions.transactionalId instead of kafkaParams transactional.id (each batch is then one transaction)");
  }
  impl_->transactional = !o.transactionalId.empty();
  if (!impl_->transactional && (o.offsetsOf || !o.consumerGroupId.empty() || !o.commitTopic.empty())) {
    throw Error(ErrorCode::kInvalidArgument,
                "writeToKafka: SinkOptions offsetsOf, consumerGroupId and commitTopic need transactionalId (exactly-once)");
  }
  OffsetRangeSource* source = nullptr;
  if (o.offsetsOf) {
    source = dynamic_cast<OffsetRangeSource*>(o.offsetsOf->node().get());
    if (!source) {
      throw Error(ErrorCode::kInvalidArgument,
                  "writeToKafka: SinkOptions.offsetsOf is not a Kafka direct stream (give what createDirectStream returned)");
    }
    if (o.consumerGroupId.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "writeToKafka: SinkOptions.offsetsOf needs consumerGroupId, the group to commit them for");
    }
    impl_->input = o.offsetsOf->node();
    o.offsetsOf.reset();  // the node is enough; a DStream would keep its graph alive from the graph
  } else if (!o.consumerGroupId.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "writeToKafka: SinkOptions.consumerGroupId needs offsetsOf, the direct stream whose offsets to commit");
  }
  if (impl_->transactional && o.commitTopic.empty()) o.commitTopic = o.topic + ".dstream-commits";
  if (source) source->replayCommittedBatches({o.kafkaParams, o.commitTopic, o.transactionalId, o.flushTimeout});
  KafkaConfig conf("writeToKafka");
  if (!o.kafkaParams.contains("enable.idempotence")) conf.set("enable.idempotence", "true");
  for (const auto& [k, v] : o.kafkaParams) conf.set(k, v);
  if (impl_->transactional) conf.set("transactional.id", o.transactionalId);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    auto* impl = static_cast<Impl*>(rd_kafka_opaque(rk));
    dstream::detail::logLine(impl->log, logLevelOf(level), std::string("writeToKafka: librdkafka ") + facility + ": " + text);
  });
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* impl = static_cast<Impl*>(opaque);
    if (m->err) {
      impl->fail(rd_kafka_err2str(m->err));
    } else if (impl->transactional && m->rkt && impl->options.topic == rd_kafka_topic_name(m->rkt)) {
      impl->delivered(m->partition, m->offset);
    }
  });
  impl_->producer = conf.newClient(RD_KAFKA_PRODUCER);
}

KafkaWriter::~KafkaWriter() {
  if (impl_->producer) {
    if (impl_->inTransaction) abortBatch(Time{});
    rd_kafka_flush(impl_->producer, 10000);
    rd_kafka_destroy(impl_->producer);
  }
}

bool KafkaWriter::beginBatch(Time t) {
  Impl& w = *impl_;
  if (!w.transactional) return true;
  const auto& o = w.options;
  if (!w.initialised) {
    // Fences an earlier instance with this transactionalId and aborts what it left open, so
    // that the commit topic then shows exactly the transactions that committed.
    std::string error = retrying([&] { return rd_kafka_init_transactions(w.producer, toTimeoutMs(o.flushTimeout)); }, o.flushTimeout);
    if (!error.empty()) {
      throw Error(ErrorCode::kUnavailable, "writeToKafka: topic " + o.topic + ": cannot initialise transactions for transactionalId " +
                                               o.transactionalId + ": " + error);
    }
    // Topic metadata now rather than in the first transaction, which would wait for it (~2 s).
    for (const std::string* topic : {&o.topic, &o.commitTopic}) {
      rd_kafka_topic_t* handle = rd_kafka_topic_new(w.producer, topic->c_str(), nullptr);
      const rd_kafka_metadata_t* metadata = nullptr;
      if (handle && !rd_kafka_metadata(w.producer, 0, handle, &metadata, toTimeoutMs(o.flushTimeout))) rd_kafka_metadata_destroy(metadata);
      if (handle) rd_kafka_topic_destroy(handle);
    }
    for (auto& batch : readCommittedBatches(o.kafkaParams, o.commitTopic, o.flushTimeout)) {
      if (batch.transactionalId != o.transactionalId) continue;
      w.committedReads[batch.batchTime] = std::move(batch.read);
      if (w.committedReads.size() > kCommittedReadsKept) w.committedReads.erase(w.committedReads.begin());
      if (!w.lastCommitted || batch.batchTime > *w.lastCommitted) {
        w.lastCommitted = batch.batchTime;
      }
    }
    w.initialised = true;
  }
  if (w.lastCommitted && t <= *w.lastCommitted) {
    dstream::detail::logLine(w.log, LogLevel::kInfo, "writeToKafka: topic " + o.topic + ": " + batchName(t) +
                                                  " was committed before the restart (transactionalId " + o.transactionalId +
                                                  "); not written again");
    auto committed = w.committedReads.find(t);
    if (w.input && committed != w.committedReads.end()) {
      auto reread = dynamic_cast<const OffsetRangeSource&>(*w.input).offsetRangesOf(t);
      if (reread != committed->second) {
        // The direct stream re-reads committed ranges; this is a commit it could not see
        // when it started (one completing as the old process died).
        dstream::detail::logLine(w.log, LogLevel::kError,
                                 "writeToKafka: topic " + o.topic + ": " + batchName(t) + " re-ran on input " +
                                     describeRanges(reread) + " but committed input " + describeRanges(committed->second) +
                                     "; the records in one and not the other are missing from or repeated in the output");
      }
    }
    return false;
  }
  std::string error = retrying([&] { return rd_kafka_begin_transaction(w.producer); }, Duration(0));
  if (!error.empty()) {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: topic " + o.topic + ": cannot begin the transaction of " + batchName(t) + ": " + error);
  }
  w.inTransaction = true;
  std::lock_guard lock(w.mu);
  w.written.clear();
  return true;
}

void KafkaWriter::send(std::string_view key, bool hasKey, std::string_view value, std::int32_t partition) {
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_producev(impl_->producer, RD_KAFKA_V_TOPIC(impl_->options.topic.c_str()),
                                  RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                                  RD_KAFKA_V_KEY(hasKey ? key.data() : nullptr, hasKey ? key.size() : 0),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
         RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    rd_kafka_poll(impl_->producer, 10);  // serves delivery reports, which free the queue
  }
  if (err) impl_->fail(rd_kafka_err2str(err));
}

void KafkaWriter::flush() {
  const auto& o = impl_->options;
  rd_kafka_resp_err_t err = rd_kafka_flush(impl_->producer, toTimeoutMs(o.flushTimeout));
  std::int64_t failed = 0;
  std::string first;
  {
    std::lock_guard lock(impl_->mu);
    std::swap(failed, impl_->failed);
    first.swap(impl_->firstError);
  }
  if (failed > 0) {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: " + std::to_string(failed) + " record(s) could not be written to topic " +
                                             o.topic + ": " + first);
  }
  if (err) {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: topic " + o.topic + ": " +
                                             std::to_string(rd_kafka_outq_len(impl_->producer)) +
                                             " record(s) not acknowledged within " + formatDuration(o.flushTimeout));
  }
}

void KafkaWriter::commitBatch(Time t) {
  Impl& w = *impl_;
  if (!w.transactional) {
    flush();
    return;
  }
  const auto& o = w.options;
  try {
    flush();
  } catch (const Error& e) {
    abortBatch(t);
    w.throwFor(t, std::string(dstream::detail::withoutDstreamPrefix(e.what())));
  }
  CommittedBatch record{o.transactionalId, t, {}, {}};
  {
    std::lock_guard lock(w.mu);
    for (const auto& [partition, offsets] : w.written) record.written.push_back({o.topic, partition, offsets.first, offsets.second + 1});
  }
  if (w.input) record.read = dynamic_cast<const OffsetRangeSource&>(*w.input).offsetRangesOf(t);
  std::string value = encodeCommit(record);
  rd_kafka_resp_err_t err = rd_kafka_producev(
      w.producer, RD_KAFKA_V_TOPIC(o.commitTopic.c_str()), RD_KAFKA_V_PARTITION(0),
      RD_KAFKA_V_KEY(o.transactionalId.data(), o.transactionalId.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  std::string error = err ? "commit record for topic " + o.commitTopic + ": " + rd_kafka_err2str(err) : "";
  if (error.empty() && !record.read.empty()) {
    PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(record.read.size())));
    for (const auto& r : record.read) rd_kafka_topic_partition_list_add(offsets.get(), r.topic.c_str(), r.partition)->offset = r.untilOffset;
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, decltype(&rd_kafka_consumer_group_metadata_destroy)> group(
        rd_kafka_consumer_group_metadata_new(o.consumerGroupId.c_str()), &rd_kafka_consumer_group_metadata_destroy);
    error = retrying([&] { return rd_kafka_send_offsets_to_transaction(w.producer, offsets.get(), group.get(), toTimeoutMs(o.flushTimeout)); },
                     o.flushTimeout);
    if (!error.empty()) error = "input offsets for group " + o.consumerGroupId + ": " + error;
  }
  if (error.empty()) {
    // -1: the transaction's remaining time, as librdkafka advises.
    error = retrying([&] { return rd_kafka_commit_transaction(w.producer, -1); }, o.flushTimeout);
    if (error.empty()) {
      w.inTransaction = false;
      return;
    }
    error = "commit: " + error;
  }
  abortBatch(t);
  w.throwFor(t, error);
}

void KafkaWriter::abortBatch(Time t) noexcept {
  Impl& w = *impl_;
  if (!w.transactional || !w.inTransaction) return;
  w.inTransaction = false;
  try {
    std::string error = retrying([&] { return rd_kafka_abort_transaction(w.producer, toTimeoutMs(w.options.flushTimeout)); },
                                 w.options.flushTimeout);
    std::lock_guard lock(w.mu);
    w.failed = 0;
    w.firstError.clear();
    if (!error.empty()) {
      dstream::detail::logLine(w.log, LogLevel::kWarning, "writeToKafka: topic " + w.options.topic + ": cannot abort the transaction of " +
                                                       batchName(t) + ": " + error);
    }
  } catch (...) {  // logging failed; nothing else can throw here
  }
}

}  // namespace dstream::kafka::detail
