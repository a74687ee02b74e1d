// The state behind a StreamingContext that stream handles share: the graph of nodes, the
// output operations, the worker pool and the batch loop. The public StreamingContext is a
// thin facade over it; DStream handles keep it alive.
//
// Thread-safety: the graph is built on the user's thread before start() and belongs to the
// batch thread afterwards; lifecycle calls (start, stop, await*) are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dstream/clock.h"
#include "dstream/detail/node.h"
#include "dstream/detail/thread_pool.h"
#include "dstream/listener.h"
#include "dstream/time.h"

namespace dstream::detail {

struct OutputOperation {
  Node* node;
  std::string kind;                 // "pprint", "foreachRDD", "saveAsTextFiles"...
  std::function<void(Time)> run;    // computes the node's batch and consumes it
};

class CheckpointManager;

class ContextCore {
 public:
  ContextCore(int workers, Duration batchDuration, std::shared_ptr<Clock> clock);
  ~ContextCore();

  Duration batchDuration() const { return batchDuration_; }
  const std::shared_ptr<ThreadPool>& pool() const { return pool_; }
  int defaultParallelism() const { return pool_->workers(); }
  Clock& clock() const { return *clock_; }

  // Throws Error(kFailedPrecondition) naming `operation` once the context has started.
  void checkCanDefine(std::string_view operation) const;

  // Adds a node to the graph. REQUIRES: the context has not started.
  template <class N, class... Args>
  std::shared_ptr<N> addNode(Args&&... args) {
    auto node = std::make_shared<N>(this, std::forward<Args>(args)...);
    registerNode(node, dynamic_cast<InputNode*>(node.get()));
    return node;
  }
  void addOutput(OutputOperation output);
  void addListener(std::shared_ptr<StreamingListener> listener);

  // Checkpointing (see StreamingContext::checkpoint and doc/recovery.md).
  // Opens `directory` for checkpoints. Throws as CheckpointManager's constructor, and
  // Error(kFailedPrecondition) after start().
  void setCheckpointDirectory(std::string_view directory);
  // The directory, or empty when there is none.
  std::string checkpointDirectory() const;
  // Throws Error(kInvalidArgument) unless `d` is a positive multiple of the batch duration,
  // Error(kFailedPrecondition) without a checkpoint directory or after start().
  void setStateCheckpointInterval(Duration d);
  // Looks for a checkpoint to restore at start(); returns whether one was found.
  // REQUIRES: a checkpoint directory was set.
  bool loadCheckpoint();

  // Lifecycle (see StreamingContext).
  void start();
  void stop(bool gracefully);
  void awaitTermination();
  bool awaitTerminationOrTimeout(Duration timeout);
  enum class State { kInitialized, kActive, kStopped };
  State state() const { return state_.load(); }

  // Waits until every batch up to and including `t` has finished (or the context stopped);
  // returns whether batch `t` completed. Tests use it with a ManualClock.
  bool awaitBatchCompleted(Time t, Duration timeout);
  // The first batch's time, known after start().
  Time firstBatchTime() const { return firstBatchTime_; }
  std::vector<BatchInfo> completedBatches() const;

 private:
  void registerNode(std::shared_ptr<Node> node, InputNode* input);
  void runLoop(std::stop_token stop);
  void runBatch(Time t);
  void finish(std::exception_ptr error);

  const Duration batchDuration_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<ThreadPool> pool_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<InputNode*> inputs_;
  std::vector<OutputOperation> outputs_;
  std::vector<std::shared_ptr<StreamingListener>> listeners_;

  std::unique_ptr<CheckpointManager> checkpoint_;  // null without a checkpoint directory
  std::atomic<State> state_{State::kInitialized};
  Time firstBatchTime_{};
  std::jthread loop_;

  mutable std::mutex mu_;
  std::condition_variable progress_;
  bool graceful_ = false;                // guarded by mu_
  bool finished_ = false;                // the loop has ended; guarded by mu_
  std::exception_ptr error_;             // guarded by mu_
  Time lastCompleted_{Duration(-1)};     // guarded by mu_
  std::vector<BatchInfo> history_;       // recent batches; guarded by mu_
};

}  // namespace dstream::detail
