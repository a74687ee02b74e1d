// The Kafka direct stream's node: decides each batch's offset ranges, fetches exactly those
// records with a librdkafka consumer that keeps its partitions assigned across batches, and
// records the ranges in the checkpoint (ReplayLog) so that re-run batches read them again.
#include <librdkafka/rdkafka.h>
#include <regex.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dstream/detail/input_node.h"
#include "dstream/error.h"
#include "dstream/kafka.h"
#include "dstream/log.h"
#include "dstream/rdd.h"
#include "kafka/kafka_config.h"
#include "sources/rate_controller.h"
#include "sources/replay_log.h"

namespace dstream::kafka {
namespace {

using dstream::detail::Graph;
using Clock = std::chrono::steady_clock;

struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};

using detail::nameOf;
using detail::PartitionList;

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

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

// A partition the consumer keeps assigned from batch to batch: librdkafka prefetches its
// records into a queue of its own, where records past a batch's range wait for the next one.
struct AssignedPartition {
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue;
  // Every offset before this one was read (or never comes as a record): a range starting here
  // reads on from the queue; -1 when unknown (a seek failed).
  std::int64_t readTo = 0;
  // Records taken from the queue past a range's end (after offsets the broker skipped): the
  // first records of the next range.
  std::deque<Message> ahead;
};

// One Kafka partition's records of one batch: the bytes and the records that view them.
struct PartitionData {
  std::string topic;
  std::string bytes;
  std::vector<ConsumerRecord> records;
  // Where each record's key, value and header names and values are in `bytes`, as (offset,
  // length) pairs, by record: views are made once `bytes` stops growing (fixViews).
  std::vector<std::vector<std::size_t>> spans;

  void add(const rd_kafka_message_t& m) {
    auto& s = spans.emplace_back();
    s.push_back(bytes.size());
    if (m.key) bytes.append(static_cast<const char*>(m.key), m.key_len);
    s.push_back(m.key_len);
    s.push_back(bytes.size());
    if (m.payload) bytes.append(static_cast<const char*>(m.payload), m.len);
    s.push_back(m.len);
    rd_kafka_headers_t* headers = nullptr;
    if (!rd_kafka_message_headers(&m, &headers)) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t h = 0; !rd_kafka_header_get_all(headers, h, &name, &value, &size); ++h) {
        s.push_back(bytes.size());
        bytes.append(name);
        s.push_back(std::strlen(name));
        s.push_back(bytes.size());
        if (value) bytes.append(static_cast<const char*>(value), size);
        s.push_back(value ? size : 0);
      }
    }
    ConsumerRecord& r = records.emplace_back();
    r.partition = m.partition;
    r.offset = m.offset;
    rd_kafka_timestamp_type_t tsType;
    r.timestamp = rd_kafka_message_timestamp(&m, &tsType);
    r.hasKey = m.key != nullptr;
  }

  void fixViews() {
    const char* base = bytes.data();
    for (std::size_t k = 0; k < records.size(); ++k) {
      ConsumerRecord& r = records[k];
      const auto& s = spans[k];
      r.topic = topic;
      r.key = std::string_view(base + s[0], s[1]);
      r.value = std::string_view(base + s[2], s[3]);
      for (std::size_t h = 4; h + 3 < s.size(); h += 4) {
        r.headers.emplace_back(std::string_view(base + s[h], s[h + 1]), std::string_view(base + s[h + 2], s[h + 3]));
      }
    }
    spans = {};
  }
};

// topicPattern as a POSIX extended regular expression that must match a whole topic name.
// (POSIX's regcomp rather than std::regex: GCC 12's <regex> warns of uninitialized members in
// sanitizer builds.)
class TopicPattern {
 public:
  explicit TopicPattern(const std::string& pattern) {
    std::string whole = "^(" + pattern + ")$";
    if (int rc = ::regcomp(&compiled_, whole.c_str(), REG_EXTENDED | REG_NOSUB)) {
      char reason[256];
      ::regerror(rc, &compiled_, reason, sizeof reason);
      throw Error(ErrorCode::kInvalidArgument,
                  "createDirectStream: topicPattern '" + pattern + "' is not a regular expression: " + reason);
    }
  }
  ~TopicPattern() { ::regfree(&compiled_); }
  TopicPattern(const TopicPattern&) = delete;
  TopicPattern& operator=(const TopicPattern&) = delete;
  bool matches(const std::string& topic) const { return ::regexec(&compiled_, topic.c_str(), 0, nullptr, 0) == 0; }

