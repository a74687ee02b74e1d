// dstream::testing's view of a running context (testing.h), through the engine.
#include "core/context_core.h"
#include "dstream/testing.h"

namespace dstream::testing {

Time firstBatchTime(const StreamingContext& ssc) { return dstream::detail::EngineAccess::core(ssc).firstBatchTime(); }

bool awaitBatchCompleted(const StreamingContext& ssc, Time t, Duration timeout) {
  return dstream::detail::EngineAccess::core(ssc).awaitBatchCompleted(t, timeout);
}

std::vector<BatchInfo> completedBatches(const StreamingContext& ssc) {
  return dstream::detail::EngineAccess::core(ssc).completedBatches();
}

bool stopRequested(const StreamingContext& ssc) { return dstream::detail::EngineAccess::core(ssc).stopRequested(); }

}  // namespace dstream::testing
