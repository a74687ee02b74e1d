// What the Streaming UI, its REST API and /metrics show: StreamingProgress listens to the
// batches (as Spark's StreamingJobProgressListener) and keeps the recent ones, bounded by
// UiOptions::retainedBatches; takeSnapshot() copies it together with what is pulled from the
// engine at that moment (the receivers, the checkpoint writer, the backlog), so that a page is
// rendered from one consistent view.
//
// Thread-safety: the listener is called on the batch thread, snapshots are taken on the HTTP
// threads; both lock the listener's mutex, held only to copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/checkpoint_manager.h"
#include "dstream/clock.h"
#include "dstream/listener.h"
#include "dstream/time.h"

namespace dstream::detail {
class ContextCore;
}

namespace dstream::ui {

// The application as Spark's /api/v1/applications lists it; fixed when the context is made.
struct AppIdentity {
  std::string id;    // "local-<ms since the epoch>", as Spark's local mode
  std::string name;  // UiOptions::appName, else the program's name
  std::chrono::system_clock::time_point startTime;
  std::string user;
};

struct CheckpointStatus {
  std::string directory;
  Duration stateInterval{0};
  detail::CheckpointManager::WriteStats writes;
};

struct StatusSnapshot {
  AppIdentity app;
  Duration batchDuration{0};
  std::string state;  // "INITIALIZED", "ACTIVE" or "STOPPED", as Spark's StreamingContextState
  Time now{};         // the context's clock
  std::optional<Time> startedAt;       // the clock when start() ran
  std::optional<Time> firstBatchTime;
  std::int64_t numTotalCompletedBatches = 0;  // since start, including those no longer retained
  std::int64_t numFailedBatches = 0;
  std::int64_t numProcessedRecords = 0;  // records of completed batches
  std::int64_t numBadRecords = 0;
  std::vector<BatchInfo> completed;  // the retained completed batches, oldest first
  std::vector<BatchInfo> running;    // the batch running now, if any
  std::vector<Time> queued;          // batches due but not started (the backlog), oldest first
  std::int64_t numQueued = 0;        // all of them; `queued` lists at most kMaxQueuedListed
  int numOutputOperations = 0;
  std::vector<std::string> inputNames;           // by input stream id
  std::vector<std::int64_t> inputRecordsTotal;   // by input stream id, over completed batches
  std::vector<ReceiverInfo> receivers;           // the inputs with a receiver
  std::vector<StateInfo> stateStreams;           // the stateful streams after the last completed batch
  std::optional<CheckpointStatus> checkpoint;    // when the context checkpoints
  int retainedBatches = 0;

  static constexpr std::int64_t kMaxQueuedListed = 1000;

  // A batch by its time in ms (Spark's batchId), among running, completed and queued ones.
  const BatchInfo* findBatch(std::int64_t batchId) const;
  bool isQueued(std::int64_t batchId) const;
};

class StreamingProgress final : public StreamingListener {
 public:
  StreamingProgress(Clock& clock, int retainedBatches) : clock_(clock), retained_(retainedBatches) {}

  void onStreamingStarted(Time firstBatch) override;
  void onBatchStarted(const BatchInfo& info) override;
  void onBatchCompleted(const BatchInfo& info) override;

  // Fills the listener's part of `s` (batches, totals, start times).
  void copyTo(StatusSnapshot& s) const;

 private:
  Clock& clock_;
  const std::size_t retained_;
  mutable std::mutex mu_;
  std::optional<Time> startedAt_;      // guarded by mu_
  std::optional<Time> firstBatch_;     // guarded by mu_
  std::optional<Time> lastStarted_;    // guarded by mu_
  std::optional<BatchInfo> running_;   // guarded by mu_
  std::deque<BatchInfo> completed_;    // guarded by mu_; oldest first
  std::int64_t numCompleted_ = 0;      // guarded by mu_
  std::int64_t numFailed_ = 0;         // guarded by mu_
  std::int64_t processedRecords_ = 0;  // guarded by mu_
  std::int64_t badRecords_ = 0;        // guarded by mu_
  std::vector<std::int64_t> inputRecords_;  // by input stream id; guarded by mu_
};

// The listener's view plus the engine's state now. Safe from any thread.
StatusSnapshot takeSnapshot(const detail::ContextCore& core, const StreamingProgress& progress, const AppIdentity& app);

}  // namespace dstream::ui
