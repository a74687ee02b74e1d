// The untyped graph that the engine schedules, and the typed node that per-batch code is
// written against. Node's virtuals run once per batch (Spark's DStream.compute); the
// per-record work happens inside the typed subclasses, in inlined templates.
//
// Thread-safety: nodes belong to the batch thread once the context starts; they are built
// on the user's thread before start().
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dstream/detail/graph.h"
#include "dstream/export.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {
class BinaryWriter;
class BinaryReader;
}  // namespace dstream

namespace dstream::detail {

class InputNode;

// What a stateful node holds after a batch: its keys, and an estimate of the bytes of its
// state (state_size.h says what is counted).
struct StateSize {
  std::int64_t keys = 0;
  std::int64_t bytes = 0;
};

class DSTREAM_EXPORT Node {
 public:
  Node(Graph* graph, std::string kind, std::vector<Node*> parents, Duration slide);
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The graph this node belongs to (its context, as nodes see it).
  Graph& graph() const { return *graph_; }
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
  // A stateful node whose state type has no Serializer names that type here, so that
  // start() with a checkpoint directory refuses it by name; empty otherwise.
  virtual std::string stateTypeWithoutSerializer() const { return {}; }
  // A node that keeps keyed state across batches (updateStateByKey, mapWithState, keyed
  // windows) says how much it holds; nullopt for the others. The engine asks at the end of
  // each batch, on the batch thread (BatchInfo::stateInfos): it must be cheap, about O(number
  // of partitions), never a pass over the keys.
  virtual std::optional<StateSize> stateSize() const { return std::nullopt; }

  // The source side of a source node (SourceNode<T> in input_node.h); null for other nodes.
  virtual InputNode* asSource() { return nullptr; }

 protected:
  Graph* graph_;
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

}  // namespace dstream::detail
