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
#include <vector>

#include "dstream/export.h"
#include "dstream/time.h"

namespace dstream {

// One input stream's share of a batch (Spark's StreamInputInfo). Input streams are numbered
// from 0 in the order they were defined.
struct StreamInputInfo {
  int inputStreamId = 0;
  std::string name;  // "socketTextStream localhost:9999", "textFileStream /data/in"...
  std::int64_t numRecords = 0;
};

// One output operation of a batch (Spark's OutputOperationInfo). Output operations are
// numbered from 0 in the order they were defined, and run in that order.
struct OutputOperationInfo {
  int id = 0;
  std::string name;         // "pprint", "foreachRDD", "saveAsTextFiles"...
  std::string description;  // where it was defined, when known
  std::optional<Time> startTime;
  std::optional<Time> endTime;
  std::optional<std::string> failureReason;

  std::optional<Duration> duration() const {
    if (!startTime || !endTime) return std::nullopt;
    return *endTime - *startTime;
  }
};

// A receiver's state now (Spark's ReceiverInfo, plus the rate control's view of it).
struct ReceiverInfo {
  int inputStreamId = 0;
  std::string name;      // "socketTextStream localhost:9999"
  bool active = false;   // connected and reading
  std::string location;  // the peer it reads from
  std::optional<std::string> lastError;
  std::optional<Time> lastErrorTime;
  bool writeAheadLog = false;
  std::int64_t recordsReceived = 0;
  std::int64_t bytesReceived = 0;
  std::int64_t recordsDropped = 0;      // over-long or truncated lines
  double rateLimit = 0;                 // records/s it may take now; 0: unlimited
  std::int64_t pendingBytes = 0;        // received, not yet taken by a batch
  std::int64_t maxPendingBytes = 0;     // its byte limit; 0: unlimited
  bool throttled = false;               // holding back now: at the rate or the byte limit
};

// A stateful stream's state after a batch (dstream's; Spark reports the same figures for
// Structured Streaming's state stores: numRowsTotal, memoryUsedBytes). One per stream that
// keeps keyed state across batches: updateStateByKey, mapWithState, reduceByKeyAndWindow
// (and the count/reduce windows built on it).
struct StateInfo {
  int streamId = 0;   // the stream's place among all streams, in the order they were defined
  std::string name;   // the stream's uid when it has one, else its operation ("mapWithState")
  std::int64_t numKeys = 0;
  // An estimate, cheap to make: the hash tables' and vectors' capacity times their entry
  // size, plus the heap memory keys and states own (long strings, vectors), extrapolated
  // from a sample of the entries. Memory behind other types' pointers is not counted.
  std::int64_t memoryUsedBytes = 0;
};

struct BatchInfo {
  Time batchTime;                             // the batch: data that arrived in [t - d, t)
  Time submissionTime;                        // when the batch was due (clock time)
  std::optional<Time> processingStartTime;    // when it started running
  std::optional<Time> processingEndTime;      // when its last output operation finished
  std::int64_t numInputRecords = 0;           // records from all input streams
  std::int64_t numBadRecords = 0;             // records reported bad while it ran
  std::optional<std::string> failureReason;   // set when the batch failed
  std::vector<StreamInputInfo> streamIdToInputInfo;   // per input stream, by id
  std::vector<OutputOperationInfo> outputOperationInfos;  // per output operation, by id
  std::vector<StateInfo> stateInfos;  // per stateful stream, by id: its state when the batch ended

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
  // When the batch's input is known (streamIdToInputInfo, numInputRecords), before its output
  // operations run.
  virtual void onBatchStarted(const BatchInfo&) {}
  // When its last output operation finished or it failed; with stateInfos.
  virtual void onBatchCompleted(const BatchInfo&) {}
  virtual void onStreamingStarted(Time) {}
  virtual void onStreamingStopped() {}
};

}  // namespace dstream
