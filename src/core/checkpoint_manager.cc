#include "core/checkpoint_manager.h"

#include <algorithm>
#include <set>

#include "util/file_io.h"
#include "checkpoint/record_file.h"
#include "core/crash_point.h"
#include "dstream/clock.h"
#include "dstream/detail/state_checkpoint.h"
#include "dstream/error.h"
#include "dstream/log.h"
#include "dstream/serialize.h"

namespace dstream::detail {
namespace fs = std::filesystem;
namespace {

constexpr int kRetain = 10;  // checkpoints kept, as Spark's CheckpointWriter

// The largest rememberDuration of `node` and of every stream computed from it: how far back
// those streams may ask for its batches (a window over a detached reduced stream remembers
// its batches itself, so the source's own remember duration says too little).
Duration downstreamRemember(const Node* node, const std::vector<std::shared_ptr<Node>>& nodes) {
  std::set<const Node*> below{node};
  Duration span = node->rememberDuration();
  for (const auto& n : nodes) {  // definition order: parents come before their children
    for (const Node* p : n->parents()) {
      if (below.count(p)) {
        below.insert(n.get());
        span = std::max(span, n->rememberDuration());
        break;
      }
    }
  }
  return span;
}

}  // namespace

// A restart re-runs the batches since the last snapshot, so the interval bounds the restart
// time: 1 s of batches (not Spark's 10 s, which costs seconds of re-runs per restart; see
// doc/recovery.md, "Restart time").
Duration CheckpointManager::defaultStateInterval(Duration batch) {
  Duration d = std::max(batch, Duration(Seconds(1)));
  return ((d + batch - Duration(1)) / batch) * batch;
}

CheckpointManager::CheckpointManager(std::string_view directory, Duration batchDuration)
    : store_(directory, CheckpointStoreOptions{.retain = kRetain}),
      batchDuration_(batchDuration),
      stateInterval_(defaultStateInterval(batchDuration)) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store_.directory(), ec)) {
    std::string name = e.path().filename().string();
    std::string_view view(name);
    if (view.starts_with('.') && view.substr(1).starts_with(kStateFilePrefix) && isTempFileName(view)) {
      fs::remove(e.path(), ec);
    }
  }
}

void CheckpointManager::setStateInterval(Duration d) {
  if (d.count() <= 0 || !isMultipleOf(d, batchDuration_)) {
    throw Error(ErrorCode::kInvalidArgument,
                "state checkpoint interval " + formatDuration(d) + " is not a positive multiple of the batch duration " +
                    formatDuration(batchDuration_) + "; use " + formatDuration(defaultStateInterval(batchDuration_)));
  }
  stateInterval_ = d;
}

bool CheckpointManager::loadLatest() {
  lookedForCheckpoint_ = true;
  auto files = store_.listCheckpoints();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    RecordFileRead read = readVerified(it->path);
    if (!read.ok()) {
      if (read.status != RecordFileStatus::kNotFound) {
        warn({}, "skipping damaged checkpoint " + read.reason + "; falling back to an older one");
      }
      continue;
    }
    try {
      Loaded loaded{decodeGraphCheckpoint(*read.payload, it->path.string()), {}, it->path};
      if (loaded.graph.hasStateFile) {
        fs::path statePath = directory() / stateFileName(loaded.graph.stateTime);
        RecordFileRead state = readVerified(statePath);
        if (!state.ok()) {
          warn({}, "skipping checkpoint " + it->path.string() + ": its state snapshot is damaged (" + state.reason +
                       "); falling back to an older one");
          continue;
        }
        loaded.states = decodeStates(*state.payload, statePath.string());
      }
      loaded_ = std::move(loaded);
      return true;
    } catch (const Error& e) {
      warn({}, "skipping damaged checkpoint " + it->path.string() + ": " + e.what() + "; falling back to an older one");
    }
  }
  if (!files.empty()) {
    warn({}, "no usable checkpoint in " + directory().string() + " (" + std::to_string(files.size()) +
                 " damaged); starting fresh");
  }
  return false;
}

std::map<int, Node*> CheckpointManager::matchGraph(const GraphCheckpoint& g,
                                                   const std::vector<std::shared_ptr<Node>>& nodes) const {
  std::map<int, Node*> matched;
  for (const auto& old : g.nodes) {
    if (!old.hasState && !old.isInput) continue;
    Node* found = nullptr;
    for (const auto& n : nodes) {
      bool same = old.uid.empty() ? (n->id() == old.id && n->uid().empty()) : n->uid() == old.uid;
      if (same && n->kind() == old.kind) found = n.get();
    }
    if (found && old.hasState && !found->hasState()) found = nullptr;
    if (found && old.isInput && !found->asSource()) found = nullptr;
    if (!found) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "checkpoint " + directory().string() + " was written by a different graph: stream \"" +
                      streamName(old) + "\" is missing; start with an empty checkpoint directory, or keep the stream" +
                      (old.uid.empty() ? " where it was defined (or give it a uid in both versions)" : " and its uid"));
    }
    matched[old.id] = found;
  }
  return matched;
}

