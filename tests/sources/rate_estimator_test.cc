// PidRateEstimator against values computed by hand from Spark's PIDRateEstimator formula
// (rate_estimator.h), and its documented behaviours: no estimate from the first batch, none
// when time does not move or a batch has no records or no processing delay, never below
// minRate; and ReceiverRateController's choice of batches and streams.
#include "sources/rate_estimator.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "dstream/error.h"
#include "sources/rate_controller.h"
#include "testing/errors.h"

namespace dstream::detail {
namespace {

using testing::expectInvalid;

Time at(long ms) { return timeFromMillis(ms); }

// Batches of 1s, Spark's gains (proportional 1, integral 0.2, derived 0, minRate 100).
PidRateEstimator sparkDefaults() { return PidRateEstimator(Seconds(1), BackpressureOptions{}); }

TEST(PidRateEstimatorTest, TheFirstBatchOnlyRecordsItsProcessingRate) {
  auto e = sparkDefaults();
  EXPECT_EQ(e.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0)), std::nullopt);
  // The reference is that batch's rate, 1000/s: 500 records in 1s asks for 500/s.
  //   error = 1000 - 500 = 500; newRate = 1000 - 1 * 500 = 500
  EXPECT_DOUBLE_EQ(*e.compute(at(2000), 500, Milliseconds(1000), Milliseconds(0)), 500);
}

TEST(PidRateEstimatorTest, ProportionalAndIntegralTermsByHand) {
  auto e = sparkDefaults();
  e.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0));  // reference 1000/s
  EXPECT_DOUBLE_EQ(*e.compute(at(2000), 500, Milliseconds(1000), Milliseconds(0)), 500);
  // 500 records in 500 ms: 1000/s; waited 2s. error = 500 - 1000 = -500;
  // historical = 2000 ms * 1000/s / 1000 ms = 2000; newRate = 500 + 500 - 0.2 * 2000 = 600
  EXPECT_DOUBLE_EQ(*e.compute(at(3000), 500, Milliseconds(500), Milliseconds(2000)), 600);
}

TEST(PidRateEstimatorTest, DerivedTermByHand) {
  PidRateEstimator e(Seconds(1), {.derived = 0.5});
  e.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0));  // reference 1000/s, error 0
  // error = 500, dError = (500 - 0) / 1s = 500; newRate = 1000 - 500 - 0.5 * 500 = 250
  EXPECT_DOUBLE_EQ(*e.compute(at(2000), 500, Milliseconds(1000), Milliseconds(0)), 250);
  // Two seconds later: error = 250 - 1000 = -750, historical = 2000,
  // dError = (-750 - 500) / 2s = -625; newRate = 250 + 750 - 400 + 312.5 = 912.5
  EXPECT_DOUBLE_EQ(*e.compute(at(4000), 500, Milliseconds(500), Milliseconds(2000)), 912.5);
}

TEST(PidRateEstimatorTest, NeverBelowMinRate) {
  auto e = sparkDefaults();
  e.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0));
  // 10 records in 1s: error = 990, 1000 - 990 = 10 < 100
  EXPECT_DOUBLE_EQ(*e.compute(at(2000), 10, Milliseconds(1000), Milliseconds(0)), 100);
  PidRateEstimator low(Seconds(1), {.minRate = 5});
  low.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0));
  EXPECT_DOUBLE_EQ(*low.compute(at(2000), 10, Milliseconds(1000), Milliseconds(0)), 10);
}

TEST(PidRateEstimatorTest, NoEstimateWhenTimeDoesNotMoveOrABatchHasNothingToMeasure) {
  auto e = sparkDefaults();
  e.compute(at(1000), 1000, Milliseconds(1000), Milliseconds(0));
  EXPECT_EQ(e.compute(at(1000), 500, Milliseconds(1000), Milliseconds(0)),
            std::nullopt);  // same time
  EXPECT_EQ(e.compute(at(900), 500, Milliseconds(1000), Milliseconds(0)), std::nullopt);  // earlier
  EXPECT_EQ(e.compute(at(2000), 0, Milliseconds(1000), Milliseconds(0)),
            std::nullopt);  // no records
  EXPECT_EQ(e.compute(at(2000), 500, Milliseconds(0), Milliseconds(0)), std::nullopt);  // no delay
  // The skipped calls changed nothing: the same estimate as without them.
  EXPECT_DOUBLE_EQ(*e.compute(at(2000), 500, Milliseconds(1000), Milliseconds(0)), 500);
  // A first batch without records is not the reference either.
  auto f = sparkDefaults();
  EXPECT_EQ(f.compute(at(1000), 0, Milliseconds(1000), Milliseconds(0)), std::nullopt);
  EXPECT_EQ(f.compute(at(2000), 1000, Milliseconds(1000), Milliseconds(0)), std::nullopt);
  EXPECT_TRUE(f.compute(at(3000), 1000, Milliseconds(1000), Milliseconds(0)).has_value());
}

