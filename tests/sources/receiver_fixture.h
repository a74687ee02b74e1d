// A SocketLineReceiver under a ManualClock (at t0 + 0.5s, batches of 1s, retry 2s) with its
// queue, a log sink and a loopback server to connect to, for the receiver tests.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
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

struct FixtureOptions {
  std::int64_t maxRate = 0;
  std::int64_t initialRate = 0;
  std::size_t maxReceivedBytes = 0;
  std::size_t maxLineBytes = 1 << 20;
  bool listening = true;  // false: the server holds its port, connects are refused
};

// A receiver connecting to a loopback server of its own.
struct Fixture {
  explicit Fixture(FixtureOptions o = {})
      : server(o.listening),
        clock(kT0 + Milliseconds(500)),
        receiver({.host = "127.0.0.1",
                  .port = server.port(),
                  .batchDuration = kBatch,
                  .blockInterval = Milliseconds(200),
                  .retryInterval = Seconds(2),
                  .maxLineBytes = o.maxLineBytes,
                  .maxRatePerSecond = o.maxRate,
                  .initialRate = o.initialRate,
                  .maxReceivedBytes = o.maxReceivedBytes,
                  .log = log.fn()},
                 clock, queue) {}

  // Starts the receiver and returns the server's end of its connection; throws if none comes.
  detail::UniqueFd startAndAccept() {
    receiver.start();
    auto conn = server.accept();
    if (!conn.valid()) throw std::runtime_error("the receiver did not connect");
    return conn;
  }
  // The lines of the batch at kT0 + `seconds`.
  std::vector<std::string> linesOfBatch(int seconds) { return linesOf(queue.takeUpTo(kT0 + Seconds(seconds))); }

  LoopbackListener server;
  LogSink log;
  ManualClock clock;
  detail::ReceivedBlockQueue queue;
  detail::SocketLineReceiver receiver;
};

inline Duration elapsedSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
}

}  // namespace dstream::testing
