// Running a context's batches one at a time on a ManualClock: set the clock to a batch time,
// then wait (with a deadline) for that batch to complete. Results are AssertionResults, so
//   ASSERT_TRUE(runBatches(ssc, *clock, 3));
// fails with the batch that did not complete.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dstream/clock.h"
#include "dstream/streaming_context.h"
#include "testing/wait.h"

namespace dstream::testing {

// `options` without the web UI: a test's context takes no port (tests/ui tests the UI).
inline ContextOptions withoutUi(ContextOptions options) {
  options.ui.enabled = false;
  return options;
}
// A test's context on `clock`, without the web UI.
inline ContextOptions onManualClock(std::shared_ptr<ManualClock> clock) {
  ContextOptions options;
  options.clock = std::move(clock);
  return withoutUi(std::move(options));
}

// Sets `clock` to `t` and waits for the batch at `t` to complete.
// REQUIRES: `ssc` has started and runs on `clock`.
::testing::AssertionResult runBatchAt(StreamingContext& ssc, ManualClock& clock, Time t,
                                      Duration timeout = kWaitTimeout);

// Runs `n` batches from `first` (default: the context's first batch time), one batch duration
// apart. REQUIRES: `ssc` has started and runs on `clock`.
::testing::AssertionResult runBatches(StreamingContext& ssc, ManualClock& clock, int n);
::testing::AssertionResult runBatches(StreamingContext& ssc, ManualClock& clock, Time first, int n);

// Runs the batches numbered `from`..`to` (batch i at zero + i batch durations), calling
// `before(i)` ahead of each: a file-stream test writes batch i's input there.
// REQUIRES: `ssc` has started and runs on `clock`.
::testing::AssertionResult runNumberedBatches(StreamingContext& ssc, ManualClock& clock, Time zero, int from, int to,
                                              const std::function<void(int)>& before = {});

// Runs batches `from`..`to` of a textFileStream over `dir`: before batch i (at zero + i batch
// durations) writes content(i) as "part-<i>", dated half a batch earlier, so that batch i reads it.
// REQUIRES: `ssc` has started and runs on `clock`.
::testing::AssertionResult runFileBatches(StreamingContext& ssc, ManualClock& clock, const std::filesystem::path& dir,
                                          Time zero, int from, int to, const std::function<std::string(int)>& content);
// Writes "part-<i>" as runFileBatches does, for the batch at `t` of a context with batches of `batch`.
void writeBatchFile(const std::filesystem::path& dir, int i, Time t, Duration batch, std::string_view content);

}  // namespace dstream::testing