TEST(PidRateEstimatorTest, SteadyBatchesThatKeepUpKeepTheirRate) {
  auto e = sparkDefaults();
  e.compute(at(1000), 2000, Milliseconds(1000), Milliseconds(0));
  for (long t = 2000; t <= 10'000; t += 1000) {
    EXPECT_DOUBLE_EQ(*e.compute(at(t), 2000, Milliseconds(1000), Milliseconds(0)), 2000) << t;
  }
}

TEST(PidRateEstimatorTest, BadSettingsAreRefusedNamingThem) {
  expectInvalid(
      [] { PidRateEstimator(Seconds(1), {.proportional = -1}); },
      "dstream: BackpressureOptions.proportional is -1; it must be >= 0 (Spark's default: 1.0)");
  expectInvalid(
      [] { PidRateEstimator(Seconds(1), {.integral = -0.5}); },
      "dstream: BackpressureOptions.integral is -0.5; it must be >= 0 (Spark's default: 0.2)");
  expectInvalid(
      [] { PidRateEstimator(Seconds(1), {.derived = -2}); },
      "dstream: BackpressureOptions.derived is -2; it must be >= 0 (Spark's default: 0.0)");
  expectInvalid(
      [] { PidRateEstimator(Seconds(1), {.minRate = 0}); },
      "dstream: BackpressureOptions.minRate is 0; it must be > 0 records/s (Spark's default: 100)");
  expectInvalid(
      [] { PidRateEstimator(Seconds(1), {.initialRate = -5}); },
      "dstream: BackpressureOptions.initialRate is -5; it must be >= 0 records/s (0: unlimited)");
  expectInvalid([] { PidRateEstimator(Milliseconds(0), {}); },
                "dstream: rate estimator: the batch interval 0ms must be positive");
}

// ---- ReceiverRateController ----

BatchInfo completed(long t, std::vector<StreamInputInfo> inputs, long processingMs,
                    long waitedMs = 0) {
  BatchInfo b;
  b.batchTime = at(t);
  b.submissionTime = at(t);
  b.processingStartTime = at(t + waitedMs);
  b.processingEndTime = at(t + waitedMs + processingMs);
  b.streamIdToInputInfo = std::move(inputs);
  return b;
}

TEST(ReceiverRateControllerTest, PublishesItsOwnStreamsEstimates) {
  std::vector<double> published;
  ReceiverRateController c(1, Seconds(1), {}, [&](double r) { published.push_back(r); });
  // Stream 0 is busy, stream 1 (ours) has 1000 then 500 records a second.
  c.onBatchCompleted(completed(1000, {{0, "a", 99'999}, {1, "b", 1000}}, 1000));
  EXPECT_TRUE(published.empty());  // the first batch only records
  EXPECT_EQ(c.latestRate(), std::nullopt);
  c.onBatchCompleted(completed(2000, {{0, "a", 99'999}, {1, "b", 500}}, 1000));
  EXPECT_EQ(published, (std::vector<double>{500}));
  EXPECT_EQ(c.latestRate(), 500);
}

TEST(ReceiverRateControllerTest, IgnoresFailedBatchesAndBatchesWithoutItsStream) {
  std::vector<double> published;
  ReceiverRateController c(0, Seconds(1), {}, [&](double r) { published.push_back(r); });
  c.onBatchCompleted(completed(1000, {{0, "a", 1000}}, 1000));
  BatchInfo failed = completed(2000, {{0, "a", 10}}, 1000);
  failed.processingEndTime.reset();
  failed.failureReason = "boom";
  c.onBatchCompleted(failed);
  c.onBatchCompleted(completed(3000, {{5, "other", 10}}, 1000));
  EXPECT_TRUE(published.empty());
  c.onBatchCompleted(completed(4000, {{0, "a", 1000}}, 1000));
  EXPECT_EQ(published, (std::vector<double>{1000}));
}

}  // namespace
}  // namespace dstream::detail
