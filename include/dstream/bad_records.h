// Bad input is counted, not fatal. A per-record helper that meets a record it cannot use
// (malformed JSON, an over-long line) calls reportBadRecord(); the engine adds the count
// to the running batch's BatchInfo and logs the first few, with where they came from, to
// the context's log sink (log.h).
//
// Thread-safety: reportBadRecord may be called from any worker or receiver thread; a record
// reported on a worker thread counts against the batch whose partition the worker runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "dstream/export.h"

namespace dstream {

// What to do with a record that a helper cannot use.
enum class OnBadRecord {
  kSkip,  // count it, log the first few, and drop it (the default)
  kFail,  // throw dstream::Error: the batch fails and awaitTermination() rethrows it
};

// Counts one bad record against the batch being computed on this thread (or against the
// process-wide total when no batch is running), and logs `what` (where the record came
// from: "json: venue", "socket localhost:9999") with `detail` (why it is bad) for the
// first few per batch.
DSTREAM_EXPORT void reportBadRecord(std::string_view what, std::string_view detail);

// The process-wide number of bad records reported so far.
DSTREAM_EXPORT std::int64_t totalBadRecords();

namespace detail {
// Installs a per-batch counter for the calling thread while a task of that batch runs.
class BadRecordScope {
 public:
  explicit BadRecordScope(std::atomic<std::int64_t>* counter);
  ~BadRecordScope();
  BadRecordScope(const BadRecordScope&) = delete;
  BadRecordScope& operator=(const BadRecordScope&) = delete;

 private:
  std::atomic<std::int64_t>* previous_;
};

// The counter installed on the calling thread, or null outside batches. The thread pool
// installs its caller's counter on the workers that help it.
std::atomic<std::int64_t>* currentBadRecordCounter();
}  // namespace detail

}  // namespace dstream
