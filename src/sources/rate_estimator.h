// PidRateEstimator is Spark's PIDRateEstimator: from each completed batch's size and delays it
// estimates the rate (records/s) at which a receiver should ingest so that batches keep up.
//
//   processingRate = records / processingDelay              what the batch managed
//   error          = latestRate - processingRate            what we asked for beyond that
//   historical     = schedulingDelay * processingRate / batchInterval
//                                                            the backlog, as a rate over a batch
//   newRate        = max(minRate, latestRate - proportional * error
//                                 - integral * historical - derived * dError/dt)
//
// The first usable batch only records its processing rate (no estimate yet). Batches with no
// records, no processing delay, or a completion time not after the last one are ignored.
// Thread-safety: none; the rate controller calls it from the batch thread.
#pragma once

#include <cstdint>
#include <optional>

#include "dstream/options.h"
#include "dstream/time.h"

namespace dstream::detail {

class PidRateEstimator {
 public:
  // Throws Error(kInvalidArgument) naming the setting (BackpressureOptions.proportional...)
  // for a negative gain, a non-positive minRate or batch interval.
  PidRateEstimator(Duration batchInterval, const BackpressureOptions& options);

  // Checks `options` as the constructor does, without an estimator.
  static void validate(const BackpressureOptions& options);

  // Returns the new rate in records/s, or nullopt when it cannot estimate from this batch.
  // `time` is when the batch completed.
  std::optional<double> compute(Time time, std::int64_t records, Duration processingDelay,
                                Duration schedulingDelay);

 private:
  const double batchIntervalMillis_;
  const double proportional_, integral_, derived_, minRate_;
  bool firstRun_ = true;
  std::int64_t latestTimeMillis_ = -1;
  double latestRate_ = -1;
  double latestError_ = -1;
};

}  // namespace dstream::detail
