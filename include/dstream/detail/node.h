// The untyped graph that the engine schedules, and the typed node that per-batch code is
// written against. Node's virtuals run once per batch (Spark's DStream.compute); the
// per-record work happens inside the typed subclasses, in inlined templates.
//
// Thread-safety: nodes belong to the batch thread once the context starts; they are built
// on the user's thread before start().
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {
class BinaryWriter;
class BinaryReader;
}  // namespace dstream

namespace dstream::detail {

class ContextCore;

class Node {
 public:
  Node(ContextCore* context, std::string kind, std::vector<Node*> parents, Duration slide);
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  ContextCore& context() const { return *context_; }
  // The operation that made this node ("map", "window", "socketTextStream"...).
  const std::string& kind() const { return kind_; }
  // Definition order: the default identity of a node in a checkpoint.
  int id() const { return id_; }
  void setId(int id) { id_ = id; }
  // A user-given stable name (Flink's uid); empty when none was given.
  const std::string& uid() const { return uid_; }
  void setUid(std::string uid) { uid_ = std::move(uid); }
  // The state snapshot interval this stream asked for with checkpoint(interval), if any.
  std::optional<Duration> checkpointInterval() const { return checkpointInterval_; }
  void setCheckpointInterval(Duration d) { checkpointInterval_ = d; }
  const std::vector<Node*>& parents() const { return parents_; }

  // How often this stream produces a batch: the batch duration, or a window's slide.
  Duration slideDuration() const { return slide_; }
  Duration rememberDuration() const { return remember_; }
  // Keeps generated batches for at least `d`; windows ask their parents for more.
  virtual void rememberAtLeast(Duration d);

  // Called once by start(): batch times are zeroTime + k * slideDuration.
  virtual void initialize(Time zeroTime);
  Time zeroTime() const { return zeroTime_; }
  bool isTimeValid(Time t) const;

  // Forgets generated batches that no stream needs after batch `t`.
  virtual void clearOldData(Time t) = 0;

  // A node that must see every batch as it happens (one that keeps compact copies of its
  // parent's batches instead of asking the parent to remember them) says so here; the
  // engine then computes it every batch, in definition order, before the outputs run.
  virtual bool computesEveryBatch() const { return false; }
  virtual void computeBatch(Time t) = 0;

  // Checkpoint hooks, for nodes that carry state across batches.
  virtual bool hasState() const { return false; }
  virtual void writeState(BinaryWriter&) const {}
  virtual void readState(BinaryReader&) {}

 protected:
  ContextCore* context_;
  std::string kind_;
  std::vector<Node*> parents_;
  Duration slide_;
  Duration remember_;
  Time zeroTime_{};
  int id_ = -1;
  std::string uid_;
  std::optional<Duration> checkpointInterval_;
};

template <class T>
class TypedNode : public Node {
 public:
  using Node::Node;
  using value_type = T;

  // The batch at `t`, computed once and remembered; nullopt when this stream has no batch
  // at `t` (a window between slides). Computes only on the batch thread.
  std::optional<RDD<T>> getOrCompute(Time t) {
    if (auto rdd = remembered(t)) return rdd;
    if (!isTimeValid(t)) return std::nullopt;
    auto rdd = compute(t);
    if (rdd) {
      std::lock_guard lock(generatedMu_);
      generated_.emplace(t, *rdd);
    }
    return rdd;
  }

  // How many generated batches this node remembers (tests check that windows free memory).
  std::size_t numRemembered() const {
    std::lock_guard lock(generatedMu_);
    return generated_.size();
  }
  // The batch at `t` if it is remembered; never computes (checkpoints read windows with it,
  // slice() from other threads). Thread-safe.
  std::optional<RDD<T>> remembered(Time t) const {
    std::lock_guard lock(generatedMu_);
    auto it = generated_.find(t);
    return it == generated_.end() ? std::nullopt : std::optional<RDD<T>>(it->second);
  }

  void computeBatch(Time t) override { getOrCompute(t); }

  void clearOldData(Time t) override {
    std::lock_guard lock(generatedMu_);
    generated_.erase(generated_.begin(), generated_.upper_bound(t - remember_));
  }

 protected:
  // One virtual call per batch.
  virtual std::optional<RDD<T>> compute(Time t) = 0;

 private:
  // Other threads read remembered batches (slice() while the context runs): a few lock
  // operations per batch, never per record.
  mutable std::mutex generatedMu_;
  std::map<Time, RDD<T>> generated_;  // guarded by generatedMu_
};

// Sources: started before the first batch, stopped first on stop().
class InputNode {
 public:
  virtual ~InputNode() = default;
  virtual void startInput() {}
  virtual void stopInput() {}
  // Records this source contributed to batch `t` (computes its batch if needed).
  virtual long recordsFor(Time t) = 0;

  // Checkpoint hooks (doc/recovery.md), called on the batch thread. A source that cannot be
  // replayed (queueStream) keeps the defaults: it writes nothing and restarts empty.
  //
  // Called by start() before startInput(). `checkpointDir` is empty without ssc.checkpoint();
  // inputs of the batches of the last `keepFor` must stay readable. Throws Error to refuse
  // (a write-ahead log without a checkpoint directory).
  virtual void prepareCheckpointing(const std::filesystem::path& /*checkpointDir*/, Duration /*keepFor*/) {}
  // Writes what the batches in (after, upTo] read, so that recovery can read it again.
  virtual void writeInputs(BinaryWriter& /*w*/, Time /*after*/, Time /*upTo*/) const {}
  // Reads what writeInputs wrote: batches up to `upTo` then re-read those inputs, later ones
  // read new data. Called after prepareCheckpointing, before startInput(). Throws
  // Error(kDataLoss) for malformed bytes.
  virtual void readInputs(BinaryReader& /*r*/, Time /*upTo*/) {}
  // No batch before `oldest` will be re-read: logs of them may go.
  virtual void forgetInputsBefore(Time /*oldest*/) {}
};

}  // namespace dstream::detail
