// GroupMember: one process's share of a consumer group. A librdkafka consumer joins the group
// only to learn which partitions are this process's (it fetches nothing: its partitions stay
// paused); each assigned partition runs a streaming context of its own, recovered with
// getOrCreate from the partition's checkpoint directory on shared storage.
#include "dstream/kafka_group.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "dstream/error.h"
#include "dstream/log.h"
#include "kafka/kafka_config.h"

namespace dstream::kafka {
namespace {

using detail::nameOf;
using detail::PartitionList;

std::string param(const GroupOptions& o, const std::string& key, const std::string& otherwise = "") {
  auto it = o.kafkaParams.find(key);
  return it == o.kafkaParams.end() ? otherwise : it->second;
}

std::vector<TopicPartition> partitionsOf(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

// An exclusive lock on a partition's lock file, held while this member runs the partition: a
// member that still runs it (a rebalance seen late) makes the new owner wait, never share.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw Error(ErrorCode::kFailedPrecondition, "GroupMember: cannot open lock file " + file.string() + ": " + std::strerror(errno));
    }
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  bool tryLock() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

 private:
  int fd_ = -1;
};

}  // namespace

struct GroupMember::Impl {
  struct PartitionRun {
    std::unique_ptr<DirectoryLock> lock;
    std::unique_ptr<StreamingContext> context;
  };

  GroupOptions options;
  PartitionProgram program;
  LogSink log;
  rd_kafka_t* consumer = nullptr;
  bool earliest = false;

  std::thread poller;
  std::atomic<bool> stopping{false};
  bool started = false;  // guarded by mu

  mutable std::mutex mu;
  std::condition_variable done;
  std::map<TopicPartition, PartitionRun> running;  // guarded by mu; changed on the poll thread
  std::exception_ptr failure;                      // guarded by mu
  bool ended = false;                              // guarded by mu
  std::mutex endMu;                                // held while end() runs

  void info(const std::string& message) { dstream::detail::logLine(log, LogLevel::kInfo, "GroupMember: " + message); }

  std::filesystem::path directoryOf(const TopicPartition& tp) const {
    return std::filesystem::path(options.checkpointRoot) / nameOf(tp);
  }

  // Where a partition without a checkpoint begins: what the program says (startOffsetOf),
  // else the group's committed offset (an exactly-once sink commits its input's offsets
  // there on a real cluster), else auto.offset.reset.
  std::int64_t startOffset(const TopicPartition& tp) {
    if (options.startOffsetOf) {
      if (std::optional<std::int64_t> offset = options.startOffsetOf(tp)) return *offset;
    }
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
    if (rd_kafka_committed(consumer, list.get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[0].err == 0 &&
        list->elems[0].offset >= 0) {
      return list->elems[0].offset;
    }
    std::int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer, tp.topic.c_str(), tp.partition, &low, &high, 30000);
    if (err) {
      throw Error(ErrorCode::kUnavailable, "GroupMember: cannot read the offsets of " + nameOf(tp) + ": " + rd_kafka_err2str(err));
    }
    return earliest ? low : high;
  }

  std::unique_ptr<StreamingContext> makeContext(const TopicPartition& tp) {
    auto directory = directoryOf(tp).string();
    return StreamingContext::getOrCreate(directory, [&] {
      auto ssc = std::make_unique<StreamingContext>("local[" + std::to_string(options.workersPerPartition) + "]", options.batchDuration, options.context);
      ssc->checkpoint(directory);
      if (options.stateCheckpointInterval > Duration(0)) ssc->setStateCheckpointInterval(options.stateCheckpointInterval);
      DirectStreamOptions d;
      d.kafkaParams = options.kafkaParams;
      d.kafkaParams.erase("partition.assignment.strategy");  // the group's, not the stream's
      d.fromOffsets = {{tp, startOffset(tp)}};
      d.maxRatePerPartition = options.maxRatePerPartition;
      auto records = createDirectStream(*ssc, std::move(d));
      program(*ssc, records, tp);
      return ssc;
    });
  }

