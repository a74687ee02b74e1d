#include "sources/rate_controller.h"

#include <utility>

namespace dstream::detail {

ReceiverRateController::ReceiverRateController(int inputStreamId, Duration batchInterval,
                                               const BackpressureOptions& options,
                                               std::function<void(double)> publish)
    : inputStreamId_(inputStreamId),
      publish_(std::move(publish)),
      estimator_(batchInterval, options) {}

void ReceiverRateController::onBatchCompleted(const BatchInfo& info) {
  // A failed batch has no end time: nothing to learn from it (as Spark, which needs all four).
  auto processing = info.processingDelay();
  auto scheduling = info.schedulingDelay();
  if (!info.processingEndTime || !processing || !scheduling) return;
  for (const StreamInputInfo& input : info.streamIdToInputInfo) {
    if (input.inputStreamId != inputStreamId_) continue;
    std::optional<double> rate;
    {
      std::lock_guard lock(mu_);
      rate =
          estimator_.compute(*info.processingEndTime, input.numRecords, *processing, *scheduling);
      if (rate) latest_ = rate;
    }
    if (rate) publish_(*rate);
    return;
  }
}

std::optional<double> ReceiverRateController::latestRate() const {
  std::lock_guard lock(mu_);
  return latest_;
}

}  // namespace dstream::detail
