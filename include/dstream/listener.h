// Per-batch metrics and the listener interface that reports them (Spark's StreamingListener
// and BatchInfo). A web UI, Prometheus metrics and rate control are built on this.
//
// Thread-safety: listeners are called on the batch thread, one call at a time, in batch
// order; they may be added from any thread, also while the context runs (a listener added
// during a batch is called from the next one). A listener must not block for long; it may
// call stop(), which then returns at once. A listener that throws is logged (log.h) and
// skipped, as on Spark's listener bus: it does not fail the batch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dstream/export.h"
#include "dstream/time.h"

namespace dstream {

struct BatchInfo {
  Time batchTime;                             // the batch: data that arrived in [t - d, t)
  Time submissionTime;                        // when the batch was due (clock time)
  std::optional<Time> processingStartTime;    // when it started running
  std::optional<Time> processingEndTime;      // when its last output operation finished
  std::int64_t numInputRecords = 0;           // records from all input streams
  std::int64_t numBadRecords = 0;             // records reported bad while it ran
  std::optional<std::string> failureReason;   // set when the batch failed

  // How long the batch waited for the previous one (Spark's scheduling delay).
  std::optional<Duration> schedulingDelay() const {
    if (!processingStartTime) return std::nullopt;
    return *processingStartTime - submissionTime;
  }
  std::optional<Duration> processingDelay() const {
    if (!processingStartTime || !processingEndTime) return std::nullopt;
    return *processingEndTime - *processingStartTime;
  }
  std::optional<Duration> totalDelay() const {
    if (!processingEndTime) return std::nullopt;
    return *processingEndTime - submissionTime;
  }
};

class DSTREAM_EXPORT StreamingListener {
 public:
  virtual ~StreamingListener() = default;
  virtual void onBatchStarted(const BatchInfo&) {}
  virtual void onBatchCompleted(const BatchInfo&) {}
  virtual void onStreamingStarted(Time) {}
  virtual void onStreamingStopped() {}
};

}  // namespace dstream
