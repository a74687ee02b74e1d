// A SocketLineReceiver under a ManualClock (at t0 + 0.5s, batches of 1s, retry 2s) with its
// queue and a log sink, for the receiver tests.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sources/socket_receiver.h"
#include "sources/test_util.h"

namespace dstream::testing {

inline constexpr Duration kTimeout = Seconds(10);  // generous: only reached when a test fails
inline const Time kT0 = timeFromMillis(1'700'000'000'000);
inline constexpr Duration kBatch = Seconds(1);

// Collects the receiver's log lines.
struct LogSink {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mu);
    return lines;
  }
};

struct Fixture {
  explicit Fixture(int port, std::int64_t maxRate = 0, std::size_t maxLineBytes = 1 << 20)
      : clock(kT0 + Milliseconds(500)),
        receiver({.host = "127.0.0.1",
                  .port = port,
                  .batchDuration = kBatch,
                  .blockInterval = Milliseconds(200),
                  .retryInterval = Seconds(2),
                  .maxLineBytes = maxLineBytes,
                  .maxRatePerSecond = maxRate,
                  .log = log.fn()},
                 clock, queue) {}

  LogSink log;
  ManualClock clock;
  detail::ReceivedBlockQueue queue;
  detail::SocketLineReceiver receiver;
};

inline Duration elapsedSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
}

}  // namespace dstream::testing
