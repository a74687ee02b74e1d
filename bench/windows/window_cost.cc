// Per-batch cost of reduceByKeyAndWindow: with an inverse function a slide should cost the
// batches entering and leaving, whatever the window; without one, the whole window is
// reduced again. Words are generated deterministically (splitmix64), 200k records per 1 s
// batch over 10,000 distinct keys; a ManualClock runs batches back to back.
//
//   bench_window_cost [records per batch] [measured batches]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"

namespace {

using namespace dstream;
using KV = std::pair<std::string, long>;

constexpr std::uint64_t kKeys = 10'000;

std::vector<std::string> generateBatch(std::uint64_t& seed, std::size_t records) {
  std::vector<std::string> words;
  words.reserve(records);
  for (std::size_t i = 0; i < records; ++i) words.push_back("word" + std::to_string(mix64(seed++) % kKeys));
  return words;
}

// Runs `warmup + measured` batches; returns the mean milliseconds of the measured ones
// (generation of the input excluded).
double msPerBatch(const std::function<DStream<KV>(DStream<std::string>)>& build, std::size_t records, int warmup,
                  int measured) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string>>();
  long sink = 0;
  build(ssc.queueStream(queue)).foreachRDD([&sink](const RDD<KV>& rdd) { sink += rdd.count(); });
  ssc.start();
  Time first = dstream::testing::firstBatchTime(ssc);
  std::uint64_t seed = 7;
  double total = 0;
  for (int b = 0; b < warmup + measured; ++b) {
    queue->push(generateBatch(seed, records), 2);
    Time t = first + Seconds(b);
    auto start = std::chrono::steady_clock::now();
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, Seconds(600))) {
      std::fprintf(stderr, "batch %d did not complete\n", b);
      std::exit(1);
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (b >= warmup) total += ms;
  }
  ssc.stop();
  ssc.awaitTermination();
  if (sink < 0) std::printf("unreachable\n");
  return total / measured;
}

auto pairs(DStream<std::string> s) {
  return s.map([](const std::string& w) { return std::pair<std::string_view, long>(w, 1L); });
}
const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };
const auto kNonZero = [](const KV& kv) { return kv.second != 0; };

}  // namespace

int main(int argc, char** argv) {
  std::size_t records = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200'000;
  int measured = argc > 2 ? std::atoi(argv[2]) : 20;
  const int warmup = 31;  // the 30-slide window is full before measuring
  std::printf("reduceByKeyAndWindow, %zu records/batch, %llu keys, local[2], %d measured batches after %d warm-up\n\n",
              records, static_cast<unsigned long long>(kKeys), measured, warmup);
  struct Row {
    const char* name;
    std::function<DStream<KV>(DStream<std::string>)> build;
  };
  std::vector<Row> rows = {
      {"per-batch reduceByKey (floor)", [](auto s) { return DStream<KV>(pairs(s).reduceByKey(kAdd).map([](const auto& kv) { return KV(std::string(kv.first), kv.second); })); }},
      {"inverse, window 3 slides", [](auto s) { return DStream<KV>(pairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 0, kNonZero)); }},
      {"inverse, window 30 slides", [](auto s) { return DStream<KV>(pairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(30), Seconds(1), 0, kNonZero)); }},
      {"no inverse, window 3 slides", [](auto s) { return DStream<KV>(pairs(s).reduceByKeyAndWindow(kAdd, Seconds(3), Seconds(1))); }},
      {"no inverse, window 30 slides", [](auto s) { return DStream<KV>(pairs(s).reduceByKeyAndWindow(kAdd, Seconds(30), Seconds(1))); }},
  };
  std::vector<double> ms;
  std::printf("%-32s %12s\n", "operation", "ms/batch");
  for (const auto& row : rows) {
    ms.push_back(msPerBatch(row.build, records, warmup, measured));
    std::printf("%-32s %12.2f\n", row.name, ms.back());
  }
  std::printf("\nratio 30-slide / 3-slide: inverse %.2f, no inverse %.2f\n", ms[2] / ms[1], ms[4] / ms[3]);
  return 0;
}
