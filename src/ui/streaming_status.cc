#include "ui/streaming_status.h"

#include <algorithm>

#include "core/context_core.h"

namespace dstream::ui {

const BatchInfo* StatusSnapshot::findBatch(std::int64_t batchId) const {
  for (const auto& b : running) {
    if (toMillis(b.batchTime) == batchId) return &b;
  }
  auto it = std::lower_bound(completed.begin(), completed.end(), batchId,
                             [](const BatchInfo& b, std::int64_t id) { return toMillis(b.batchTime) < id; });
  if (it != completed.end() && toMillis(it->batchTime) == batchId) return &*it;
  return nullptr;
}

bool StatusSnapshot::isQueued(std::int64_t batchId) const {
  return std::any_of(queued.begin(), queued.end(), [&](Time t) { return toMillis(t) == batchId; });
}

void StreamingProgress::onStreamingStarted(Time firstBatch) {
  Time now = clock_.now();
  std::lock_guard lock(mu_);
  startedAt_ = now;
  firstBatch_ = firstBatch;
}

void StreamingProgress::onBatchStarted(const BatchInfo& info) {
  std::lock_guard lock(mu_);
  running_ = info;
  lastStarted_ = info.batchTime;
}

void StreamingProgress::onBatchCompleted(const BatchInfo& info) {
  std::lock_guard lock(mu_);
  running_.reset();
  completed_.push_back(info);
  while (completed_.size() > retained_) completed_.pop_front();
  ++numCompleted_;
  if (info.failureReason) ++numFailed_;
  processedRecords_ += info.numInputRecords;
  badRecords_ += info.numBadRecords;
  for (const auto& in : info.streamIdToInputInfo) {
    if (in.inputStreamId < 0) continue;
    auto id = static_cast<std::size_t>(in.inputStreamId);
    if (inputRecords_.size() <= id) inputRecords_.resize(id + 1);
    inputRecords_[id] += in.numRecords;
  }
}

void StreamingProgress::copyTo(StatusSnapshot& s) const {
  std::lock_guard lock(mu_);
  s.startedAt = startedAt_;
  s.firstBatchTime = firstBatch_;
  s.completed.assign(completed_.begin(), completed_.end());
  if (!completed_.empty()) s.stateStreams = completed_.back().stateInfos;
  if (running_) s.running.push_back(*running_);
  s.numTotalCompletedBatches = numCompleted_;
  s.numFailedBatches = numFailed_;
  s.numProcessedRecords = processedRecords_;
  s.numBadRecords = badRecords_;
  s.inputRecordsTotal = inputRecords_;
  s.retainedBatches = static_cast<int>(retained_);
  // The backlog: every batch time after the last one started that the clock has passed.
  if (firstBatch_) {
    Time next = lastStarted_ ? *lastStarted_ + s.batchDuration : *firstBatch_;
    if (s.state == "ACTIVE" && next <= s.now) {
      s.numQueued = (s.now - next) / s.batchDuration + 1;
      for (Time t = next; t <= s.now && static_cast<std::int64_t>(s.queued.size()) < StatusSnapshot::kMaxQueuedListed;
           t += s.batchDuration) {
        s.queued.push_back(t);
      }
    }
  }
}

StatusSnapshot takeSnapshot(const detail::ContextCore& core, const StreamingProgress& progress, const AppIdentity& app) {
  StatusSnapshot s;
  s.app = app;
  s.batchDuration = core.batchDuration();
  auto state = core.state();
  s.state = state == detail::ContextCore::State::kInitialized ? "INITIALIZED"
            : state == detail::ContextCore::State::kActive    ? "ACTIVE"
                                                               : "STOPPED";
  s.now = core.clock().now();
  progress.copyTo(s);
  // The graph (inputs, outputs, the checkpoint manager) is fixed once the context started;
  // before that the user's thread may still be adding to it.
  if (state != detail::ContextCore::State::kInitialized) {
    s.numOutputOperations = core.numOutputOperations();
    for (detail::InputNode* input : core.inputs()) {
      s.inputNames.push_back(input->inputName());
      if (auto r = input->receiverInfo()) {
        r->inputStreamId = input->inputStreamId();
        if (r->name.empty()) r->name = s.inputNames.back();
        s.receivers.push_back(std::move(*r));
      }
    }
    s.inputRecordsTotal.resize(std::max(s.inputRecordsTotal.size(), s.inputNames.size()));
    if (const auto* cm = core.checkpointManager()) {
      s.checkpoint = CheckpointStatus{cm->directory().string(), cm->stateInterval(), cm->writeStats()};
    }
  }
  return s;
}

}  // namespace dstream::ui