  // Runs on the poll thread: takes each partition's lock (those still held by their previous
  // owner are waited for, the others start meanwhile), then recovers and starts its context. A
  // partition that fails to start fails the member.
  void startPartitions(std::vector<TopicPartition> pending) {
    std::vector<std::pair<TopicPartition, std::unique_ptr<DirectoryLock>>> waiting;
    try {
      std::filesystem::create_directories(options.checkpointRoot);
      for (const auto& tp : pending) {
        waiting.emplace_back(tp, std::make_unique<DirectoryLock>(std::filesystem::path(options.checkpointRoot) / (nameOf(tp) + ".lock")));
      }
    } catch (const std::exception& e) {
      fail(std::make_exception_ptr(Error(ErrorCode::kFailedPrecondition, std::string("GroupMember: ") + e.what())));
      return;
    }
    bool announced = false;
    while (!waiting.empty() && !stopping) {
      for (auto it = waiting.begin(); it != waiting.end() && !stopping;) {
        if (!it->second->tryLock()) {
          ++it;
          continue;
        }
        if (!run(it->first, std::move(it->second))) return;
        it = waiting.erase(it);
      }
      if (waiting.empty()) break;
      if (!announced) {
        std::string names;
        for (const auto& [tp, lock] : waiting) names += (names.empty() ? "" : ", ") + nameOf(tp);
        info("waiting for " + names + ": the previous owner still holds the lock");
        announced = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  bool run(const TopicPartition& tp, std::unique_ptr<DirectoryLock> lock) {
    PartitionRun run;
    run.lock = std::move(lock);
    try {
      run.context = makeContext(tp);
      bool recovering = run.context->isRecovering();
      run.context->start();
      info("runs " + nameOf(tp) + (recovering ? ", recovered from " : ", fresh, checkpointing to ") + directoryOf(tp).string());
    } catch (const std::exception& e) {
      fail(std::make_exception_ptr(Error(ErrorCode::kInternal, "GroupMember: partition " + nameOf(tp) + " could not start: " + e.what())));
      return false;
    }
    std::lock_guard guard(mu);
    running[tp] = std::move(run);
    return true;
  }

  void stopPartitions(const std::vector<TopicPartition>& partitions) {
    for (const auto& tp : partitions) {
      PartitionRun run;
      {
        std::lock_guard lock(mu);
        auto it = running.find(tp);
        if (it == running.end()) continue;
        run = std::move(it->second);
        running.erase(it);
      }
      run.context->stop(false);  // the running batch finishes; the checkpoint is the hand-over
      info("stopped " + nameOf(tp));
    }  // the lock goes with `run`, after its context
  }

  void fail(std::exception_ptr error) {
    {
      std::lock_guard lock(mu);
      if (!failure) failure = error;
    }
    stopping = true;
    done.notify_all();
  }

  // A partition's context that stopped without being asked to has failed: that fails the
  // member, as a failed batch fails a context.
  void checkContexts() {
    std::vector<std::pair<TopicPartition, StreamingContext*>> stopped;
    {
      std::lock_guard lock(mu);
      for (auto& [tp, run] : running) {
        if (run.context->getState() == StreamingContext::State::kStopped) stopped.emplace_back(tp, run.context.get());
      }
    }
    for (auto& [tp, context] : stopped) {
      try {
        context->awaitTermination();
        fail(std::make_exception_ptr(Error(ErrorCode::kInternal, "GroupMember: partition " + nameOf(tp) + " stopped")));
      } catch (const std::exception& e) {
        fail(std::make_exception_ptr(Error(ErrorCode::kInternal, "GroupMember: partition " + nameOf(tp) + " failed: " + e.what())));
      }
    }
  }

  static void onRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) rd_kafka_error_destroy(e);
      } else {
        rd_kafka_assign(rk, partitions);
      }
      rd_kafka_pause_partitions(rk, partitions);  // the partitions' own contexts read them
      self->startPartitions(partitionsOf(partitions));
    } else {
      // Revoked, or lost (the member was too slow and is no longer in the group): either way
      // another member may take them now.
      self->stopPartitions(partitionsOf(partitions));
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) rd_kafka_error_destroy(e);
      } else {
        rd_kafka_assign(rk, nullptr);
      }
    }
  }

  void pollLoop() {
    while (!stopping) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100)) {
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          dstream::detail::logLine(log, LogLevel::kWarning, std::string("GroupMember: ") + rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
      }
      checkContexts();
    }
  }

  void end() {
    std::lock_guard ending(endMu);  // stop() from several threads: one ends, the others wait
    {
      std::lock_guard lock(mu);
      if (ended) return;
    }
    stopping = true;
    if (poller.joinable() && poller.get_id() != std::this_thread::get_id()) poller.join();
    if (consumer) {
      rd_kafka_consumer_close(consumer);  // leaves the group; the revocation stops the partitions
      rd_kafka_destroy(consumer);
      consumer = nullptr;
    }
    std::vector<TopicPartition> left;
    {
      std::lock_guard lock(mu);
      for (auto& [tp, run] : running) left.push_back(tp);
    }
    stopPartitions(left);
    std::lock_guard lock(mu);
    ended = true;
    done.notify_all();
  }
};

