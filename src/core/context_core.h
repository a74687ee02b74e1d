// The engine behind a StreamingContext: the graph of nodes, the output operations, the
// worker pool, the batch loop, its history and the checkpoint manager. Stream definitions
// see it only through detail::Graph (the public headers' interface); StreamingContext and
// the engine's own code use the rest. DStream handles keep it alive.
//
// Thread-safety: the graph is built on the user's thread before start() and belongs to the
// batch thread afterwards. Lifecycle calls (start, stop, requestStop, reportError, await*)
// and addListener may be made from any thread, concurrently; stop() may be called from an
// output operation or a listener on the batch thread (it then returns without waiting).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dstream/clock.h"
#include "dstream/detail/graph.h"
#include "dstream/detail/input_node.h"
#include "dstream/detail/node.h"
#include "dstream/detail/thread_pool.h"
#include "dstream/listener.h"
#include "dstream/log.h"
#include "dstream/streaming_context.h"
#include "dstream/time.h"

namespace dstream::detail {

class CheckpointManager;

}  // namespace dstream::detail

namespace dstream::ui {
class StreamingUi;
}

namespace dstream::detail {

class ContextCore final : public Graph {
 public:
  // The options as StreamingContext's ContextOptions: `log` receives the context's log lines
  // (empty: stderrLogSink()); with `stopGracefullyOnShutdown`, SIGTERM or SIGINT stop the
  // running context gracefully, a second signal at once.
  ContextCore(int workers, Duration batchDuration, ContextOptions options = {});
  ~ContextCore() override;

  // Graph
  Duration batchDuration() const override { return batchDuration_; }
  const std::shared_ptr<ThreadPool>& pool() const override { return pool_; }
  int defaultParallelism() const override { return pool_->workers(); }
  Clock& clock() const override { return *clock_; }
  const LogSink& log() const override { return log_; }
  void checkCanDefine(std::string_view operation) const override;
  bool started() const override { return state_.load() != State::kInitialized; }
  bool onBatchThread() const override;
  void addOutput(OutputOperation output) override;
  void reportError(std::exception_ptr error) override;
  void addListener(std::shared_ptr<StreamingListener> listener) override;
  const BackpressureOptions& backpressure() const override { return backpressure_; }
  const UiOptions& uiOptions() const { return ui_; }
  // The input streams by id (the order they were defined), for monitoring.
  std::vector<InputNode*> inputs() const;
  // The number of output operations; fixed once the context started.
  int numOutputOperations() const { return static_cast<int>(outputs_.size()); }
  // The checkpoint manager, or null without a checkpoint directory; fixed once the context started.
  const CheckpointManager* checkpointManager() const { return checkpoint_.get(); }
  // The Streaming UI's address ("http://127.0.0.1:4040"), or nullopt when it is off, could
  // not bind a port, or has stopped with the context (Spark's sc.uiWebUrl). The UI serves from
  // the context's creation; start() logs its address.
  std::optional<std::string> uiWebUrl() const;

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

  // Spark's ssc.remember(d): every stream an output uses keeps its batches for at least `d`.
  // Throws Error(kInvalidArgument) unless d > 0, Error(kFailedPrecondition) when called
  // twice (as Spark) or after start().
  void remember(Duration d);

  // Lifecycle (see StreamingContext).
  void start();
  // Stops the context and waits until the batch loop has ended (not when called on the
  // batch thread). Not graceful: at most the running batch finishes, however far behind
  // the loop is. Graceful: the sources stop, then every batch up to the current time runs.
  // A later non-graceful call cuts a graceful stop short.
  void stop(bool gracefully);
  // Asks the context to stop as stop() does, without waiting. Safe from any thread that
  // the loop does not wait for (a receiver, a signal watcher).
  void requestStop(bool gracefully);
  void awaitTermination();
  bool awaitTerminationOrTimeout(Duration timeout);
  // Whether stop(), a shutdown signal or a failed source has asked the context to stop. A
  // long output operation may check it to end early.
  bool stopRequested() const;
  enum class State { kInitialized, kActive, kStopped };
  State state() const { return state_.load(); }

  // Waits until every batch up to and including `t` has finished (or the context stopped);
  // returns whether batch `t` completed. Tests use it with a ManualClock.
  bool awaitBatchCompleted(Time t, Duration timeout);
  // The first batch's time, known after start().
  Time firstBatchTime() const { return firstBatchTime_; }
  std::vector<BatchInfo> completedBatches() const;

 private:
  void registerNode(std::shared_ptr<Node> node) override;
  void runLoop();
  void runBatch(Time t);
  // Adds each stateful node's keys and bytes after batch `info` (on the batch thread).
  void collectStateInfos(BatchInfo& info) const;
  void finish(std::exception_ptr error);
  void requestStop(bool gracefully, std::exception_ptr error);
  bool stillGraceful() const;
  // The listeners now; a batch iterates its copy while addListener() may add more.
  std::shared_ptr<const std::vector<std::shared_ptr<StreamingListener>>> listeners() const;
  void notify(const std::vector<std::shared_ptr<StreamingListener>>& listeners,
              const std::function<void(StreamingListener&)>& call) const;
  void notify(const std::function<void(StreamingListener&)>& call) const;
  void stopUi();

  const Duration batchDuration_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<ThreadPool> pool_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<Node*> sources_;  // the nodes whose asSource() is not null
  std::vector<OutputOperation> outputs_;
  const LogSink log_;  // serialised
  const bool stopOnSignals_;
  const BackpressureOptions backpressure_;
  const UiOptions ui_;

  std::unique_ptr<CheckpointManager> checkpoint_;  // null without a checkpoint directory
  std::atomic<State> state_{State::kInitialized};
  Duration remember_{0};  // ssc.remember(); 0 = none; set before start()
  Time firstBatchTime_{};
  std::stop_source stopSource_;          // the loop's stop request; made before the loop starts
  std::uint64_t signalSubscription_ = 0;  // written by start() before the loop exists

  // Serialises start() with stop(): a stop() that overlaps start() waits for it, so it
  // always finds the loop it must stop. Never held while waiting for the loop.
  mutable std::mutex lifecycleMu_;
  std::jthread loop_;                    // guarded by lifecycleMu_
  std::unique_ptr<ui::StreamingUi> uiServer_;  // guarded by lifecycleMu_; null when off or stopped
  std::optional<std::string> uiNotice_;  // why there is no UI, logged by start()

  mutable std::mutex mu_;
  std::condition_variable progress_;
  std::shared_ptr<const std::vector<std::shared_ptr<StreamingListener>>> listeners_ =
      std::make_shared<const std::vector<std::shared_ptr<StreamingListener>>>();  // guarded by mu_; copied on write
  std::thread::id loopThread_;           // set by the loop itself; guarded by mu_
  bool stopRequested_ = false;           // guarded by mu_
  bool graceful_ = false;                // guarded by mu_
  bool finished_ = false;                // the loop has ended; guarded by mu_
  std::exception_ptr error_;             // guarded by mu_
  Time lastCompleted_{Duration(-1)};     // guarded by mu_
  std::deque<BatchInfo> history_;        // the last ui.retainedBatches batches; guarded by mu_
};

// How the engine's own code (the top layer, dstream::testing) reaches the engine behind a
// StreamingContext; user code cannot, since this header is not installed.
struct EngineAccess {
  static ContextCore& core(const StreamingContext& ssc) { return *ssc.core_; }
};

}  // namespace dstream::detail