std::optional<CheckpointManager::StartTimes> CheckpointManager::prepareStart(
    const std::vector<std::shared_ptr<Node>>& nodes, Time zeroTime) {
  refuseUncheckpointableState(nodes);
  if (!lookedForCheckpoint_) fenceAnotherRunsFiles();
  nodes_.clear();
  inputs_.clear();
  stateful_.clear();
  replaySpan_.clear();
  for (const auto& n : nodes) {
    nodes_.push_back(n.get());
    if (auto* in = n->asSource()) {
      inputs_.emplace_back(n.get(), in);
      replaySpan_[in] = downstreamRemember(n.get(), nodes);
    }
    if (n->hasState()) stateful_.push_back(n.get());
  }
  for (auto& [node, in] : inputs_) {
    in->prepareCheckpointing(directory(), replaySpan(in) + stateInterval_ + batchDuration_);
  }
  zeroTime_ = zeroTime;
  if (!loaded_) return std::nullopt;
  const GraphCheckpoint& g = loaded_->graph;
  if (g.batchDuration != batchDuration_) {
    throw Error(ErrorCode::kFailedPrecondition,
                "checkpoint " + directory().string() + " was written with batch duration " +
                    formatDuration(g.batchDuration) + ", but this context's is " + formatDuration(batchDuration_) +
                    "; use " + formatDuration(g.batchDuration) + ", or start with an empty checkpoint directory");
  }
  auto matched = matchGraph(g, nodes);
  for (const auto& old : g.nodes) {
    if (!old.hasState) continue;
    auto it = loaded_->states.find(old.id);
    if (it == loaded_->states.end()) continue;  // snapshot taken before the node had state
    std::string context = "state of stream \"" + streamName(old) + "\" in " + stateFileName(g.stateTime);
    BinaryReader r(it->second, context);
    matched.at(old.id)->readState(r);
  }
  for (const auto& [id, bytes] : g.inputs) {
    auto it = matched.find(id);
    if (it == matched.end()) continue;
    BinaryReader r(bytes, "inputs of stream #" + std::to_string(id) + " in " + loaded_->path.string());
    it->second->asSource()->readInputs(r, g.lastCompleted);
  }
  zeroTime_ = g.zeroTime;
  stateTime_ = g.stateTime;
  StartTimes times{g.zeroTime, g.stateTime + batchDuration_};
  loaded_.reset();  // the bytes are not needed any more
  return times;
}

void CheckpointManager::refuseUncheckpointableState(const std::vector<std::shared_ptr<Node>>& nodes) const {
  for (const auto& n : nodes) {
    std::string type = n->stateTypeWithoutSerializer();
    if (type.empty()) continue;
    CheckpointedNode named{n->id(), n->kind(), n->uid(), true, false};
    throw Error(ErrorCode::kFailedPrecondition,
                "stream \"" + streamName(named) + "\" keeps state of type " + type +
                    ", which has no dstream::Serializer, so the checkpoints in " + directory().string() +
                    " could not restore it; specialise dstream::Serializer<" + type +
                    "> (dstream/serialize.h), or do not call checkpoint()");
  }
}

void CheckpointManager::fenceAnotherRunsFiles() {
  // A context that did not ask for recovery starts fresh; the files of an earlier run must
  // not be read as its own by a later getOrCreate (a crash before this run's first
  // checkpoint would resume the old run), nor its log records be requeued. They are moved
  // aside, not deleted: they may be the only copy of the old run's progress.
  auto files = store_.listCheckpoints();
  std::vector<fs::path> old;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(directory(), ec)) {
    std::string name = e.path().filename().string();
    std::int64_t ms = 0;
    if (parseStateFileName(name, ms) || name == "receivedData") old.push_back(e.path());
  }
  for (const auto& f : files) old.push_back(f.path);
  if (old.empty()) return;
  std::string newest = files.empty() ? "state only" : "newest batch " + std::to_string(files.back().batchTimeMs) + " ms";
  fs::path aside = directory() / ("previous-run-" + std::to_string(toMillis(SystemClock().now())));
  fs::create_directories(aside, ec);
  for (const auto& p : old) {
    if (!ec) fs::rename(p, aside / p.filename(), ec);
  }
  if (ec) {
    throw Error(ErrorCode::kFailedPrecondition, "checkpoint directory " + directory().string() +
                                                    " holds another run's checkpoints, which cannot be moved to " +
                                                    aside.string() + ": " + ec.message() +
                                                    "; empty the directory, or use StreamingContext::getOrCreate to resume");
  }
  warn({}, "checkpoint directory " + directory().string() + " holds another run's checkpoints (" + newest +
               "); starting fresh and moving them to " + aside.string() +
               " (use StreamingContext::getOrCreate to resume from them)");
}

