#include "core/context_core.h"

#include <exception>

#include "core/checkpoint_manager.h"
#include "ui/streaming_ui.h"
#include "dstream/bad_records.h"
#include "dstream/error.h"
#include "dstream/format.h"
#include "util/shutdown_signals.h"

namespace dstream::detail {
namespace {
std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

std::string formatTime(Time t) { return std::to_string(toMillis(t)) + " ms"; }
}  // namespace

ContextCore::ContextCore(int workers, Duration batchDuration, ContextOptions options)
    : batchDuration_(batchDuration),
      clock_(options.clock ? std::move(options.clock) : std::make_shared<SystemClock>()),
      pool_(std::make_shared<ThreadPool>(workers)),
      log_(serialisedLogSink(std::move(options.log))),
      stopOnSignals_(options.stopGracefullyOnShutdown),
      backpressure_(std::move(options.backpressure)),
      ui_(std::move(options.ui)) {
  // As Spark's SparkContext, the context serves its UI from its creation; the address (or why
  // there is no UI) is logged by start(), since a sink may capture an owner still being built.
  auto started = ui::StreamingUi::start(*this);
  uiServer_ = std::move(started.ui);
  uiNotice_ = std::move(started.warning);
}

ContextCore::~ContextCore() {
  stop(false);
  stopUi();  // a stop() from the batch thread does not wait, so it leaves the UI to this
}

void ContextCore::stopUi() {
  std::unique_ptr<ui::StreamingUi> ui;
  {
    std::lock_guard lifecycle(lifecycleMu_);
    ui = std::move(uiServer_);
  }
  // Destroyed outside the lock: the HTTP threads it waits for read the context.
}

std::optional<std::string> ContextCore::uiWebUrl() const {
  std::lock_guard lifecycle(lifecycleMu_);
  if (!uiServer_) return std::nullopt;
  return uiServer_->webUrl();
}

void ContextCore::checkCanDefine(std::string_view operation) const {
  if (state_.load() != State::kInitialized) {
    throw Error(ErrorCode::kFailedPrecondition,
                std::string(operation) +
                    ": streams and output operations must be defined before start(); "
                    "this context has already started");
  }
}

void ContextCore::registerNode(std::shared_ptr<Node> node) {
  checkCanDefine(node->kind());
  node->setId(static_cast<int>(nodes_.size()));
  if (InputNode* input = node->asSource()) {
    input->setInputStreamId(static_cast<int>(sources_.size()));
    sources_.push_back(node.get());
  }
  nodes_.push_back(std::move(node));
}

std::vector<InputNode*> ContextCore::inputs() const {
  std::vector<InputNode*> result;
  result.reserve(sources_.size());
  for (Node* source : sources_) result.push_back(source->asSource());
  return result;
}

void ContextCore::addOutput(OutputOperation output) {
  checkCanDefine(output.kind);
  outputs_.push_back(std::move(output));
}

void ContextCore::addListener(std::shared_ptr<StreamingListener> listener) {
  std::lock_guard lock(mu_);
  auto copy = std::make_shared<std::vector<std::shared_ptr<StreamingListener>>>(*listeners_);
  copy->push_back(std::move(listener));
  listeners_ = std::move(copy);
}

std::shared_ptr<const std::vector<std::shared_ptr<StreamingListener>>> ContextCore::listeners() const {
  std::lock_guard lock(mu_);
  return listeners_;
}

// As Spark's listener bus: a listener that throws is logged and skipped; it cannot fail a
// batch or leave start() half done.
void ContextCore::notify(const std::vector<std::shared_ptr<StreamingListener>>& listeners,
                         const std::function<void(StreamingListener&)>& call) const {
  for (auto& l : listeners) {
    try {
      call(*l);
    } catch (...) {
      log_(LogLevel::kWarning,
           "a StreamingListener threw: " + std::string(withoutDstreamPrefix(describe(std::current_exception()))));
    }
  }
}

void ContextCore::notify(const std::function<void(StreamingListener&)>& call) const { notify(*listeners(), call); }

void ContextCore::setCheckpointDirectory(std::string_view directory) {
  checkCanDefine("checkpoint");
  auto manager = std::make_unique<CheckpointManager>(directory, batchDuration_);
  if (checkpoint_) manager->setStateInterval(checkpoint_->stateInterval());
  checkpoint_ = std::move(manager);
}

std::string ContextCore::checkpointDirectory() const {
  return checkpoint_ ? checkpoint_->directory().string() : std::string();
}

void ContextCore::setStateCheckpointInterval(Duration d) {
  checkCanDefine("setStateCheckpointInterval");
  if (!checkpoint_) {
    throw Error(ErrorCode::kFailedPrecondition,
                "setStateCheckpointInterval: the context has no checkpoint directory; call checkpoint(dir) first");
  }
  checkpoint_->setStateInterval(d);
}

bool ContextCore::loadCheckpoint() {
  LogScope scope(&log_);  // damaged checkpoints are reported to this context's sink
  return checkpoint_ && checkpoint_->loadLatest();
}

void ContextCore::remember(Duration d) {
  checkCanDefine("remember");
  if (d.count() <= 0) {
    throw Error(ErrorCode::kInvalidArgument, "remember: duration " + formatDuration(d) + " must be positive");
  }
  if (remember_.count() > 0) {
    throw Error(ErrorCode::kFailedPrecondition,
                "remember: the remember duration is already set to " + formatDuration(remember_) + "; it can be set once");
  }
  remember_ = d;
}

bool ContextCore::onBatchThread() const {
  std::lock_guard lock(mu_);
  return loopThread_ == std::this_thread::get_id();
}

void ContextCore::start() {
  std::lock_guard lifecycle(lifecycleMu_);
  LogScope scope(&log_);  // recovery warnings; receivers started here inherit the sink
  if (state_.load() != State::kInitialized) {
    throw Error(ErrorCode::kFailedPrecondition,
                state_.load() == State::kActive ? "start(): the context has already started"
                                                : "start(): the context was stopped; create a new one");
  }
  if (outputs_.empty()) {
    throw Error(ErrorCode::kFailedPrecondition,
                "start(): no output operations registered, so nothing would run; add pprint(), "
                "foreachRDD() or saveAsTextFiles() to a stream");
  }
  // Batch times are multiples of the batch duration; the first is the next one after now
  // (Spark's RecurringTimer), so batch t covers data that arrived in [t - d, t).
  firstBatchTime_ = floorTo(clock_->now(), batchDuration_) + batchDuration_;
  Time zero = firstBatchTime_ - batchDuration_;
  for (auto& out : outputs_) {
    out.node->rememberAtLeast(std::max(out.node->slideDuration(), remember_));
    out.node->initialize(zero);
  }
  for (auto& n : nodes_) n->initialize(zero);  // streams no output uses
  bool recovered = false;
  if (checkpoint_) {
    // Stateful streams are snapshotted together, as often as the most demanding one asked.
    std::optional<Duration> interval;
    for (auto& n : nodes_) {
      if (auto d = n->checkpointInterval()) interval = interval ? std::min(*interval, *d) : *d;
    }
    if (interval) checkpoint_->setStateInterval(*interval);
    // Recovery resumes after the last state snapshot, on the checkpointed time grid.
    if (auto times = checkpoint_->prepareStart(nodes_, zero)) {
      if (times->zeroTime != zero) {
        for (auto& n : nodes_) n->initialize(times->zeroTime);
      }
      firstBatchTime_ = times->firstBatch;
      recovered = true;
    }
  } else {
    for (Node* source : sources_) source->asSource()->prepareCheckpointing({}, Duration(0));
  }
  // Sources first: a source that cannot start (a missing directory) fails start() cleanly.
  std::size_t started = 0;
  try {
    for (; started < sources_.size(); ++started) sources_[started]->asSource()->startInput();
    // After the inputs started: the checkpoint records where they begin.
    if (checkpoint_ && !recovered) checkpoint_->writeStartCheckpoint(zero);
    if (stopOnSignals_) {
      signalSubscription_ = subscribeToShutdownSignals([this](bool graceful) { requestStop(graceful); });
    }
  } catch (...) {
    for (std::size_t i = 0; i < started; ++i) sources_[i]->asSource()->stopInput();
    throw;
  }
  if (uiServer_) {
    log_(LogLevel::kInfo, "Streaming UI at " + uiServer_->webUrl());
  } else if (uiNotice_) {
    log_(LogLevel::kWarning, *uiNotice_);
  }
  state_ = State::kActive;
  notify([&](StreamingListener& l) { l.onStreamingStarted(firstBatchTime_); });
  loop_ = std::jthread([this] { runLoop(); });
}

bool ContextCore::stillGraceful() const {
  std::lock_guard lock(mu_);
  return graceful_;
}

void ContextCore::runLoop() {
  {
    std::lock_guard lock(mu_);
    loopThread_ = std::this_thread::get_id();
  }
  LogScope scope(&log_);
  std::stop_token stop = stopSource_.get_token();
  Time t = firstBatchTime_;
  std::exception_ptr error;
  // Runs batch t and checkpoints it; a failure ends the loop.
  auto runOne = [&](Time batch) {
    try {
      runBatch(batch);
      if (checkpoint_) checkpoint_->afterBatch(batch);
      return true;
    } catch (...) {
      error = std::current_exception();
      return false;
    }
  };
  for (;;) {
    bool due = clock_->waitUntil(t, stop);
    // Checked even when the batch is due: a loop that is behind must not run its overdue
    // batches after a non-graceful stop.
    if (stop.stop_requested()) {
      // Graceful: the sources are stopped, so everything received belongs to batches up to
      // the one now filling; run them without waiting for the clock. A later non-graceful
      // stop (a second signal) cuts this short.
      Time drainUntil = floorTo(clock_->now(), batchDuration_) + batchDuration_;
      for (; t <= drainUntil && stillGraceful() && runOne(t); t += batchDuration_) {}
      break;
    }
    if (!due) continue;
    if (!runOne(t)) break;
    t += batchDuration_;
  }
  finish(error);
}

void ContextCore::runBatch(Time t) {
  BatchInfo info;
  info.batchTime = t;
  info.submissionTime = t;
  info.processingStartTime = clock_->now();
  std::atomic<std::int64_t> bad{0};
  auto listeners = this->listeners();
  bool started = false;
  auto notifyStarted = [&] {
    started = true;
    notify(*listeners, [&](StreamingListener& l) { l.onBatchStarted(info); });
  };
  try {
    BadRecordScope scope(&bad);
    for (std::size_t id = 0; id < sources_.size(); ++id) {
      sources_[id]->computeBatch(t);
      InputNode* input = sources_[id]->asSource();
      std::int64_t records = input->recordsIn(t);
      info.numInputRecords += records;
      info.streamIdToInputInfo.push_back({static_cast<int>(id), input->inputName(), records});
    }
    // As in Spark, a batch's input is known when it starts: the running batch shows its records.
    notifyStarted();
    for (auto& n : nodes_) {
      if (n->computesEveryBatch()) n->computeBatch(t);
    }
    info.outputOperationInfos.reserve(outputs_.size());
    for (std::size_t id = 0; id < outputs_.size(); ++id) {
      auto& op = info.outputOperationInfos.emplace_back();
      op.id = static_cast<int>(id);
      op.name = outputs_[id].kind;
      op.startTime = clock_->now();
      try {
        outputs_[id].run(t);
      } catch (...) {
        op.endTime = clock_->now();
        op.failureReason = describe(std::current_exception());
        throw;
      }
      op.endTime = clock_->now();
    }
  } catch (...) {
    info.failureReason = describe(std::current_exception());
    info.numBadRecords = bad.load();
    if (!started) notifyStarted();  // every completed batch was started for its listeners
    collectStateInfos(info);
    {
      std::lock_guard lock(mu_);
      history_.push_back(info);
    }
    notify(*listeners, [&](StreamingListener& l) { l.onBatchCompleted(info); });
    throw Error(ErrorCode::kInternal, "batch at " + formatTime(t) + " failed: " + *info.failureReason);
  }
  for (auto& n : nodes_) n->clearOldData(t);
  info.processingEndTime = clock_->now();
  info.numBadRecords = bad.load();
  collectStateInfos(info);
  {
    std::lock_guard lock(mu_);
    history_.push_back(info);
    while (history_.size() > static_cast<std::size_t>(ui_.retainedBatches)) history_.pop_front();
  }
  notify(*listeners, [&](StreamingListener& l) { l.onBatchCompleted(info); });
  // A batch counts as completed (awaitBatchCompleted) once its listeners have heard it: the UI
  // and the rate controllers then show it to whoever waited for it.
  {
    std::lock_guard lock(mu_);
    lastCompleted_ = t;
  }
  progress_.notify_all();
}

void ContextCore::collectStateInfos(BatchInfo& info) const {
  for (const auto& n : nodes_) {
    if (auto size = n->stateSize()) {
      info.stateInfos.push_back({n->id(), n->uid().empty() ? n->kind() : n->uid(), size->keys, size->bytes});
    }
  }
}

void ContextCore::finish(std::exception_ptr error) {
  if (checkpoint_) {
    // The last checkpoints are written in the background: they must be on disk before the
    // context reports that it stopped.
    try {
      checkpoint_->flush();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  for (Node* source : sources_) source->asSource()->stopInput();
  if (signalSubscription_) unsubscribeFromShutdownSignals(signalSubscription_);
  {
    std::lock_guard lock(mu_);
    if (error && !error_) error_ = error;  // a source's reported error came first
    error = error_;
  }
  if (error) log_(LogLevel::kError, std::string(withoutDstreamPrefix(describe(error))) + "; stopping the context");
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    state_ = State::kStopped;
  }
  progress_.notify_all();
  notify([](StreamingListener& l) { l.onStreamingStopped(); });
}

void ContextCore::stop(bool gracefully) {
  bool neverStarted = false;
  {
    std::lock_guard lifecycle(lifecycleMu_);
    if (state_.load() == State::kInitialized) {
      state_ = State::kStopped;
      std::lock_guard lock(mu_);
      finished_ = true;
      progress_.notify_all();
      neverStarted = true;
    }
  }
  if (neverStarted) {
    stopUi();
    return;
  }
  requestStop(gracefully, nullptr);
  std::unique_lock lock(mu_);
  // From an output or a listener the loop cannot be waited for: it ends after the batch. The
  // same holds on a worker running a partition of the batch (it has the context's log sink).
  if (loopThread_ == std::this_thread::get_id() || currentLogSink() == &log_) return;
  progress_.wait(lock, [&] { return finished_; });
  lock.unlock();
  // One caller joins the thread; concurrent callers have seen the loop finish.
  std::jthread loop;
  {
    std::lock_guard lifecycle(lifecycleMu_);
    loop = std::move(loop_);
  }
  stopUi();
}

bool ContextCore::stopRequested() const {
  std::lock_guard lock(mu_);
  return stopRequested_;
}

void ContextCore::requestStop(bool gracefully) { requestStop(gracefully, nullptr); }

void ContextCore::reportError(std::exception_ptr error) { requestStop(false, std::move(error)); }

void ContextCore::requestStop(bool gracefully, std::exception_ptr error) {
  bool stopInputs = false;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    if (error && !error_) error_ = std::move(error);
    if (!stopRequested_) {
      stopRequested_ = true;
      graceful_ = gracefully;
      stopInputs = gracefully;
    } else if (!gracefully) {
      graceful_ = false;
    }
  }
  // Sources stop first, so that a graceful stop has a fixed amount of data to finish.
  if (stopInputs) {
    for (Node* source : sources_) source->asSource()->stopInput();
  }
  stopSource_.request_stop();
}

void ContextCore::awaitTermination() {
  std::unique_lock lock(mu_);
  progress_.wait(lock, [&] { return finished_; });
  if (error_) std::rethrow_exception(error_);
}

bool ContextCore::awaitTerminationOrTimeout(Duration timeout) {
  std::unique_lock lock(mu_);
  bool done = progress_.wait_for(lock, timeout, [&] { return finished_; });
  if (done && error_) std::rethrow_exception(error_);
  return done;
}

bool ContextCore::awaitBatchCompleted(Time t, Duration timeout) {
  std::unique_lock lock(mu_);
  progress_.wait_for(lock, timeout, [&] { return lastCompleted_ >= t || finished_; });
  return lastCompleted_ >= t;
}

std::vector<BatchInfo> ContextCore::completedBatches() const {
  std::lock_guard lock(mu_);
  return {history_.begin(), history_.end()};
}

}  // namespace dstream::detail
