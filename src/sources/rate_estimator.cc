#include "sources/rate_estimator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dstream/error.h"

namespace dstream::detail {

void PidRateEstimator::validate(const BackpressureOptions& o) {
  auto check = [](bool ok, const char* setting, double value, const char* rule) {
    if (!ok) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("BackpressureOptions.{} is {}; it must be {}", setting, value, rule));
    }
  };
  // NaN fails every comparison below, so it is refused too.
  check(o.proportional >= 0, "proportional", o.proportional, ">= 0 (Spark's default: 1.0)");
  check(o.integral >= 0, "integral", o.integral, ">= 0 (Spark's default: 0.2)");
  check(o.derived >= 0, "derived", o.derived, ">= 0 (Spark's default: 0.0)");
  check(o.minRate > 0 && std::isfinite(o.minRate), "minRate", o.minRate,
        "> 0 records/s (Spark's default: 100)");
  check(o.initialRate >= 0, "initialRate", static_cast<double>(o.initialRate),
        ">= 0 records/s (0: unlimited)");
}

PidRateEstimator::PidRateEstimator(Duration batchInterval, const BackpressureOptions& o)
    : batchIntervalMillis_(static_cast<double>(batchInterval.count())),
      proportional_(o.proportional),
      integral_(o.integral),
      derived_(o.derived),
      minRate_(o.minRate) {
  if (batchInterval <= Duration::zero()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("rate estimator: the batch interval {} must be positive",
                            formatDuration(batchInterval)));
  }
  validate(o);
}

std::optional<double> PidRateEstimator::compute(Time time, std::int64_t records,
                                                Duration processingDelay,
                                                Duration schedulingDelay) {
  std::int64_t now = toMillis(time);
  if (now <= latestTimeMillis_ || records <= 0 || processingDelay <= Duration::zero())
    return std::nullopt;
  double sinceUpdate = static_cast<double>(now - latestTimeMillis_) / 1000;  // s
  double processingRate =
      static_cast<double>(records) / static_cast<double>(processingDelay.count()) * 1000;
  double error = latestRate_ - processingRate;
  // A scheduling delay s means about s * processingRate records that earlier batches could not
  // take; spread over one batch interval, that is the rate we asked for in excess.
  double historicalError =
      static_cast<double>(schedulingDelay.count()) * processingRate / batchIntervalMillis_;
  double dError = (error - latestError_) / sinceUpdate;
  double newRate = std::max(minRate_, latestRate_ - proportional_ * error -
                                          integral_ * historicalError - derived_ * dError);
  latestTimeMillis_ = now;
  if (firstRun_) {  // nothing asked for yet: this batch's rate is the reference
    firstRun_ = false;
    latestRate_ = processingRate;
    latestError_ = 0;
    return std::nullopt;
  }
  latestRate_ = newRate;
  latestError_ = error;
  return newRate;
}

}  // namespace dstream::detail