void CheckpointManager::afterBatch(Time t) {
  WriteJob job;
  job.batch = t;
  if (stateful_.empty()) {
    stateTime_ = t;
  } else if (!stateTime_ || toMillis(t) % stateInterval_.count() == 0) {
    std::map<int, std::string> states;
    for (Node* n : stateful_) {
      BinaryWriter w;
      n->writeState(w);
      states[n->id()] = w.release();
    }
    job.stateFile = encodeStates(states);
    stateTime_ = t;
  }
  GraphCheckpoint g;
  g.batchDuration = batchDuration_;
  g.zeroTime = zeroTime_;
  g.lastCompleted = t;
  g.stateTime = *stateTime_;
  g.hasStateFile = !stateful_.empty();
  for (Node* n : nodes_) {
    bool isInput = n->asSource() != nullptr;
    g.nodes.push_back({n->id(), n->kind(), n->uid(), n->hasState(), isInput});
  }
  for (auto& [node, in] : inputs_) {
    BinaryWriter w;
    in->writeInputs(w, *stateTime_ - replaySpan(in), t);
    g.inputs[node->id()] = w.release();
  }
  job.checkpoint = encodeGraphCheckpoint(g);

  // What the oldest retained checkpoint needs stays: its snapshot and its inputs.
  written_.push_back({*stateTime_});
  while (written_.size() > static_cast<std::size_t>(kRetain)) written_.pop_front();
  Time oldestState = written_.front().stateTime;
  if (job.stateFile) job.deleteStatesBefore = oldestState;
  for (auto& [node, in] : inputs_) in->forgetInputsBefore(oldestState - replaySpan(in));

  std::unique_lock lock(writeMu_);
  waitForWriter();
  if (writeError_) std::rethrow_exception(writeError_);
  pending_ = std::move(job);
  if (!writer_.joinable()) {
    // The writer's warnings go to the context's log sink, which the batch thread has.
    writer_ = std::jthread([this, sink = currentLogSink()](std::stop_token stop) {
      LogScope scope(sink);
      writeLoop(stop);
    });
  }
  writeChanged_.notify_all();
}

void CheckpointManager::writeStartCheckpoint(Time zeroTime) {
  afterBatch(zeroTime);  // "batch zero": the batch before the first, which read nothing
  flush();
}

void CheckpointManager::waitForWriter() {
  std::unique_lock<std::mutex> lock(writeMu_, std::adopt_lock);
  writeChanged_.wait(lock, [&] { return !pending_ && !writing_; });
  lock.release();
}

void CheckpointManager::flush() {
  std::unique_lock lock(writeMu_);
  waitForWriter();
  if (writeError_) std::rethrow_exception(writeError_);
}

CheckpointManager::~CheckpointManager() {
  {
    std::unique_lock lock(writeMu_);
    waitForWriter();  // the last checkpoint reaches the disk before the manager goes
  }
  writer_.request_stop();
  writeChanged_.notify_all();
}

CheckpointManager::WriteStats CheckpointManager::writeStats() const {
  std::lock_guard lock(writeMu_);
  return stats_;
}

void CheckpointManager::writeLoop(std::stop_token stop) {
  std::unique_lock lock(writeMu_);
  for (;;) {
    writeChanged_.wait(lock, stop, [&] { return pending_.has_value(); });
    if (!pending_) return;  // stop requested with nothing left to write
    WriteJob job = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    lock.unlock();
    std::exception_ptr error;
    auto started = std::chrono::steady_clock::now();
    try {
      write(job);
    } catch (...) {
      error = std::current_exception();
    }
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    lock.lock();
    writing_ = false;
    if (error && !writeError_) writeError_ = error;
    if (!error) {
      ++stats_.writes;
      stats_.lastBatch = job.batch;
      stats_.lastBytes = static_cast<std::int64_t>(job.checkpoint.size() + (job.stateFile ? job.stateFile->size() : 0));
      stats_.lastDuration = took;
      if (job.stateFile) {
        stats_.lastSnapshotBatch = job.batch;
        stats_.lastSnapshotBytes = static_cast<std::int64_t>(job.stateFile->size());
      }
    }
    writeChanged_.notify_all();
  }
}

void CheckpointManager::write(const WriteJob& job) {
  crashPoint("checkpoint-before-write");
  if (job.stateFile) {
    crashPoint("state-before-write");
    writeAtomically(directory(), stateFileName(job.batch), *job.stateFile);
  }
  store_.write(toMillis(job.batch), job.checkpoint);
  crashPoint("checkpoint-after-write");
  if (job.deleteStatesBefore) deleteStateFilesBefore(*job.deleteStatesBefore);
}

void CheckpointManager::deleteStateFilesBefore(Time t) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(directory(), ec)) {
    std::int64_t ms = 0;
    if (parseStateFileName(e.path().filename().string(), ms) && ms < toMillis(t)) fs::remove(e.path(), ec);
  }
}

}  // namespace dstream::detail
