// CheckpointManager makes a context recoverable (doc/recovery.md). After each completed
// batch t it writes a graph checkpoint (batch times, the graph's signature, what each input
// read) to a CheckpointStore and, every stateInterval, a snapshot of the stateful nodes'
// states ("state-<t>"). At start() it restores the newest usable pair and tells the batch
// loop where to resume: at the snapshot's batch + d, so that the batches after the snapshot
// run again from the same inputs.
//
// Writing is split so that a batch does not wait for the disk: afterBatch() encodes the
// checkpoint (and state snapshot) on the batch thread, and a writer thread of its own
// writes, fsyncs and renames it while the next batch runs (Spark's CheckpointWriter). At
// most one write is in flight: afterBatch() waits for the previous one first. A failed
// write is rethrown by the next afterBatch() or by flush().
//
// Owned by ContextCore. Thread-safety: constructed on the user's thread; everything else runs
// on the user's thread before start() or on the batch thread after it; the writer thread
// touches only the files and the fields marked as guarded by writeMu_.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/checkpoint_store.h"
#include "core/checkpoint_codec.h"
#include "dstream/detail/input_node.h"
#include "dstream/detail/node.h"

namespace dstream::detail {

class CheckpointManager {
 public:
  // Opens (creating) the checkpoint directory. Throws Error(kInvalidArgument) for a
  // non-local URI or a path under a regular file, Error(kFailedPrecondition) when it cannot
  // be created or written; messages name the directory.
  CheckpointManager(std::string_view directory, Duration batchDuration);

  const std::filesystem::path& directory() const { return store_.directory(); }

  // How often states are snapshotted. Default max(batch, 1s) rounded up to a multiple of
  // the batch (the restart re-runs at most that much). Throws Error(kInvalidArgument) unless d is a positive
  // multiple of the batch duration.
  void setStateInterval(Duration d);
  Duration stateInterval() const { return stateInterval_; }

  // Finds the newest checkpoint that verifies together with its state snapshot; damaged
  // files are skipped with a warning to the log sink naming them. Returns whether one was found;
  // start() then restores it.
  bool loadLatest();

  // The default state interval for a batch duration (see setStateInterval).
  static Duration defaultStateInterval(Duration batch);

  struct StartTimes {
    Time zeroTime;
    Time firstBatch;
  };
  // Called by start() after the nodes were initialised: hands the inputs the checkpoint
  // directory and, when recovering, checks the graph against the checkpoint and restores
  // states and inputs. Returns the times to resume from, or nullopt for a fresh start.
  // Throws Error(kFailedPrecondition) when a stateful stream's key or state type has no
  // Serializer, or the graph or batch duration changed (the message names the stream and
  // the way out), Error(kDataLoss) for state the nodes cannot read. A context that did not
  // look for a checkpoint (no getOrCreate) but finds another run's files moves them aside
  // with a one-line warning, so that they are never taken for its own.
  std::optional<StartTimes> prepareStart(const std::vector<std::shared_ptr<Node>>& nodes, Time zeroTime);

  // A fresh start's first checkpoint, written before the first batch runs and on disk when
  // this returns: nothing run yet, the states as they begin, where each input starts. Without
  // it, a process killed after its first batch's output was committed (a transaction, a
  // file) and before that batch's checkpoint was on disk would start afresh and build its
  // state again from the inputs after what it had committed, losing what those batches
  // counted. Called by start() after the inputs started; throws as flush() does.
  void writeStartCheckpoint(Time zeroTime);
  // Writes the checkpoint of completed batch `t`. Throws Error(kInternal) when it cannot be
  // written (the context then stops: progress that is not durable is not reported).
  void afterBatch(Time t);
  // Waits until every checkpoint handed to the writer is on disk. Rethrows a failed write.
  void flush();

  // What the writer has written, for monitoring (the UI and /metrics). Safe from any thread.
  struct WriteStats {
    std::int64_t writes = 0;                 // checkpoints written by this run
    std::optional<Time> lastBatch;           // the batch of the newest one
    std::int64_t lastBytes = 0;              // its size, with its state snapshot if any
    std::chrono::microseconds lastDuration{0};  // writing, fsyncing and renaming it
    std::optional<Time> lastSnapshotBatch;   // the batch of the newest state snapshot written
    std::int64_t lastSnapshotBytes = 0;
  };
  WriteStats writeStats() const;
  ~CheckpointManager();

 private:
  struct Loaded {
    GraphCheckpoint graph;
    std::map<int, std::string> states;
    std::filesystem::path path;
  };
  struct Written {
    Time stateTime;
  };
  std::map<int, Node*> matchGraph(const GraphCheckpoint& g, const std::vector<std::shared_ptr<Node>>& nodes) const;
  void deleteStateFilesBefore(Time t);
  void refuseUncheckpointableState(const std::vector<std::shared_ptr<Node>>& nodes) const;
  void fenceAnotherRunsFiles();
  // How far back before the newest snapshot a source's batches must be re-readable.
  Duration replaySpan(InputNode* in) const { return replaySpan_.at(in); }

  CheckpointStore store_;
  const Duration batchDuration_;
  Duration stateInterval_;
  std::optional<Loaded> loaded_;
  bool lookedForCheckpoint_ = false;  // loadLatest() ran (getOrCreate)
  std::map<InputNode*, Duration> replaySpan_;

  std::vector<Node*> nodes_;
  std::vector<std::pair<Node*, InputNode*>> inputs_;
  std::vector<Node*> stateful_;
  Time zeroTime_{};
  std::optional<Time> stateTime_;  // the newest snapshot written or restored
  std::deque<Written> written_;    // the checkpoints still retained, oldest first

  // The files of one completed batch, encoded and waiting for the writer.
  struct WriteJob {
    Time batch;
    std::optional<std::string> stateFile;  // a snapshot taken at this batch
    std::string checkpoint;
    std::optional<Time> deleteStatesBefore;  // snapshots no retained checkpoint refers to
  };
  void writeLoop(std::stop_token stop);
  void write(const WriteJob& job);
  void waitForWriter();  // REQUIRES: writeMu_ held through `lock`

  mutable std::mutex writeMu_;
  std::condition_variable_any writeChanged_;
  std::optional<WriteJob> pending_;  // guarded by writeMu_
  bool writing_ = false;             // guarded by writeMu_
  std::exception_ptr writeError_;    // guarded by writeMu_
  WriteStats stats_;                 // guarded by writeMu_
  std::jthread writer_;              // started by the first afterBatch()
};

}  // namespace dstream::detail