GroupMember::GroupMember(GroupOptions options, PartitionProgram program) : impl_(std::make_shared<Impl>()) {
  auto& o = impl_->options;
  o = std::move(options);
  impl_->program = std::move(program);
  impl_->log = o.context.log ? o.context.log : stderrLogSink(LogLevel::kInfo);
  if (param(o, "bootstrap.servers").empty()) throw Error(ErrorCode::kInvalidArgument, "GroupMember: kafkaParams must set bootstrap.servers");
  if (param(o, "group.id").empty()) throw Error(ErrorCode::kInvalidArgument, "GroupMember: kafkaParams must set group.id");
  if (o.topics.empty()) throw Error(ErrorCode::kInvalidArgument, "GroupMember: topics is empty");
  if (o.checkpointRoot.empty()) throw Error(ErrorCode::kInvalidArgument, "GroupMember: checkpointRoot is empty (storage every member shares)");
  if (o.batchDuration <= Duration(0)) throw Error(ErrorCode::kInvalidArgument, "GroupMember: batchDuration must be positive");
  if (o.workersPerPartition < 1) throw Error(ErrorCode::kInvalidArgument, "GroupMember: workersPerPartition must be >= 1");
  if (!impl_->program) throw Error(ErrorCode::kInvalidArgument, "GroupMember: the partition program is empty");
  std::string reset = param(o, "auto.offset.reset", "latest");
  impl_->earliest = reset == "earliest" || reset == "smallest" || reset == "beginning";
  if (!impl_->earliest && reset != "latest" && reset != "largest" && reset != "end") {
    throw Error(ErrorCode::kInvalidArgument, "GroupMember: auto.offset.reset '" + reset + "' is not one of latest, earliest");
  }
  detail::KafkaConfig conf("GroupMember");
  conf.set("partition.assignment.strategy", "cooperative-sticky");
  for (const auto& [k, v] : o.kafkaParams) conf.set(k, v);
  conf.set("enable.auto.commit", "false");
  conf.set("enable.partition.eof", "false");
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::onRebalance);
  // librdkafka's own lines (a broker down, a retry) go to the member's log.
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    auto* impl = static_cast<Impl*>(rd_kafka_opaque(rk));
    dstream::detail::logLine(impl->log, detail::logLevelOf(level), std::string("GroupMember: librdkafka ") + facility + ": " + text);
  });
  impl_->consumer = conf.newClient(RD_KAFKA_CONSUMER);
  rd_kafka_poll_set_consumer(impl_->consumer);
}

GroupMember::~GroupMember() { stop(); }

void GroupMember::start() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started) throw Error(ErrorCode::kFailedPrecondition, "GroupMember: start() called twice");
    impl_->started = true;
  }
  detail::PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(impl_->options.topics.size())));
  for (const auto& t : impl_->options.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(impl_->consumer, topics.get())) {
    throw Error(ErrorCode::kInvalidArgument, std::string("GroupMember: cannot subscribe: ") + rd_kafka_err2str(err));
  }
  impl_->info("joins group " + param(impl_->options, "group.id"));
  impl_->poller = std::thread([impl = impl_.get()] { impl->pollLoop(); });
}

void GroupMember::stop() { impl_->end(); }

void GroupMember::awaitTermination() {
  {
    std::unique_lock lock(impl_->mu);
    impl_->done.wait(lock, [&] { return impl_->ended || impl_->failure != nullptr; });
  }
  stop();
  std::lock_guard lock(impl_->mu);
  if (impl_->failure) std::rethrow_exception(impl_->failure);
}

std::vector<TopicPartition> GroupMember::assignment() const {
  std::lock_guard lock(impl_->mu);
  std::vector<TopicPartition> out;
  for (const auto& [tp, run] : impl_->running) out.push_back(tp);
  return out;
}

}  // namespace dstream::kafka
