// The Kafka direct stream's node: decides each batch's offset ranges, fetches exactly those
// records with a librdkafka consumer it assigns per batch, and records the ranges in the
// checkpoint (ReplayLog) so that re-run batches read them again.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dstream/detail/input_node.h"
#include "dstream/error.h"
#include "dstream/kafka.h"
#include "dstream/log.h"
#include "dstream/rdd.h"
#include "kafka/kafka_config.h"
#include "sources/replay_log.h"

namespace dstream::kafka {
namespace {

using dstream::detail::Graph;

struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

std::string nameOf(const TopicPartition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

// Writes and reads one batch's ranges: varint n, n x (topic, partition, from, until).
struct RangesCodec {
  static void write(BinaryWriter& w, const std::vector<OffsetRange>& ranges) {
    w.writeVarint(ranges.size());
    for (const auto& r : ranges) {
      w.writeBytes(r.topic);
      w.writeVarint(static_cast<std::uint64_t>(r.partition));
      w.writeVarint(static_cast<std::uint64_t>(r.fromOffset));
      w.writeVarint(static_cast<std::uint64_t>(r.untilOffset));
    }
  }
  static std::vector<OffsetRange> read(BinaryReader& r) {
    std::vector<OffsetRange> ranges(r.readCount());
    for (auto& range : ranges) {
      range.topic = r.read<std::string>();
      std::size_t at = r.position();
      auto partition = r.readVarint(), from = r.readVarint(), until = r.readVarint();
      if (partition > INT32_MAX || from > until || until > static_cast<std::uint64_t>(INT64_MAX)) {
        r.fail("offset range of " + range.topic + " is not a partition and [from, until)", at);
      }
      range.partition = static_cast<std::int32_t>(partition);
      range.fromOffset = static_cast<std::int64_t>(from);
      range.untilOffset = static_cast<std::int64_t>(until);
    }
    return ranges;
  }
};

// One Kafka partition's records of one batch: the bytes and the records that view them.
struct PartitionData {
  std::string topic;
  std::string bytes;
  std::vector<ConsumerRecord> records;
};

class DirectKafkaInputNode final : public dstream::detail::SourceNode<ConsumerRecord>, public detail::OffsetRangeSource {
 public:
  DirectKafkaInputNode(Graph* graph, DirectStreamOptions options)
      : SourceNode<ConsumerRecord>(graph, "directKafkaStream"), options_(std::move(options)) {
    auto bootstrap = options_.kafkaParams.find("bootstrap.servers");
    if (bootstrap == options_.kafkaParams.end() || bootstrap->second.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "createDirectStream: kafkaParams must set bootstrap.servers");
    }
    if (options_.topics.empty() == options_.fromOffsets.empty()) {
      throw Error(ErrorCode::kInvalidArgument,
                  "createDirectStream: give either topics (subscribe) or fromOffsets (assign), not " +
                      std::string(options_.topics.empty() ? "neither" : "both"));
    }
    for (const auto& [tp, offset] : options_.fromOffsets) {
      if (tp.topic.empty() || tp.partition < 0 || offset < 0) {
        throw Error(ErrorCode::kInvalidArgument, "createDirectStream: fromOffsets has " + nameOf(tp) + " at offset " +
                                                     std::to_string(offset) + "; partitions and offsets must be >= 0");
      }
    }
    if (options_.maxRatePerPartition < 0) {
      throw Error(ErrorCode::kInvalidArgument, "createDirectStream: maxRatePerPartition must be >= 0 (0 = no limit)");
    }
    if (options_.pollTimeout <= Duration(0)) {
      throw Error(ErrorCode::kInvalidArgument, "createDirectStream: pollTimeout must be positive");
    }
    std::string reset = param("auto.offset.reset", "latest");
    if (reset == "earliest" || reset == "smallest" || reset == "beginning") {
      startAtEarliest_ = true;
    } else if (reset != "latest" && reset != "largest" && reset != "end") {
      throw Error(ErrorCode::kInvalidArgument, "createDirectStream: auto.offset.reset '" + reset +
                                                   "' is not one of latest, earliest");
    }
    consumer_ = makeConsumer();  // rejects bad properties now, naming them
  }

  std::string inputName() const override {
    std::string topics;
    for (const auto& t : options_.topics) topics += (topics.empty() ? "" : ",") + t;
    if (topics.empty()) topics = std::to_string(options_.fromOffsets.size()) + " assigned partitions";
    return kind() + " " + topics;
  }

  void startInput() override {
    // Where each partition known now begins, unless a checkpoint said so (readInputs).
    if (!next_.empty()) return;
    for (const auto& [tp, offset] : options_.fromOffsets) next_[tp] = offset;
    for (const auto& tp : discoverPartitions()) next_[tp] = startAtEarliest_ ? watermarks(tp).first : watermarks(tp).second;
    started_ = true;
  }

  std::vector<OffsetRange> offsetRangesOf(Time t) const override {
    std::lock_guard lock(mu_);
    const auto* ranges = replay_.find(t);
    return ranges ? *ranges : std::vector<OffsetRange>{};
  }

  void clearOldData(Time t) override {
    SourceNode<ConsumerRecord>::clearOldData(t);
    std::lock_guard lock(mu_);
    replay_.forgetOld(t);
  }
  void prepareCheckpointing(const std::filesystem::path&, Duration keepFor) override { replay_.keepFor(keepFor); }
  void writeInputs(BinaryWriter& w, Time after, Time upTo) const override {
    std::lock_guard lock(mu_);
    replay_.write(w, after, upTo);
  }
  void readInputs(BinaryReader& r, Time upTo) override {
    std::lock_guard lock(mu_);
    replay_.read(r, upTo);
    // New batches go on where the last recovered batch ended.
    for (const auto& [t, ranges] : replay_.batches()) {
      for (const auto& range : ranges) next_[{range.topic, range.partition}] = range.untilOffset;
    }
  }

 protected:
  std::optional<RDD<ConsumerRecord>> compute(Time t) override {
    std::vector<OffsetRange> ranges;
    if (auto recorded = replay_.replayed(t)) {
      ranges = std::move(*recorded);  // a batch that ran before the crash: the same records
    } else {
      ranges = decideRanges();
    }
    auto rdd = fetch(ranges);
    for (const auto& range : ranges) {
      auto& next = next_[{range.topic, range.partition}];
      next = std::max(next, range.untilOffset);
    }
    std::lock_guard lock(mu_);
    replay_.record(t, std::move(ranges));
    return rdd;
  }

 private:
  std::string param(const std::string& key, std::string fallback) const {
    auto it = options_.kafkaParams.find(key);
    return it == options_.kafkaParams.end() ? fallback : it->second;
  }

  std::unique_ptr<rd_kafka_t, ConsumerDeleter> makeConsumer() const {
    detail::KafkaConfig conf("createDirectStream");
    for (const auto& [k, v] : options_.kafkaParams) {
      if (k != "auto.offset.reset") conf.set(k, v);
    }
    // The stream decides every offset itself: nothing is committed or reset behind its back.
    conf.set("enable.auto.commit", "false");
    conf.set("enable.auto.offset.store", "false");
    conf.set("enable.partition.eof", "false");
    if (!options_.kafkaParams.contains("group.id")) conf.set("group.id", "dstream-direct-stream");
    // librdkafka's own log lines (a broker disconnected, a retry) go to the context's log.
    rd_kafka_conf_set_opaque(conf.get(), const_cast<DirectKafkaInputNode*>(this));
    rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* text) {
      auto* node = static_cast<const DirectKafkaInputNode*>(rd_kafka_opaque(rk));
      LogLevel mapped = level <= 3 ? LogLevel::kError : level == 4 ? LogLevel::kWarning : level <= 6 ? LogLevel::kInfo : LogLevel::kDebug;
      dstream::detail::logLine(node->log_, mapped, std::string("directKafkaStream: librdkafka ") + facility + ": " + text);
    });
    return std::unique_ptr<rd_kafka_t, ConsumerDeleter>(conf.newClient(RD_KAFKA_CONSUMER));
  }

