// dstream::testing: run a pipeline over given input batches and get its output batches,
// deterministically (Spark's TestSuiteBase). The context runs on a ManualClock that the
// helper advances one batch at a time, waiting for each batch to finish: no sleeps.
//
//   auto out = dstream::testing::runStream<std::string>(
//       {{"a", "b"}, {"c"}, {}, {"d", "e", "f"}},
//       [](auto s) { return s.countByWindow(Seconds(30), Seconds(10)); },
//       {.batchDuration = Seconds(10)});
//   // out == {{2}, {3}, {3}, {4}}
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "dstream/clock.h"
#include "dstream/error.h"
#include "dstream/export.h"
#include "dstream/listener.h"
#include "dstream/streaming_context.h"

namespace dstream::testing {

// What tests and benchmarks read of a running context beyond Spark's API (the engine's
// progress), without reaching the engine itself.

// The first batch's time, known after start().
DSTREAM_EXPORT Time firstBatchTime(const StreamingContext& ssc);
// Waits until every batch up to and including `t` has finished (or the context stopped, or
// `timeout` passed); returns whether batch `t` completed. With a ManualClock: set the time,
// then wait for the batch.
DSTREAM_EXPORT bool awaitBatchCompleted(const StreamingContext& ssc, Time t, Duration timeout);
// The recent batches' metrics, oldest first (what listeners were told).
DSTREAM_EXPORT std::vector<BatchInfo> completedBatches(const StreamingContext& ssc);
// Whether stop(), a shutdown signal or a failed source has asked the context to stop.
DSTREAM_EXPORT bool stopRequested(const StreamingContext& ssc);

struct RunOptions {
  Duration batchDuration = Seconds(1);
  std::string master = "local[2]";
  std::size_t partitionsPerBatch = 1;  // each input batch is split into this many partitions
  std::size_t numBatches = 0;          // batches to run; 0 = one per input batch
};

// Views would dangle once the batch is gone: outputs hold std::string instead.
template <class T>
struct StoredOutput { using type = T; };
template <>
struct StoredOutput<std::string_view> { using type = std::string; };

// The batches with each batch's elements sorted: the order within a batch is unspecified
// (it depends on partitioning), so tests compare sorted batches.
template <class T>
std::vector<std::vector<T>> sortedWithinBatches(std::vector<std::vector<T>> batches) {
  for (auto& b : batches) std::sort(b.begin(), b.end());
  return batches;
}

// Runs `pipeline(inputStream)` over `input` (one vector per batch) and returns the output
// of each batch that produced one, in batch order. A failing batch's error is rethrown. The
// context serves no web UI, so tests run in parallel take no ports.
template <class In, class F>
auto runStream(std::vector<std::vector<In>> input, F pipeline, RunOptions options = {}) {
  ContextOptions contextOptions;
  auto clock = std::make_shared<ManualClock>();
  contextOptions.clock = clock;
  contextOptions.ui.enabled = false;
  StreamingContext ssc(options.master, options.batchDuration, std::move(contextOptions));
  auto queue = std::make_shared<RDDQueue<In>>();
  std::size_t numBatches = options.numBatches ? options.numBatches : input.size();
  for (auto& batch : input) queue->push(std::move(batch), options.partitionsPerBatch);

  auto result = pipeline(ssc.queueStream(queue));
  using Out = typename decltype(result)::value_type;
  using Kept = typename StoredOutput<Out>::type;
  std::mutex mu;
  std::map<Time, std::vector<Kept>> outputs;
  result.foreachRDD([&](const RDD<Out>& rdd, Time t) {
    std::vector<Kept> kept;
    for (const auto& x : rdd.collect()) kept.push_back(Kept(x));
    std::lock_guard lock(mu);
    outputs[t] = std::move(kept);
  });
  ssc.start();
  Time first = firstBatchTime(ssc);
  for (std::size_t i = 0; i < numBatches; ++i) {
    Time t = first + options.batchDuration * static_cast<long>(i);
    clock->setTime(t);
    if (!awaitBatchCompleted(ssc, t, Seconds(60))) {
      ssc.stop();
      ssc.awaitTermination();  // rethrows the batch's failure, if that is why
      throw Error(ErrorCode::kInternal, "runStream: batch at " + std::to_string(toMillis(t)) + " ms did not complete");
    }
  }
  ssc.stop();
  ssc.awaitTermination();
  std::vector<std::vector<Kept>> ordered;
  for (auto& [t, v] : outputs) ordered.push_back(std::move(v));
  return ordered;
}

}  // namespace dstream::testing
