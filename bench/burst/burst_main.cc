// bench_burst: one run of the burst benchmark (bench/burst/burst.py drives it). Reads the lab's
// Meetup RSVPs from a socketTextStream (dstream-replay sends a steady rate with a burst) into
// the lab's pipeline (each RSVP's venue, counted), deliberately slowed so that it processes at
// most --capacity records/s: each batch sleeps what its records would take at that rate, on
// top of the real work. With or without backpressure and a byte limit, it records every
// batch (records, scheduling delay, processing time, the receiver's rate limit and pending
// bytes, RSS), then waits for every line the sender sent to be counted (--sent-file, written
// by dstream-replay when it ends) or for --drain seconds, and prints one JSON line.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "core/context_core.h"
#include "dstream/dstream.h"
#include "dstream/json.h"
#include "dstream/testing.h"

namespace {

using namespace std::chrono_literals;

struct Sample {
  double t = 0;  // batch time, s since the first batch
  long records = 0;
  double schedulingMs = 0;
  double processingMs = 0;
  double rateLimit = 0;  // records/s; 0: unlimited
  long pendingBytes = 0;
  double rssMiB = 0;
  bool throttled = false;
};

// Every --sample-ms of real time, what a monitor would see now, batches late or not.
struct Tick {
  double t = 0;           // s since the first batch's time
  double ingestRate = 0;  // records/s the receiver took since the last tick
  double rateLimit = 0;
  long pendingBytes = 0;
  double rssMiB = 0;
  double delayNowS = 0;  // how late the next batch already is (0 when none is overdue)
  bool throttled = false;
};

class Recorder final : public dstream::StreamingListener {
 public:
  explicit Recorder(const dstream::detail::InputNode& input) : input_(input) {}
  void onBatchStarted(const dstream::BatchInfo& b) override {
    std::lock_guard lock(mu_);
    lastStarted_ = b.batchTime;
  }
  std::optional<dstream::Time> lastStarted() {
    std::lock_guard lock(mu_);
    return lastStarted_;
  }
  void onBatchCompleted(const dstream::BatchInfo& b) override {
    auto info = input_.receiverInfo();
    Sample s;
    std::lock_guard lock(mu_);
    if (!first_) first_ = b.batchTime;
    s.t = std::chrono::duration<double>(b.batchTime - *first_).count();
    s.records = static_cast<long>(b.numInputRecords);
    s.schedulingMs =
        static_cast<double>(b.schedulingDelay().value_or(dstream::Duration(0)).count());
    s.processingMs =
        static_cast<double>(b.processingDelay().value_or(dstream::Duration(0)).count());
    if (info) {
      s.rateLimit = info->rateLimit;
      s.pendingBytes = static_cast<long>(info->pendingBytes);
      s.throttled = info->throttled;
    }
    s.rssMiB = static_cast<double>(dstream::bench::currentRssBytes()) / (1 << 20);
    samples_.push_back(s);
  }
  std::vector<Sample> samples() {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  const dstream::detail::InputNode& input_;
  std::mutex mu_;
  std::optional<dstream::Time> first_;
  std::optional<dstream::Time> lastStarted_;
  std::vector<Sample> samples_;
};

long readSent(const std::string& path) {
  std::ifstream in(path);
  long n = -1;
  in >> n;
  return in ? n : -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_burst: one run of the burst benchmark (see bench/burst/burst.py)"};
  int port = 0, batchMs = 1000;
  double capacity = 2000, seconds = 70, drain = 120;
  bool backpressure = false;
  std::size_t maxReceivedBytes = 0;
  std::string sentFile;
  int sampleMs = 500;
  app.add_option("--sample-ms", sampleMs,
                 "How often to sample the receiver, RSS and the backlog (ms)");
  app.add_option("--port", port, "dstream-replay's port")->required();
  app.add_option("--batch-ms", batchMs, "Batch interval (ms)");
  app.add_option("--capacity", capacity, "Records/s the pipeline processes (it sleeps the rest)");
  app.add_option("--seconds", seconds, "How long the sender's schedule runs");
  app.add_option("--drain", drain,
                 "Seconds after the schedule to wait for every sent line (0: stop at once)");
  app.add_flag("--backpressure", backpressure, "spark.streaming.backpressure.enabled");
  app.add_option("--max-received-bytes", maxReceivedBytes,
                 "SocketStreamOptions.maxReceivedBytes (0: unlimited)");
  app.add_option("--sent-file", sentFile,
                 "Where dstream-replay writes the lines it sent, when it ends");
  CLI11_PARSE(app, argc, argv);

  dstream::ContextOptions options;
  options.backpressure.enabled = backpressure;
  options.ui.enabled = false;
  options.log = [](dstream::LogLevel, std::string_view) {
  };  // reconnect attempts once the sender ends
  dstream::StreamingContext ssc("local[2]", dstream::Milliseconds(batchMs), options);
  auto lines = ssc.socketTextStream("127.0.0.1", port, {.maxReceivedBytes = maxReceivedBytes});
  std::atomic<long> counted{0}, venues{0};
  lines.foreachRDD([&](const dstream::RDD<std::string_view>& rdd) {
    auto start = std::chrono::steady_clock::now();
    long n = 0, v = 0;
    for (std::string_view line : rdd.collect()) {
      ++n;
      if (dstream::json::field(line, "venue")) ++v;
    }
    counted += n;
    venues += v;
    // The deliberately slow part: a batch of n records takes n / capacity seconds in all.
    std::this_thread::sleep_until(start +
                                  std::chrono::duration<double>(static_cast<double>(n) / capacity));
  });
  auto& input = *dstream::detail::EngineAccess::core(ssc).inputs().at(0);
  auto recorder = std::make_shared<Recorder>(input);
  ssc.addStreamingListener(recorder);
  ssc.start();
  auto t0 = std::chrono::steady_clock::now();
  const dstream::Time firstBatch = dstream::testing::firstBatchTime(ssc);
  std::vector<Tick> ticks;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    long lastRecords = 0;
    auto lastAt = std::chrono::steady_clock::now();
    while (sampling) {
      std::this_thread::sleep_for(std::chrono::milliseconds(sampleMs));
      auto info = input.receiverInfo();
      auto at = std::chrono::steady_clock::now();
      dstream::Time now = dstream::SystemClock().now();
      Tick k;
      k.t = std::chrono::duration<double>(now - firstBatch).count();
      k.ingestRate = static_cast<double>(info->recordsReceived - lastRecords) /
                     std::chrono::duration<double>(at - lastAt).count();
      k.rateLimit = info->rateLimit;
      k.pendingBytes = static_cast<long>(info->pendingBytes);
      k.throttled = info->throttled;
      k.rssMiB = static_cast<double>(dstream::bench::currentRssBytes()) / (1 << 20);
      dstream::Time due = recorder->lastStarted()
                              ? *recorder->lastStarted() + dstream::Milliseconds(batchMs)
                              : firstBatch;
      k.delayNowS = std::max(0.0, std::chrono::duration<double>(now - due).count());
      lastRecords = info->recordsReceived;
      lastAt = at;
      ticks.push_back(k);
    }
  });
  // The sender's schedule starts when the receiver connects: where that is on the batches' axis.
  while (!input.receiverInfo()->active && std::chrono::steady_clock::now() < t0 + 30s)
    std::this_thread::sleep_for(1ms);
  double connectS = std::chrono::duration<double>(dstream::SystemClock().now() -
                                                  dstream::testing::firstBatchTime(ssc))
                        .count();
  std::this_thread::sleep_until(t0 + std::chrono::duration<double>(seconds));
  long sent = -1;
  auto drainEnd = std::chrono::steady_clock::now() + std::chrono::duration<double>(drain);
  while (std::chrono::steady_clock::now() < drainEnd) {
    if (sent < 0 && !sentFile.empty()) sent = readSent(sentFile);
    if (sent >= 0 && counted.load() >= sent) break;
    std::this_thread::sleep_for(100ms);
  }
  double ranFor = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto info = input.receiverInfo();
  sampling = false;
  sampler.join();
  ssc.stop(false);
  if (sent < 0 && !sentFile.empty()) sent = readSent(sentFile);
  auto samples = recorder->samples();
  std::printf(
      "{\"backpressure\": %s, \"capacity\": %.0f, \"batch_ms\": %d, \"max_received_bytes\": %zu, "
      "\"sent\": %ld, \"counted\": %ld, \"venues\": %ld, \"seconds\": %.1f, \"peak_rss_mib\": "
      "%.1f, "
      "\"pending_bytes_at_end\": %lld, \"connect_s\": %.3f, \"batches\": [",
      backpressure ? "true" : "false", capacity, batchMs, maxReceivedBytes, sent, counted.load(),
      venues.load(), ranFor, dstream::bench::peakRssMiB(),
      info ? static_cast<long long>(info->pendingBytes) : -1LL, connectS);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    std::printf("%s[%.3f, %ld, %.0f, %.0f, %.0f, %ld, %.1f, %d]", i ? ", " : "", s.t, s.records,
                s.schedulingMs, s.processingMs, s.rateLimit, s.pendingBytes, s.rssMiB,
                s.throttled ? 1 : 0);
  }
  std::printf("], \"ticks\": [");
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const Tick& k = ticks[i];
    std::printf("%s[%.3f, %.0f, %.0f, %ld, %.1f, %.3f, %d]", i ? ", " : "", k.t, k.ingestRate,
                k.rateLimit, k.pendingBytes, k.rssMiB, k.delayNowS, k.throttled ? 1 : 0);
  }
  std::printf("]}\n");
  return 0;
}