 private:
  regex_t compiled_;
};

class DirectKafkaInputNode final : public dstream::detail::SourceNode<ConsumerRecord>, public detail::OffsetRangeSource {
 public:
  DirectKafkaInputNode(Graph* graph, DirectStreamOptions options)
      : SourceNode<ConsumerRecord>(graph, "directKafkaStream"), options_(std::move(options)) {
    auto bootstrap = options_.kafkaParams.find("bootstrap.servers");
    if (bootstrap == options_.kafkaParams.end() || bootstrap->second.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "createDirectStream: kafkaParams must set bootstrap.servers");
    }
    int ways = !options_.topics.empty() + !options_.topicPattern.empty() + !options_.fromOffsets.empty();
    if (ways != 1) {
      throw Error(ErrorCode::kInvalidArgument,
                  "createDirectStream: give one of topics (subscribe), topicPattern (subscribe by pattern) or fromOffsets "
                  "(assign), not " + std::string(ways == 0 ? "none" : "several"));
    }
    if (!options_.topicPattern.empty()) pattern_ = std::make_unique<TopicPattern>(options_.topicPattern);
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
    // With a queue per partition, librdkafka's prefetch limit applies to each partition (64 MiB
    // by default): lower unless kafkaParams say otherwise, as a rate-capped stream with a
    // backlog holds that much per partition from batch to batch.
    fetcher_ = makeConsumer({{"queued.max.messages.kbytes", "8192"}});
  }

  std::string inputName() const override {
    std::string topics;
    for (const auto& t : options_.topics) topics += (topics.empty() ? "" : ",") + t;
    if (pattern_) topics = "topics matching " + options_.topicPattern;
    if (topics.empty()) topics = std::to_string(options_.fromOffsets.size()) + " assigned partitions";
    return kind() + " " + topics;
  }

  void startInput() override {
    // Backpressure (Spark's rate controller for the direct stream): the PID estimate from the
    // completed batches caps the next ranges; nothing is published, decideRanges reads it.
    if (graph().backpressure().enabled && !rateController_) {
      rateController_ = std::make_shared<dstream::detail::ReceiverRateController>(
          inputStreamId(), graph().batchDuration(), graph().backpressure(), [](double) {});
      graph().addListener(rateController_);
    }
    if (replay_.recovering()) replayCommitted();
    // Where each partition known now begins, unless a checkpoint said so (readInputs).
    if (!next_.empty()) return;
    for (const auto& [tp, offset] : options_.fromOffsets) next_[tp] = offset;
    auto partitions = discoverPartitions();
    for (const auto& [tp, offset] : listOffsets(partitions, startAtEarliest_ ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END)) {
      next_[tp] = offset;
    }
    // The fetcher connects and starts prefetching now, before the first batch needs records.
    std::vector<OffsetRange> none;
    for (const auto& [tp, from] : next_) none.push_back({tp.topic, tp.partition, from, from});
    prepareQueues(none);
    started_ = true;
  }

  void commitAsync(std::vector<OffsetRange> ranges) override {
    if (!options_.kafkaParams.contains("group.id")) {
      throw Error(ErrorCode::kInvalidArgument, "commitAsync: the stream's kafkaParams have no group.id to commit for");
    }
    std::lock_guard lock(mu_);
    for (auto& r : ranges) toCommit_[{r.topic, r.partition}] = r.untilOffset;
  }

  void replayCommittedBatches(detail::CommitLogOf log) override {
    std::lock_guard lock(mu_);
    commitLogs_.push_back(std::move(log));
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
  // The ranges of the batches in (after, upTo], then where each partition's next batch
  // begins, as empty ranges: a checkpoint taken before any batch (the start checkpoint) must
  // still say where the stream started, which fromOffsets computed again may not.
  void writeInputs(BinaryWriter& w, Time after, Time upTo) const override {
    std::lock_guard lock(mu_);
    replay_.write(w, after, upTo);
    std::vector<OffsetRange> positions;
    for (const auto& [tp, offset] : next_) positions.push_back({tp.topic, tp.partition, offset, offset});
    RangesCodec::write(w, positions);
  }
  void readInputs(BinaryReader& r, Time upTo) override {
    std::lock_guard lock(mu_);
    replay_.read(r, upTo);
    if (!r.atEnd()) {  // absent in checkpoints written before the start checkpoint
      for (const auto& p : RangesCodec::read(r)) next_[{p.topic, p.partition}] = p.untilOffset;
    }
    if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
    // New batches go on where the last recovered batch ended.
    for (const auto& [t, ranges] : replay_.batches()) {
      for (const auto& range : ranges) {
        auto& next = next_[{range.topic, range.partition}];
        next = std::max(next, range.untilOffset);
      }
    }
  }

 protected:
  std::optional<RDD<ConsumerRecord>> compute(Time t) override {
    commitRequested();
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

  // A client with the user's kafkaParams over `defaults`.
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> makeConsumer(const std::map<std::string, std::string>& defaults = {}) const {
    detail::KafkaConfig conf("createDirectStream");
    for (const auto& [k, v] : defaults) conf.set(k, v);
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
      dstream::detail::logLine(node->log_, detail::logLevelOf(level), std::string("directKafkaStream: librdkafka ") + facility + ": " + text);
    });
    rd_kafka_conf_set_offset_commit_cb(conf.get(), [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t*, void*) {
      if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        auto* node = static_cast<DirectKafkaInputNode*>(rd_kafka_opaque(rk));
        dstream::detail::logLine(node->log_, LogLevel::kWarning, std::string("directKafkaStream: commitAsync: ") + rd_kafka_err2str(err));
      }
    });
    return std::unique_ptr<rd_kafka_t, ConsumerDeleter>(conf.newClient(RD_KAFKA_CONSUMER));
  }

  int timeoutMs() const {
    return static_cast<int>(std::min<std::int64_t>(options_.pollTimeout.count(), 60000));
  }

  // What commitAsync asked since the last batch, committed without waiting; the results
  // (failures are logged) come back through rd_kafka_poll.
  void commitRequested() {
    rd_kafka_poll(consumer_.get(), 0);
    std::map<TopicPartition, std::int64_t> offsets;
    {
      std::lock_guard lock(mu_);
      offsets.swap(toCommit_);
    }
    if (offsets.empty()) return;
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    if (rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), 1)) {
      warnOnce(std::string("commitAsync: offsets not committed: ") + rd_kafka_err2str(err));
    }
  }

  // The partitions of the subscribed topics now (with fromOffsets: none beyond those).
  std::vector<TopicPartition> discoverPartitions() {
    if (pattern_) return partitionsMatching();
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

  // The partitions of every topic whose name matches topicPattern now, from one metadata
  // request for all topics.
  std::vector<TopicPartition> partitionsMatching() {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_.get(), 1, nullptr, &md, timeoutMs());
    if (err) {
      throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot read the topics of " + param("bootstrap.servers", "") +
                                               " to match '" + options_.topicPattern + "': " + rd_kafka_err2str(err));
    }
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(md, rd_kafka_metadata_destroy);
    std::vector<TopicPartition> found;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& mt = md->topics[i];
      std::string name = mt.topic;
      if (name.starts_with("__") || !pattern_->matches(name)) continue;
      if (mt.err) {
        warnOnce("topic " + name + " (matching '" + options_.topicPattern + "'): " + rd_kafka_err2str(mt.err));
        continue;
      }
      for (int p = 0; p < mt.partition_cnt; ++p) found.push_back({name, mt.partitions[p].id});
    }
    return found;
  }

  // Where each of `partitions` is at `which`: RD_KAFKA_OFFSET_END gives its end now (the high
  // watermark), RD_KAFKA_OFFSET_BEGINNING its first offset still kept. One ListOffsets request
  // per leader for all of them (Kafka's ListOffsets takes -1 and -2 as "latest" and "earliest"
  // where a timestamp goes); rd_kafka_query_watermark_offsets would take two round trips per
  // partition.
  std::map<TopicPartition, std::int64_t> listOffsets(const std::vector<TopicPartition>& partitions, std::int64_t which) {
    std::map<TopicPartition, std::int64_t> found;
    if (partitions.empty()) return found;
    std::string failure;
    // A broker that is down or a leader that moves: librdkafka's own retries, then ours.
    for (int attempt = 0; attempt < 3; ++attempt) {
      PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
      for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = which;
      if (auto err = rd_kafka_offsets_for_times(consumer_.get(), list.get(), timeoutMs())) {
        failure = rd_kafka_err2str(err);
        continue;
      }
      failure.clear();
      for (int k = 0; k < list->cnt && failure.empty(); ++k) {
        const auto& e = list->elems[k];
        if (e.err) failure = nameOf({e.topic, e.partition}) + ": " + rd_kafka_err2str(e.err);
        found[{e.topic, e.partition}] = e.offset;
      }
      if (failure.empty()) return found;
    }
    std::string names;
    for (const auto& tp : partitions) names += (names.empty() ? "" : ", ") + nameOf(tp);
    throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot read the offsets of " + names + ": " + failure);
  }

  std::vector<TopicPartition> known() const {
    std::vector<TopicPartition> partitions;
    for (const auto& [tp, from] : next_) partitions.push_back(tp);
    return partitions;
  }

  // Every known partition from where the last batch ended to its end now (at most
  // maxRatePerPartition per second of batch). New partitions start at their beginning.
  std::vector<OffsetRange> decideRanges() {
    if (!options_.topics.empty() || pattern_) {
      std::vector<TopicPartition> appeared;
      for (const auto& tp : discoverPartitions()) {
        if (!next_.contains(tp)) appeared.push_back(tp);
      }
      for (const auto& [tp, low] : listOffsets(appeared, RD_KAFKA_OFFSET_BEGINNING)) {
        next_[tp] = low;
        if (started_) dstream::detail::logLine(log_, LogLevel::kInfo, "directKafkaStream: new partition " + nameOf(tp) + ", read from its beginning");
      }
    }
    auto partitions = known();
    auto lows = listOffsets(partitions, RD_KAFKA_OFFSET_BEGINNING);
    auto highs = listOffsets(partitions, RD_KAFKA_OFFSET_END);
    for (auto& [tp, from] : next_) {
      std::int64_t low = lows.at(tp);
      if (from < low) {
        dstream::detail::logLine(log_, LogLevel::kWarning, "directKafkaStream: " + nameOf(tp) + " offsets [" + std::to_string(from) +
                                        ", " + std::to_string(low) + ") were deleted by retention before they were read");
        from = low;
      }
    }
    auto caps = recordCaps(highs);
    std::vector<OffsetRange> ranges;
    for (auto& [tp, from] : next_) {
      std::int64_t until = std::max(from, highs.at(tp));
      if (auto cap = caps.find(tp); cap != caps.end()) until = std::min(until, from + cap->second);
      ranges.push_back({tp.topic, tp.partition, from, until});
    }
    return ranges;
  }

  // How many records each partition's next range may take, where anything limits it (Spark's
  // maxMessagesPerPartition): maxRatePerPartition, and with backpressure the estimated rate
  // (initialRate before the first estimate) shared out in proportion to each partition's lag.
  // At least one record per partition per batch, so a capped stream always moves.
  std::map<TopicPartition, std::int64_t> recordCaps(const std::map<TopicPartition, std::int64_t>& highs) const {
    // A plain double and a flag rather than std::optional: GCC 12 warns of a maybe-uninitialized
    // optional here.
    double estimate = 0;
    bool estimated = false;
    if (rateController_) {
      if (auto latest = rateController_->latestRate()) {
        estimate = *latest, estimated = true;
      } else if (graph().backpressure().initialRate > 0) {
        estimate = static_cast<double>(graph().backpressure().initialRate), estimated = true;
      }
    }
    std::map<TopicPartition, std::int64_t> caps;
    if (!estimated && options_.maxRatePerPartition <= 0) return caps;
    const double seconds = std::chrono::duration<double>(graph().batchDuration()).count();
    double totalLag = 0;
    for (const auto& [tp, from] : next_) totalLag += static_cast<double>(std::max<std::int64_t>(0, highs.at(tp) - from));
    for (const auto& [tp, from] : next_) {
      double rate = std::numeric_limits<double>::infinity();
      if (estimated) {
        double lag = static_cast<double>(std::max<std::int64_t>(0, highs.at(tp) - from));
        rate = totalLag > 0 ? estimate * lag / totalLag : estimate;
      }
      if (options_.maxRatePerPartition > 0) rate = std::min(rate, static_cast<double>(options_.maxRatePerPartition));
      caps[tp] = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(rate * seconds)));
    }
    return caps;
  }

  // The consumer keeps every partition it was given assigned from batch to batch, each with
  // a queue of its own, so that librdkafka's prefetching runs on between batches and a batch
  // starts with records already there. A range that does not start where its partition's
  // queue stands (a batch re-run after recovery, offsets lost to retention) seeks first.
  void prepareQueues(const std::vector<OffsetRange>& ranges) {
    PartitionList added(rd_kafka_topic_partition_list_new(0));
    PartitionList moved(rd_kafka_topic_partition_list_new(0));
    for (const auto& range : ranges) {
      TopicPartition tp{range.topic, range.partition};
      auto it = assigned_.find(tp);
      if (it == assigned_.end()) {
        auto& ap = assigned_[tp];
        ap.queue.reset(rd_kafka_queue_get_partition(fetcher_.get(), tp.topic.c_str(), tp.partition));
        if (!ap.queue) {
          assigned_.erase(tp);
          throw Error(ErrorCode::kUnavailable, "directKafkaStream: librdkafka has no queue for " + nameOf(tp));
        }
        // Before the assignment: the partition's records go to its own queue, never to the
        // consumer's shared one.
        rd_kafka_queue_forward(ap.queue.get(), nullptr);
        ap.readTo = range.fromOffset;
        rd_kafka_topic_partition_list_add(added.get(), tp.topic.c_str(), tp.partition)->offset = range.fromOffset;
      } else if (range.count() > 0 && it->second.readTo != range.fromOffset) {
        it->second.ahead.clear();
        it->second.readTo = range.fromOffset;
        rd_kafka_topic_partition_list_add(moved.get(), tp.topic.c_str(), tp.partition)->offset = range.fromOffset;
      }
    }
    if (added->cnt > 0) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_assign(fetcher_.get(), added.get())) {
        std::string what = rd_kafka_error_string(error);
        rd_kafka_error_destroy(error);
        for (int k = 0; k < added->cnt; ++k) assigned_.erase({added->elems[k].topic, added->elems[k].partition});
        throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot assign the batch's partitions: " + what);
      }
    }
    if (moved->cnt > 0) {
      // With a timeout: the seek completes before the batch reads, so no record prefetched
      // from the old position reaches it.
      if (rd_kafka_error_t* error = rd_kafka_seek_partitions(fetcher_.get(), moved.get(), timeoutMs())) {
        std::string what = rd_kafka_error_string(error);
        rd_kafka_error_destroy(error);
        for (int k = 0; k < moved->cnt; ++k) assigned_.at({moved->elems[k].topic, moved->elems[k].partition}).readTo = -1;
        throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot seek to the batch's offsets: " + what);
      }
      for (int k = 0; k < moved->cnt; ++k) {
        const auto& e = moved->elems[k];
        if (e.err) {
          assigned_.at({e.topic, e.partition}).readTo = -1;  // unknown: seek again next time
          throw Error(ErrorCode::kUnavailable, "directKafkaStream: cannot seek " + nameOf({e.topic, e.partition}) + " to offset " +
                                                   std::to_string(e.offset) + ": " + rd_kafka_err2str(e.err));
        }
      }
    }
  }

  // Reads the records of `range` from its partition's queue into `pd` until `deadline`;
  // returns the first offset not read (range.untilOffset when it is complete).
  std::int64_t readRange(const OffsetRange& range, AssignedPartition& ap, Clock::time_point deadline, PartitionData& pd,
                         std::string& lastError) {
    std::int64_t next = range.fromOffset;
    auto take = [&](Message m) {
      if (m->offset < next) return;  // prefetched before a seek: not this range's
      if (m->offset >= range.untilOffset) {
        // Past offsets the broker skipped: the next range's first record.
        ap.ahead.push_back(std::move(m));
        next = range.untilOffset;
        return;
      }
      pd.add(*m);
      next = m->offset + 1;
    };
    while (!ap.ahead.empty()) {
      Message m = std::move(ap.ahead.front());
      ap.ahead.pop_front();
      take(std::move(m));
    }
    std::vector<rd_kafka_message_t*> batch;
    PartitionList position(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(position.get(), range.topic.c_str(), range.partition);
    while (next < range.untilOffset && Clock::now() < deadline) {
      // Never more than the range still needs: records past its end stay in the queue.
      batch.resize(static_cast<std::size_t>(std::min<std::int64_t>(range.untilOffset - next, 10000)));
      ssize_t n = rd_kafka_consume_batch_queue(ap.queue.get(), 100, batch.data(), batch.size());
      for (ssize_t k = 0; k < n; ++k) {
        Message m(batch[static_cast<std::size_t>(k)]);
        if (m->err) {
          if (rd_kafka_fatal_error(fetcher_.get(), nullptr, 0)) {
            throw Error(ErrorCode::kUnavailable, std::string("directKafkaStream: fatal consumer error: ") + rd_kafka_message_errstr(m.get()));
          }
          lastError = rd_kafka_message_errstr(m.get());  // transient: librdkafka retries
          continue;
        }
        take(std::move(m));
      }
      // Offsets the broker will never deliver as records (transaction markers, compacted
      // records) come to no queue: the consumer's position moves past them.
      if (n <= 0 && !rd_kafka_position(fetcher_.get(), position.get()) && position->elems[0].offset >= range.untilOffset) {
        next = range.untilOffset;
      }
    }
    ap.readTo = next;
    return next;
  }

  // Reads exactly the records of `ranges`: one RDD partition per Kafka partition, read from
  // their queues in parallel on the context's workers.
  RDD<ConsumerRecord> fetch(const std::vector<OffsetRange>& ranges) {
    prepareQueues(ranges);
    std::vector<std::shared_ptr<PartitionData>> data(ranges.size());
    std::vector<std::int64_t> reached(ranges.size());
    std::vector<std::string> errors(ranges.size());
    const auto deadline = Clock::now() + options_.pollTimeout;
    dstream::detail::forEachIndex(graph().pool().get(), ranges.size(), [&](std::size_t i) {
      data[i] = std::make_shared<PartitionData>();
      data[i]->topic = ranges[i].topic;
      reached[i] = ranges[i].fromOffset;
      if (ranges[i].count() > 0) {
        reached[i] = readRange(ranges[i], assigned_.at({ranges[i].topic, ranges[i].partition}), deadline, *data[i], errors[i]);
      }
      data[i]->fixViews();
    });
    std::string missing, lastError;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (!errors[i].empty()) lastError = errors[i];
      if (reached[i] < ranges[i].untilOffset) {
        missing += (missing.empty() ? "" : ", ") + nameOf({ranges[i].topic, ranges[i].partition}) + " [" +
                   std::to_string(reached[i]) + ", " + std::to_string(ranges[i].untilOffset) + ")";
      }
    }
    // The consumer's shared queue gets no records, only the consumer's own errors.
    while (Message m{rd_kafka_consumer_poll(fetcher_.get(), 0)}) {
      if (m->err) lastError = rd_kafka_message_errstr(m.get());
    }
    if (!missing.empty()) {
      throw Error(ErrorCode::kUnavailable, "directKafkaStream: the batch's records did not arrive within " +
                                               formatDuration(options_.pollTimeout) + ": " + missing +
                                               (lastError.empty() ? "" : "; last error: " + lastError));
    }
    dstream::detail::Partitions<ConsumerRecord> parts;
    dstream::detail::Owners owners;
    for (auto& pd : data) {
      parts.push_back(dstream::detail::PartitionPtr<ConsumerRecord>(pd, &pd->records));
      owners.push_back(pd);
    }
    return dstream::detail::makeRDD<ConsumerRecord>(std::move(parts), std::move(owners), graph().pool());
  }

  // Recovering: the batches the exactly-once sinks committed after the checkpoint's last
  // re-read what their commit records say they read. Batch ranges follow each other per
  // partition, so a batch whose record is gone (compaction keeps each id's newest) read what
  // lies between its neighbours' ranges.
  void replayCommitted() {
    std::vector<detail::CommitLogOf> logs;
    Time checkpointed;
    {
      std::lock_guard lock(mu_);
      logs = commitLogs_;
      checkpointed = *replay_.replayUntil();
    }
    std::map<Time, std::vector<OffsetRange>> committed;
    for (const auto& log : logs) {
      for (auto& batch : readCommittedBatches(log.kafkaParams, log.commitTopic, log.timeout)) {
        if (batch.transactionalId == log.transactionalId && batch.batchTime > checkpointed && !batch.read.empty()) {
          committed.insert_or_assign(batch.batchTime, std::move(batch.read));
        }
      }
    }
    if (committed.empty()) return;
    std::lock_guard lock(mu_);
    std::map<TopicPartition, std::int64_t> at = next_;  // where the checkpoint's batches ended
    const Duration d = graph().batchDuration();
    Time previous = checkpointed;
    for (const auto& [t, ranges] : committed) {
      if (t > previous + d) {  // batches without a record: the first reads what lies between
        std::vector<OffsetRange> between;
        for (const auto& r : ranges) {
          auto from = at.find({r.topic, r.partition});
          if (from != at.end() && from->second < r.fromOffset) between.push_back({r.topic, r.partition, from->second, r.fromOffset});
        }
        replay_.replayAlso(previous + d, std::move(between));
      }
      for (const auto& r : ranges) at[{r.topic, r.partition}] = r.untilOffset;
      replay_.replayAlso(t, ranges);
      previous = t;
    }
    dstream::detail::logLine(log_, LogLevel::kInfo,
                             "directKafkaStream: batches " + std::to_string(toMillis(checkpointed + d)) + " to " +
                                 std::to_string(toMillis(committed.rbegin()->first)) +
                                 " ms committed after the checkpoint; they re-read the ranges their commit records name");
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
  // Two clients, as Spark's driver and executor consumers: consumer_ asks for partitions and
  // offsets, fetcher_ reads records. Apart, because a broker answers a connection's requests
  // in order: on fetcher_'s connections, each question would wait behind a fetch that waits
  // for new records (fetch.wait.max.ms, 500 ms by default).
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> consumer_;
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> fetcher_;
  std::map<TopicPartition, std::int64_t> next_;  // where each partition's next batch begins
  std::vector<detail::CommitLogOf> commitLogs_;  // of the exactly-once sinks of this stream's offsets
  // Declared after fetcher_: the queues and the records held go before the fetcher closes.
  std::map<TopicPartition, AssignedPartition> assigned_;
  std::set<std::string> warned_;
  std::shared_ptr<dstream::detail::ReceiverRateController> rateController_;  // with backpressure
  std::unique_ptr<TopicPattern> pattern_;            // topicPattern, compiled
  std::map<TopicPartition, std::int64_t> toCommit_;  // commitAsync's offsets; guarded by mu_
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

void commitAsync(const DStream<ConsumerRecord>& stream, std::vector<OffsetRange> ranges) {
  auto* source = dynamic_cast<detail::OffsetRangeSource*>(stream.node().get());
  if (!source) {
    throw Error(ErrorCode::kInvalidArgument,
                "commitAsync: the stream is not a Kafka direct stream (call it on what createDirectStream returned)");
  }
  source->commitAsync(std::move(ranges));
}

}  // namespace dstream::kafka
