// bench_series: a long-window run recorded batch by batch, to show that per-batch cost and
// memory stay flat once the window is full. The workload is bench_mem's "windowed" (workload
// 3: reduceByKeyAndWindow(+, -, W, 1 s, drop zero counts) + top 10 per slide over W-records),
// driven the same way (queueStream, ManualClock advanced as soon as a batch completes), next
// to the same hand-written incremental loop; the checksums must agree (exit 1 otherwise).
//
//   bench_series --window 3600 --fill 3600 --batches 3600 --records 500
//
// runs --fill batches (the window filling up) then --batches more (the window full and sliding)
// and prints one JSON object: summary figures plus, for every batch, its wall time in ms and
// the process's RSS after it (and every 100th batch the heap in use), for dstream and for the loop (which runs second, in the same
// process, after dstream's context is gone: its RSS starts from what malloc kept).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_util.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "workloads.h"

namespace {

using namespace dstream;
using namespace dstream::bench;

// Heap in use is sampled every kHeapEvery batches only: mallinfo2() walks malloc's free lists.
constexpr int kHeapEvery = 100;

struct Series {
  std::vector<double> ms, rssMiB, heapMiB;
  void add(double seconds) {
    ms.push_back(seconds * 1000);
    rssMiB.push_back(static_cast<double>(currentRssBytes()) / (1 << 20));
    if ((ms.size() - 1) % kHeapEvery == 0) {
      // Unlike RSS, not raised by freed memory malloc keeps: tells growth from fragmentation.
      heapMiB.push_back(static_cast<double>(heapInUseBytes()) / (1 << 20));
    }
  }
};

// What the output operation writes into; read by the driver between batches
// (awaitBatchCompleted orders the accesses). As engine_workloads.cc's Sink.
struct Sink {
  Checksum sum;
  long keys = 0;
  Time first{};
};

// The window's pairs plus its top 10, checksummed as the engine's windowed workload does.
template <class KV>
void addPairsAndTop(Sink& s, const RDD<KV>& rdd, Time t) {
  s.keys = checksumPairsAndTop(s.sum, (t - s.first) / Seconds(1), rdd);
}

std::uint64_t runEngineSeries(const Input& in, const RunConfig& cfg, int batches, Series& series, long* keys) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[" + std::to_string(cfg.threads) + "]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string_view>>();
  Sink sink;
  ssc.queueStream(queue)
      .flatMap([](std::string_view l) { return dstream::words(l); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
      .reduceByKeyAndWindow([](long a, long b) { return a + b; }, [](long a, long b) { return a - b; },
                            Seconds(cfg.windowBatches), Seconds(1), 0, [](const auto& kv) { return kv.second != 0; })
      .foreachRDD([&sink](const auto& rdd, Time t) { addPairsAndTop(sink, rdd, t); });
  auto rdds = poolRDDs(in, cfg.threads);
  ssc.start();
  sink.first = dstream::testing::firstBatchTime(ssc);
  for (int b = 0; b < batches; ++b) {
    auto start = std::chrono::steady_clock::now();
    queue->push(rdds[static_cast<std::size_t>(b) % rdds.size()]);
    Time t = sink.first + Seconds(b);
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, Seconds(600))) {
      throw std::runtime_error("dstream batch " + std::to_string(b) + " did not complete");
    }
    series.add(secondsSince(start));
  }
  ssc.stop();
  ssc.awaitTermination();
  *keys = sink.keys;
  return sink.sum.value();
}

struct Phase {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};
Phase phase(const std::vector<double>& ms, std::size_t from, std::size_t to) {
  std::vector<double> v(ms.begin() + static_cast<std::ptrdiff_t>(from), ms.begin() + static_cast<std::ptrdiff_t>(to));
  Phase p;
  if (v.empty()) return p;
  p.p50 = percentile(v, 0.5), p.p99 = percentile(v, 0.99), p.max = percentile(v, 1.0);
  for (double x : v) p.mean += x / static_cast<double>(v.size());
  return p;
}

