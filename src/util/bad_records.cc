#include "dstream/bad_records.h"

#include <string>

#include "dstream/log.h"

namespace dstream {
namespace {

std::atomic<std::int64_t> gTotal{0};
std::atomic<std::int64_t> gOutsideBatches{0};
thread_local std::atomic<std::int64_t>* tBatchCounter = nullptr;
constexpr std::int64_t kLoggedPerBatch = 5;

}  // namespace

void reportBadRecord(std::string_view what, std::string_view detail) {
  gTotal.fetch_add(1, std::memory_order_relaxed);
  // Log the first few of each batch (or, outside batches, of the process), then every
  // thousandth, so that a stream of bad input cannot flood the log.
  std::int64_t seen = tBatchCounter ? tBatchCounter->fetch_add(1, std::memory_order_relaxed)
                                    : gOutsideBatches.fetch_add(1, std::memory_order_relaxed);
  if (seen < kLoggedPerBatch || seen % 1000 == 0) {
    // Keep the log line bounded whatever the record was.
    std::string line = "bad record (";
    line += what;
    line += "): ";
    line += detail.substr(0, 200);
    if (detail.size() > 200) line += "...";
    detail::logLine(LogLevel::kWarning, line);
  }
}

std::int64_t totalBadRecords() { return gTotal.load(std::memory_order_relaxed); }

namespace detail {
BadRecordScope::BadRecordScope(std::atomic<std::int64_t>* counter) : previous_(tBatchCounter) {
  tBatchCounter = counter;
}
BadRecordScope::~BadRecordScope() { tBatchCounter = previous_; }
std::atomic<std::int64_t>* currentBadRecordCounter() { return tBatchCounter; }
}  // namespace detail

}  // namespace dstream
