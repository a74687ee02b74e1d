// bench_latency: batches on the system clock under a fixed offered rate through the socket
// source (an in-process tools::LineServer with --rate), the per-batch WordCount as the work.
// Reports p50/p99 of scheduling delay and processing time (from BatchInfo) and of total
// delay per record, approximated as: the batch's output written (processingEndTime) minus
// the record's arrival, with arrivals spread evenly over the batch's interval [t - d, t)
// (the receiver puts a line received at time a into the batch ending after a). Prints one
// JSON object.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_util.h"
#include "datagen/datagen.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "replay/line_input.h"
#include "replay/line_server.h"

namespace {

using namespace dstream;
using namespace dstream::bench;

class Recorder final : public StreamingListener {
 public:
  void onBatchCompleted(const BatchInfo& info) override {
    std::lock_guard lock(mu_);
    batches_.push_back(info);
  }
  std::vector<BatchInfo> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<BatchInfo> batches_;
};

double ms(Duration d) { return static_cast<double>(d.count()); }

// --work raw: the paced sender alone, read by a plain client (recv() into 1 MiB, newlines
// counted), no engine. Shows the rate the paced LineServer delivers when the receiver keeps
// up, and checks it never runs ahead of its schedule (lines received by time T at most
// 1 + rate * (T - connect)). Prints one JSON object.
int runRaw(tools::LineServer& server, double rate, double seconds, double skipSeconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(server.port());
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto connectAt = std::chrono::steady_clock::now();
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::perror("bench_latency: connect");
    return 1;
  }
  std::vector<char> buf(1 << 20);
  const auto from = connectAt + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(skipSeconds));
  const auto until = from + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(seconds));
  std::uint64_t lines = 0, atFrom = 0;
  bool started = false;
  double maxAhead = -1;  // max of lines received minus lines due (positive = ahead of the schedule)
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    auto now = std::chrono::steady_clock::now();
    if (n <= 0) break;
    lines += tools::countNewlines(buf.data(), static_cast<std::size_t>(n));
    maxAhead = std::max(maxAhead, static_cast<double>(lines) -
                                      (1 + rate * std::chrono::duration<double>(now - connectAt).count()));
    if (!started && now >= from) {
      started = true;
      atFrom = lines;
    }
    if (now >= until) break;
  }
  double measured = std::chrono::duration<double>(until - from).count();
  ::close(fd);
  double achieved = static_cast<double>(lines - atFrom) / measured;
  std::printf("{\"work\":\"raw\",\"offered_rate\":%.0f,\"achieved_rate\":%.0f,\"seconds\":%.1f,"
              "\"lines\":%llu,\"max_ahead_lines\":%.0f,\"kept_up\":%s}\n",
              rate, achieved, measured, static_cast<unsigned long long>(lines - atFrom), maxAhead,
              achieved >= 0.98 * rate ? "true" : "false");
  return maxAhead <= 1 ? 0 : 1;  // ahead of the schedule is a sender bug
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream latency benchmark (system clock, socket source at a fixed rate)"};
  int batchMs = 100, threads = 2;
  double rate = 1e6, seconds = 5, skipSeconds = 1;
  std::string work = "wordcount";
  app.add_option("--batch-ms", batchMs, "batch interval in ms")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate, "offered lines per second")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "measured run time");
  app.add_option("--skip", skipSeconds, "seconds of batches ignored at the start (connect, warm-up)");
  app.add_option("--threads", threads, "local[N]")->check(CLI::PositiveNumber);
  app.add_option("--work", work, "wordcount | count | raw (the paced sender alone, a plain client)");
  CLI11_PARSE(app, argc, argv);

  std::string text;
  datagen::WRecords(10000).append(text, 0, 200'000);
  tools::LineServerOptions so;
  so.text = std::move(text);
  so.loop = true;
  so.rate = rate;
  so.log = false;
  tools::LineServer server(so);
  server.start();
  if (work == "raw") return runRaw(server, rate, seconds, skipSeconds);

  const Duration batch = Milliseconds(batchMs);
  StreamingContext ssc("local[" + std::to_string(threads) + "]", batch);
  auto recorder = std::make_shared<Recorder>();
  ssc.addStreamingListener(recorder);
  auto keys = std::make_shared<long>(0);
  auto lines = ssc.socketTextStream("127.0.0.1", server.port(),
                                    {.retryInterval = Milliseconds(10), .blockInterval = std::max(batch / 4, Milliseconds(5))});
  if (work == "count") {
    lines.count().foreachRDD([keys](const RDD<long>& rdd) { *keys = rdd.collect().at(0); });
  } else {
    lines.flatMap([](std::string_view l) { return dstream::words(l); })
        .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
        .reduceByKey([](long a, long b) { return a + b; })
        .foreachRDD([keys](const auto& rdd) { *keys = rdd.count(); });
  }
  ssc.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(skipSeconds + seconds));
  ssc.stop();

  std::vector<double> sched, proc, total, perRecordWeight;
  std::int64_t records = 0, measuredBatches = 0;
  Time from = dstream::testing::firstBatchTime(ssc) + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(skipSeconds));
  std::vector<std::pair<double, double>> samples;  // (delay ms, weight)
  double lastSched = 0;
  for (const auto& b : recorder->batches()) {
    if (b.batchTime < from || !b.processingEndTime) continue;
    ++measuredBatches;
    sched.push_back(ms(*b.schedulingDelay()));
    proc.push_back(ms(*b.processingDelay()));
    lastSched = sched.back();
    records += b.numInputRecords;
    constexpr int kSlices = 20;
    for (int i = 0; i < kSlices; ++i) {
      double arrival = ms(b.batchTime.time_since_epoch()) - batchMs + (i + 0.5) * batchMs / kSlices;
      samples.emplace_back(ms(b.processingEndTime->time_since_epoch()) - arrival,
                           static_cast<double>(b.numInputRecords) / kSlices);
    }
  }
  // Record-weighted percentiles of total delay.
  std::sort(samples.begin(), samples.end());
  double weight = 0;
  for (auto& s : samples) weight += s.second;
  auto weighted = [&](double q) {
    double acc = 0;
    for (auto& s : samples) {
      acc += s.second;
      if (acc >= q * weight) return s.first;
    }
    return samples.empty() ? 0.0 : samples.back().first;
  };
  double achieved = measuredBatches ? static_cast<double>(records) / (measuredBatches * batchMs / 1000.0) : 0;
  // Kept up: every batch started within one interval of being due, and the rate was delivered.
  bool keptUp = measuredBatches > 0 && percentile(sched, 1.0) < batchMs && lastSched < batchMs &&
                achieved >= 0.9 * rate;
  std::printf("{\"batch_ms\":%d,\"threads\":%d,\"work\":\"%s\",\"offered_rate\":%.0f,\"achieved_rate\":%.0f,"
              "\"batches\":%lld,\"sched_p50_ms\":%.1f,\"sched_p99_ms\":%.1f,\"sched_max_ms\":%.1f,"
              "\"proc_p50_ms\":%.1f,\"proc_p99_ms\":%.1f,\"total_p50_ms\":%.1f,\"total_p99_ms\":%.1f,"
              "\"kept_up\":%s,\"peak_rss_mib\":%.0f}\n",
              batchMs, threads, work.c_str(), rate, achieved, static_cast<long long>(measuredBatches),
              percentile(sched, 0.5), percentile(sched, 0.99), percentile(sched, 1.0), percentile(proc, 0.5),
              percentile(proc, 0.99), weighted(0.5), weighted(0.99), keptUp ? "true" : "false", peakRssMiB());
  return 0;
}
