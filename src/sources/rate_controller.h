// ReceiverRateController is Spark's ReceiverRateController: a StreamingListener that feeds each
// completed batch of one input stream (its records, processing and scheduling delays) to a
// PidRateEstimator and publishes every estimate to that stream's receiver, which reads no
// faster from then on (SocketLineReceiver::setRate caps it at maxRatePerSecond).
//
// The estimate is computed on the batch thread as the batch completes: it is a few arithmetic
// operations (Spark hands it to a thread only to keep its listener bus free).
// Thread-safety: onBatchCompleted and latestRate may be called from any thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

#include "dstream/listener.h"
#include "dstream/options.h"
#include "sources/rate_estimator.h"

namespace dstream::detail {

class ReceiverRateController final : public StreamingListener {
 public:
  // `publish` receives each new rate (records/s). Throws as PidRateEstimator's constructor.
  ReceiverRateController(int inputStreamId, Duration batchInterval,
                         const BackpressureOptions& options, std::function<void(double)> publish);

  void onBatchCompleted(const BatchInfo& info) override;

  // The last rate published; nullopt before the first estimate.
  std::optional<double> latestRate() const;

 private:
  const int inputStreamId_;
  const std::function<void(double)> publish_;
  mutable std::mutex mu_;
  PidRateEstimator estimator_;    // guarded by mu_
  std::optional<double> latest_;  // guarded by mu_
};

}  // namespace dstream::detail