std::string array(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.2f}", i ? "," : "", v[i]);
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream long-window run, per-batch time and RSS (dstream vs the hand-written loop)"};
  RunConfig cfg;
  cfg.threads = 2;
  cfg.windowBatches = 3600;
  int fill = -1, measured = 3600;
  std::size_t records = 500, pool = 4;
  std::uint64_t vocab = 10000;
  app.add_option("--window", cfg.windowBatches, "window length in 1 s batches")->check(CLI::PositiveNumber);
  app.add_option("--fill", fill, "batches before the measured ones (default: the window)")->check(CLI::NonNegativeNumber);
  app.add_option("--batches", measured, "batches with the window full")->check(CLI::PositiveNumber);
  app.add_option("--records", records, "W-records per batch")->check(CLI::PositiveNumber);
  app.add_option("--vocab", vocab, "W-record vocabulary size")->check(CLI::PositiveNumber);
  app.add_option("--pool", pool, "distinct pre-generated batches to cycle through")->check(CLI::PositiveNumber);
  app.add_option("--threads", cfg.threads, "local[N]")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  if (fill < 0) fill = cfg.windowBatches;
  const int total = fill + measured;

  Input in = makeInput(DataKind::kWRecords, records, pool, vocab);
  Series engine, loop;
  long keys = 0;
  std::uint64_t engineSum = runEngineSeries(in, cfg, total, engine, &keys);
  const double enginePeakMiB = peakRssMiB();
  cfg.warmup = 0;
  cfg.measured = total;
  cfg.onBatch = [&loop](int, double seconds) { loop.add(seconds); };
  RunResult lr = runLoop(Workload::kWindowed, in, cfg);
  if (lr.checksum != engineSum) {
    std::fprintf(stderr, "bench_series: CHECKSUM MISMATCH: dstream %016llx, loop %016llx\n",
                 static_cast<unsigned long long>(engineSum), static_cast<unsigned long long>(lr.checksum));
    return 1;
  }
  const auto f = static_cast<std::size_t>(fill), t = static_cast<std::size_t>(total);
  Phase ef = phase(engine.ms, 0, f), es = phase(engine.ms, f, t), lf = phase(loop.ms, 0, f), ls = phase(loop.ms, f, t);
  // Flatness of the full window: the mean of its last tenth of batches over its first tenth's.
  std::size_t tenth = std::max<std::size_t>(1, (t - f) / 10);
  double firstTenth = phase(engine.ms, f, f + tenth).mean, lastTenth = phase(engine.ms, t - tenth, t).mean;
  double rssFull = f > 0 ? engine.rssMiB[f - 1] : engine.rssMiB.front();
  double rssMaxAfter = *std::max_element(engine.rssMiB.begin() + static_cast<std::ptrdiff_t>(f), engine.rssMiB.end());
  std::printf("%s\n", fmt::format(
      "{{\"workload\":\"windowed\",\"threads\":{},\"window_batches\":{},\"fill_batches\":{},\"measured_batches\":{},"
      "\"records_per_batch\":{},\"vocab\":{},\"keys\":{},"
      "\"engine_fill_ms_p50\":{:.2f},\"engine_ms_p50\":{:.2f},\"engine_ms_p99\":{:.2f},\"engine_ms_max\":{:.2f},"
      "\"engine_ms_mean\":{:.3f},\"engine_last_over_first_tenth\":{:.3f},"
      "\"loop_fill_ms_p50\":{:.2f},\"loop_ms_p50\":{:.2f},\"loop_ms_p99\":{:.2f},\"loop_ms_mean\":{:.3f},"
      "\"engine_rss_mib_window_full\":{:.0f},\"engine_rss_mib_max_after\":{:.0f},\"engine_rss_mib_end\":{:.0f},"
      "\"engine_peak_rss_mib\":{:.0f},\"peak_rss_mib\":{:.0f},\"checksum\":\"{:016x}\","
      "\"heap_every\":{},\"engine_ms\":{},\"engine_rss_mib\":{},\"engine_heap_mib\":{},\"loop_ms\":{},"
      "\"loop_rss_mib\":{},\"loop_heap_mib\":{}}}",
      cfg.threads, cfg.windowBatches, fill, measured, records, vocab, keys, ef.p50, es.p50, es.p99, es.max, es.mean,
      lastTenth / firstTenth, lf.p50, ls.p50, ls.p99, ls.mean, rssFull, rssMaxAfter, engine.rssMiB.back(),
      enginePeakMiB, peakRssMiB(), engineSum, kHeapEvery, array(engine.ms), array(engine.rssMiB),
      array(engine.heapMiB), array(loop.ms), array(loop.rssMiB), array(loop.heapMiB)).c_str());
  return 0;
}
