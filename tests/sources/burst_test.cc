// A burst against a deliberately slow pipeline, over real loopback TCP on the system clock:
// a sender thread sends a steady rate, then a burst at 10x what the pipeline processes, then
// the steady rate again, blocking in send() whenever the receiver holds back (TCP flow
// control) and, like dstream-replay's pacer, never catching up more than 100 ms of its
// schedule. The pipeline "processes" 20,000 lines/s by sleeping count / 20,000 s per batch.
// Asserted (bounds, not speed): pending bytes never exceed the byte limit plus one read,
// every line sent is counted exactly once (count and sum of sequence numbers), and after
// the burst a batch again starts less than one batch interval late.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/context_core.h"
#include "dstream/dstream.h"
#include "testing/batches.h"
#include "sources/input_nodes.h"
#include "testing/loopback.h"
#include "testing/wait.h"

namespace dstream::detail {
namespace {

using namespace std::chrono_literals;

constexpr double kCapacity = 20'000;  // lines/s the pipeline processes
constexpr Duration kBatch = Milliseconds(250);
constexpr std::size_t kLimit = 2 << 20;     // maxReceivedBytes
constexpr std::int64_t kOneRead = 1 << 20;  // the receiver's largest recv()
constexpr std::size_t kLineBytes = 100;     // with the '\n'

struct Phase {
  Duration length;
  double rate;  // lines/s
};

// Sends numbered lines on a schedule; returns how many it sent. `burstEnd` gets the system
// time at which the second phase (the burst) ended.
std::int64_t sendPhases(int fd, const std::vector<Phase>& phases, Time& burstEnd) {
  using Steady = std::chrono::steady_clock;
  std::int64_t sent = 0;
  std::string chunk;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    auto last = Steady::now(), end = last + phases[p].length;
    double owed = 1;
    while (Steady::now() < end) {
      auto now = Steady::now();
      owed += phases[p].rate * std::chrono::duration<double>(now - last).count();
      owed = std::min(owed, phases[p].rate * 0.1);  // held back longer than that: not sent later
      last = now;
      auto n = static_cast<std::int64_t>(owed);
      if (n == 0) {
        std::this_thread::sleep_for(1ms);  // the sender's pace, not a wait for a condition
        continue;
      }
      chunk.clear();
      for (std::int64_t i = sent; i < sent + n; ++i) {
        std::string line = "line " + std::to_string(i) + " ";
        line.resize(kLineBytes - 1, 'x');
        chunk.append(line).push_back('\n');
      }
      testing::sendAll(fd, chunk);  // blocks while the receiver holds back
      sent += n;
      owed -= static_cast<double>(n);
    }
    if (p == 1) burstEnd = SystemClock().now();
  }
  return sent;
}

struct Observed {
  std::mutex mu;
  std::vector<BatchInfo> batches;
  std::int64_t maxPendingSeen = 0;  // receiverInfo().pendingBytes at each batch
};

class Recorder final : public StreamingListener {
 public:
  Recorder(Observed& o, std::function<std::int64_t()> pending)
      : o_(o), pending_(std::move(pending)) {}
  void onBatchCompleted(const BatchInfo& b) override {
    std::int64_t p = pending_();
    std::lock_guard lock(o_.mu);
    o_.batches.push_back(b);
    o_.maxPendingSeen = std::max(o_.maxPendingSeen, p);
  }

 private:
  Observed& o_;
  std::function<std::int64_t()> pending_;
};

void runBurst(bool backpressure) {
  testing::LoopbackListener server;
  StreamingContext ssc(
      "local[2]", kBatch,
      testing::withoutUi({.log = [](LogLevel, std::string_view) {},  // reconnect attempts after the end
            .backpressure = {.enabled = backpressure}}));
  std::atomic<std::int64_t> counted{0}, seqSum{0};
  ssc.socketTextStream("127.0.0.1", server.port(), {.maxReceivedBytes = kLimit})
      .foreachRDD([&](const RDD<std::string_view>& rdd) {
        std::int64_t n = 0, sum = 0;
        for (std::string_view line : rdd.collect()) {
          std::int64_t seq = 0;
          std::from_chars(line.data() + 5, line.data() + line.size(), seq);
          sum += seq;
          ++n;
        }
        counted += n;
        seqSum += sum;
        std::this_thread::sleep_for(
            std::chrono::duration<double>(static_cast<double>(n) / kCapacity));
      });
  auto* node = dynamic_cast<SocketInputNode*>(EngineAccess::core(ssc).inputs().at(0));
  ASSERT_NE(node, nullptr);
  Observed observed;
  ssc.addStreamingListener(
      std::make_shared<Recorder>(observed, [node] { return node->receiverInfo()->pendingBytes; }));
  ssc.start();
  auto conn = server.accept();
  ASSERT_TRUE(conn.valid());
  Time burstEnd{};
  std::int64_t sent = sendPhases(conn.get(),
                                 {{Milliseconds(1000), 4000},
                                  {Milliseconds(1500), 10 * kCapacity},
                                  {Milliseconds(2000), 4000}},
                                 burstEnd);
  conn.reset();  // end of stream: what is in flight is still read
  // Everything sent arrives and is counted; then a batch after the burst starts on time.
  testing::Deadline deadline(Seconds(120));
  auto recovered = [&] {
    std::lock_guard lock(observed.mu);
    return std::any_of(observed.batches.begin(), observed.batches.end(), [&](const BatchInfo& b) {
      return b.batchTime > burstEnd && b.schedulingDelay() && *b.schedulingDelay() < kBatch;
    });
  };
  while (!deadline.passed() && (counted.load() < sent || !recovered()))
    std::this_thread::sleep_for(10ms);
  ssc.stop();
  EXPECT_EQ(counted.load(), sent) << "lines counted vs sent";
  EXPECT_EQ(seqSum.load(), sent * (sent - 1) / 2) << "a line counted twice or lost";
  auto stats = node->receiver().stats();
  EXPECT_LE(stats.peakPendingBytes, static_cast<std::int64_t>(kLimit) + kOneRead);
  std::lock_guard lock(observed.mu);
  EXPECT_LE(observed.maxPendingSeen, static_cast<std::int64_t>(kLimit) + kOneRead);
  EXPECT_TRUE(std::any_of(observed.batches.begin(), observed.batches.end(),
                          [&](const BatchInfo& b) {
                            return b.batchTime > burstEnd && b.schedulingDelay() &&
                                   *b.schedulingDelay() < kBatch;
                          }))
      << "no batch after the burst started less than one batch interval late";
  // Figures for the log (not asserted: the machine may be busy).
  Duration maxDelay{0};
  for (const auto& b : observed.batches)
    maxDelay = std::max(maxDelay, b.schedulingDelay().value_or(Duration(0)));
  std::printf(
      "backpressure %s: %lld lines sent, peak pending %lld bytes (limit %zu), max scheduling delay "
      "%lld ms, "
      "rate limit at the end %.0f/s, byte-limit waits %lld, rate waits %lld\n",
      backpressure ? "on" : "off", static_cast<long long>(sent),
      static_cast<long long>(stats.peakPendingBytes), kLimit,
      static_cast<long long>(maxDelay.count()), node->receiver().rateLimit(),
      static_cast<long long>(stats.byteLimitWaits), static_cast<long long>(stats.rateWaits));
}

TEST(BurstTest, WithBackpressureNothingIsLostAndTheDelayRecovers) { runBurst(true); }

TEST(BurstTest, WithoutBackpressureTheByteLimitAloneBoundsMemory) { runBurst(false); }

}  // namespace
}  // namespace dstream::detail