  int timeoutMs() const {
    return static_cast<int>(std::min<std::int64_t>(options_.pollTimeout.count(), 60000));
  }

  // The partitions of the subscribed topics now (with fromOffsets: none beyond those).
  std::vector<TopicPartition> discoverPartitions() {
    std::vector<TopicPartition> found;
    for (const auto& topic : options_.topics) {
      std::unique_ptr<rd_kafka_topic_t, TopicDeleter> handle(rd_kafka_topic_new(consumer_.get(), topic.c_str(), nullptr));
      const rd_kafka_metadata_t* md = nullptr;
      rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_.get(), 0, handle.get(), &md, timeoutMs());
      if (err) {
        throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot read the partitions of topic " + topic + " from " +
                                                 param("bootstrap.servers", "") + ": " + rd_kafka_err2str(err));
      }
      std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(md, rd_kafka_metadata_destroy);
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& mt = md->topics[i];
        if (mt.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || mt.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
          warnOnce("topic " + topic + " does not exist (yet); the stream reads it once it does");
          continue;
        }
        if (mt.err) {
          throw Error(ErrorCode::kUnavailable, "directKafkaStream: topic " + topic + ": " + rd_kafka_err2str(mt.err));
        }
        for (int p = 0; p < mt.partition_cnt; ++p) found.push_back({topic, mt.partitions[p].id});
      }
    }
    return found;
  }

  std::pair<std::int64_t, std::int64_t> watermarks(const TopicPartition& tp) {
    std::int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    // A broker that is down or a leader that moves: librdkafka's own retries, then ours.
    for (int attempt = 0; attempt < 3; ++attempt) {
      err = rd_kafka_query_watermark_offsets(consumer_.get(), tp.topic.c_str(), tp.partition, &low, &high, timeoutMs());
      if (!err) return {low, high};
    }
    throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot read the offsets of " + nameOf(tp) + ": " +
                                             rd_kafka_err2str(err));
  }

  // Every known partition from where the last batch ended to its end now (at most
  // maxRatePerPartition per second of batch). New partitions start at their beginning.
  std::vector<OffsetRange> decideRanges() {
    if (!options_.topics.empty()) {
      for (const auto& tp : discoverPartitions()) {
        if (!next_.contains(tp)) {
          next_[tp] = watermarks(tp).first;
          if (started_) dstream::detail::logLine(log_, LogLevel::kInfo, "directKafkaStream: new partition " + nameOf(tp) + ", read from its beginning");
        }
      }
    }
    const double seconds = std::chrono::duration<double>(graph().batchDuration()).count();
    const std::int64_t cap =
        options_.maxRatePerPartition > 0
            ? std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(options_.maxRatePerPartition * seconds)))
            : 0;
    std::vector<OffsetRange> ranges;
    for (auto& [tp, from] : next_) {
      auto [low, high] = watermarks(tp);
      if (from < low) {
        dstream::detail::logLine(log_, LogLevel::kWarning, "directKafkaStream: " + nameOf(tp) + " offsets [" + std::to_string(from) +
                                        ", " + std::to_string(low) + ") were deleted by retention before they were read");
        from = low;
      }
      std::int64_t until = std::max(from, high);
      if (cap > 0) until = std::min(until, from + cap);
      ranges.push_back({tp.topic, tp.partition, from, until});
    }
    return ranges;
  }

  // Reads exactly the records of `ranges`: one RDD partition per Kafka partition.
  RDD<ConsumerRecord> fetch(const std::vector<OffsetRange>& ranges) {
    std::vector<std::shared_ptr<PartitionData>> data(ranges.size());
    std::map<TopicPartition, std::size_t> index;
    PartitionList assignment(rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size())));
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      data[i] = std::make_shared<PartitionData>();
      data[i]->topic = ranges[i].topic;
      if (ranges[i].count() == 0) continue;
      index[{ranges[i].topic, ranges[i].partition}] = i;
      rd_kafka_topic_partition_list_add(assignment.get(), ranges[i].topic.c_str(), ranges[i].partition)->offset =
          ranges[i].fromOffset;
    }
    // Header bytes of each record, as (offset, length) pairs of name and value, by record.
    std::vector<std::vector<std::vector<std::size_t>>> headerSpans(ranges.size());
    std::vector<std::int64_t> nextOffset(ranges.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) nextOffset[i] = ranges[i].fromOffset;
    if (!index.empty()) {
      if (auto err = rd_kafka_assign(consumer_.get(), assignment.get())) {
        throw Error(ErrorCode::kUnavailable, std::string("directKafkaStream: cannot assign the batch's partitions: ") +
                                                 rd_kafka_err2str(err));
      }
      auto deadline = std::chrono::steady_clock::now() + options_.pollTimeout;
      std::string lastError;
      std::size_t open = index.size();
      while (open > 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          std::string missing;
          for (const auto& [tp, i] : index) {
            if (nextOffset[i] < ranges[i].untilOffset) {
              missing += (missing.empty() ? "" : ", ") + nameOf(tp) + " [" + std::to_string(nextOffset[i]) + ", " +
                         std::to_string(ranges[i].untilOffset) + ")";
            }
          }
          rd_kafka_assign(consumer_.get(), nullptr);
          throw Error(ErrorCode::kUnavailable, "directKafkaStream: the batch's records did not arrive within " +
                                                   formatDuration(options_.pollTimeout) + ": " + missing +
                                                   (lastError.empty() ? "" : "; last error: " + lastError));
        }
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 100);
        if (!m) {
          // Offsets the broker will never deliver (transaction markers, compacted records):
          // the consumer's position moves past them.
          PartitionList positions(rd_kafka_topic_partition_list_copy(assignment.get()));
          if (!rd_kafka_position(consumer_.get(), positions.get())) {
            for (int k = 0; k < positions->cnt; ++k) {
              const auto& p = positions->elems[k];
              std::size_t i = index.at({p.topic, p.partition});
              if (nextOffset[i] < ranges[i].untilOffset && p.offset >= ranges[i].untilOffset) {
                nextOffset[i] = ranges[i].untilOffset;
                --open;
              }
            }
          }
          continue;
        }
        std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> message(m, rd_kafka_message_destroy);
        if (m->err) {
          if (rd_kafka_fatal_error(consumer_.get(), nullptr, 0)) {
            throw Error(ErrorCode::kUnavailable, std::string("directKafkaStream: fatal consumer error: ") + rd_kafka_message_errstr(m));
          }
          lastError = rd_kafka_message_errstr(m);  // transient: librdkafka retries
          continue;
        }
        auto it = index.find({rd_kafka_topic_name(m->rkt), m->partition});
        if (it == index.end()) continue;
        std::size_t i = it->second;
        if (m->offset < nextOffset[i] || m->offset >= ranges[i].untilOffset) continue;  // outside the range
        PartitionData& pd = *data[i];
        std::size_t keyAt = pd.bytes.size();
        if (m->key) pd.bytes.append(static_cast<const char*>(m->key), m->key_len);
        std::size_t valueAt = pd.bytes.size();
        if (m->payload) pd.bytes.append(static_cast<const char*>(m->payload), m->len);
        ConsumerRecord r;
        r.partition = m->partition;
        r.offset = m->offset;
        rd_kafka_timestamp_type_t tsType;
        r.timestamp = rd_kafka_message_timestamp(m, &tsType);
        r.hasKey = m->key != nullptr;
        // Views are fixed up once the partition's bytes stop growing; keep the spans for now.
        r.key = std::string_view(nullptr, 0);
        pd.records.push_back(r);
        auto& spans = headerSpans[i].emplace_back(std::vector<std::size_t>{keyAt, m->key_len, valueAt, m->len});
        rd_kafka_headers_t* headers = nullptr;
        if (!rd_kafka_message_headers(m, &headers)) {
          const char* name;
          const void* value;
          size_t size;
          for (size_t h = 0; !rd_kafka_header_get_all(headers, h, &name, &value, &size); ++h) {
            spans.push_back(pd.bytes.size());
            pd.bytes.append(name);
            spans.push_back(std::strlen(name));
            spans.push_back(pd.bytes.size());
            if (value) pd.bytes.append(static_cast<const char*>(value), size);
            spans.push_back(value ? size : 0);
          }
        }
        nextOffset[i] = m->offset + 1;
        if (nextOffset[i] >= ranges[i].untilOffset) --open;
      }
      rd_kafka_assign(consumer_.get(), nullptr);
    }
    dstream::detail::Partitions<ConsumerRecord> parts;
    dstream::detail::Owners owners;
    for (std::size_t i = 0; i < data.size(); ++i) {
      PartitionData& pd = *data[i];
      const char* base = pd.bytes.data();
      for (std::size_t k = 0; k < pd.records.size(); ++k) {
        ConsumerRecord& r = pd.records[k];
        const auto& s = headerSpans[i][k];
        r.topic = pd.topic;
        r.key = std::string_view(base + s[0], s[1]);
        r.value = std::string_view(base + s[2], s[3]);
        for (std::size_t h = 4; h + 3 < s.size(); h += 4) {
          r.headers.emplace_back(std::string_view(base + s[h], s[h + 1]), std::string_view(base + s[h + 2], s[h + 3]));
        }
      }
      parts.push_back(dstream::detail::PartitionPtr<ConsumerRecord>(data[i], &data[i]->records));
      owners.push_back(data[i]);
    }
    return dstream::detail::makeRDD<ConsumerRecord>(std::move(parts), std::move(owners), graph().pool());
  }

  void warnOnce(const std::string& message) {
    if (warned_.insert(message).second) dstream::detail::logLine(log_, LogLevel::kWarning, "directKafkaStream: " + message);
  }

  const DirectStreamOptions options_;
  // A copy of the context's sink: librdkafka may log while the consumer closes, when the
  // context's own members may be gone already. Declared before consumer_, so it outlives it.
  const LogSink log_ = graph().log();
  bool startAtEarliest_ = false;
  bool started_ = false;
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> consumer_;
  std::map<TopicPartition, std::int64_t> next_;  // where each partition's next batch begins
  std::set<std::string> warned_;
  mutable std::mutex mu_;  // replay_ is read by offsetRanges() from output operations
  dstream::detail::ReplayLog<std::vector<OffsetRange>, RangesCodec> replay_{"offset ranges"};
};

}  // namespace

namespace detail {
std::shared_ptr<dstream::detail::TypedNode<ConsumerRecord>> addDirectStreamNode(dstream::detail::Graph& graph,
                                                                                DirectStreamOptions options) {
  return graph.addNode<DirectKafkaInputNode>(std::move(options));
}
}  // namespace detail

std::vector<OffsetRange> offsetRanges(const DStream<ConsumerRecord>& stream, Time t) {
  const auto* source = dynamic_cast<const detail::OffsetRangeSource*>(stream.node().get());
  if (!source) {
    throw Error(ErrorCode::kInvalidArgument,
                "offsetRanges: the stream is not a Kafka direct stream (call it on what createDirectStream returned)");
  }
  return source->offsetRangesOf(t);
}

}  // namespace dstream::kafka
