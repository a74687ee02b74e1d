#include "testing/batches.h"
#include "dstream/testing.h"
#include "testing/files.h"

#include <string>

namespace dstream::testing {

::testing::AssertionResult runBatchAt(StreamingContext& ssc, ManualClock& clock, Time t, Duration timeout) {
  clock.setTime(t);
  if (dstream::testing::awaitBatchCompleted(ssc, t, timeout)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the batch at " << toMillis(t) << " ms did not complete within "
                                       << timeout.count() << " ms";
}

::testing::AssertionResult runBatches(StreamingContext& ssc, ManualClock& clock, int n) {
  return runBatches(ssc, clock, dstream::testing::firstBatchTime(ssc), n);
}

::testing::AssertionResult runBatches(StreamingContext& ssc, ManualClock& clock, Time first, int n) {
  for (int i = 0; i < n; ++i) {
    auto done = runBatchAt(ssc, clock, first + ssc.batchDuration() * i);
    if (!done) return done << " (batch " << i + 1 << " of " << n << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult runNumberedBatches(StreamingContext& ssc, ManualClock& clock, Time zero, int from, int to,
                                              const std::function<void(int)>& before) {
  for (int i = from; i <= to; ++i) {
    if (before) before(i);
    auto done = runBatchAt(ssc, clock, zero + ssc.batchDuration() * i);
    if (!done) return done << " (batch " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult runFileBatches(StreamingContext& ssc, ManualClock& clock, const std::filesystem::path& dir,
                                          Time zero, int from, int to, const std::function<std::string(int)>& content) {
  Duration batch = ssc.batchDuration();
  return runNumberedBatches(ssc, clock, zero, from, to,
                            [&](int i) { writeBatchFile(dir, i, zero + batch * i, batch, content(i)); });
}

void writeBatchFile(const std::filesystem::path& dir, int i, Time t, Duration batch, std::string_view content) {
  writeFileAt(dir, "part-" + std::to_string(i), content, t - batch / 2);
}

}  // namespace dstream::testing
