#include "sources/socket_receiver.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "dstream/error.h"
#include "dstream/log.h"
#include "sources/tcp_connect.h"

namespace dstream::detail {
namespace {

// The most one recv() asks for: large, so that a fast stream costs few system calls.
constexpr std::size_t kRecvBytes = 1024 * 1024;
// A block with less room than this left is sealed before the next read.
constexpr std::size_t kMinRecvBytes = 64 * 1024;
// Real-time poll slice: bounds how long stop() and an idle seal take.
constexpr int kPollMillis = 20;
// Bytes per line assumed before any line has been seen, to size rate-limited reads; small,
// so that a first read cannot overshoot the budget by much.
constexpr double kInitialBytesPerLine = 16;

std::string formatAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

void logToContext(std::string_view line) {
  logLine(LogLevel::kWarning, withoutDstreamPrefix(line));
}

constexpr std::string_view kClosedByServer = "connection closed by the server";

// The first multiple of d strictly greater than `arrival`.
Time batchOf(Time arrival, Duration d) { return floorTo(arrival, d) + d; }

}  // namespace

template <class F>
void SocketLineReceiver::updateStats(F change) {
  {
    std::lock_guard lock(mu_);
    change(stats_);
  }
  changed_.notify_all();
}

SocketLineReceiver::SocketLineReceiver(SocketReceiverOptions options, Clock& clock,
                                       ReceivedBlockQueue& queue)
    : options_(std::move(options)),
      address_(formatAddress(options_.host, options_.port)),
      clock_(clock),
      queue_(queue),
      splitter_("socket " + address_, options_.maxLineBytes) {
  auto invalid = [&](const std::string& what) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("socketTextStream {}: {}", address_, what));
  };
  if (options_.host.empty()) invalid("the host is empty; use e.g. \"localhost\"");
  if (options_.port < 1 || options_.port > 65535) {
    invalid(fmt::format("port {} is outside 1..65535", options_.port));
  }
  if (options_.batchDuration <= Duration::zero()) invalid("the batch duration must be positive");
  if (options_.blockInterval <= Duration::zero()) invalid("the block interval must be positive");
  if (options_.retryInterval <= Duration::zero()) invalid("the retry interval must be positive");
  if (options_.maxRatePerSecond < 0) invalid("maxRatePerSecond must be >= 0 (0: unlimited)");
  if (options_.initialRate < 0) invalid("initialRate must be >= 0 (0: maxRatePerSecond)");
  double ceiling = static_cast<double>(options_.maxRatePerSecond);
  double initial = static_cast<double>(options_.initialRate);
  rateLimit_ = initial > 0 && (ceiling == 0 || initial < ceiling) ? initial : ceiling;
}

void SocketLineReceiver::setRate(double recordsPerSecond) {
  if (!(recordsPerSecond > 0)) return;
  double ceiling = static_cast<double>(options_.maxRatePerSecond);
  rateLimit_.store(ceiling > 0 ? std::min(recordsPerSecond, ceiling) : recordsPerSecond, std::memory_order_relaxed);
}

std::int64_t SocketLineReceiver::pendingBytes() const {
  std::int64_t buffered;
  {
    std::lock_guard lock(mu_);
    buffered = stats_.bufferedBytes;
  }
  return queue_.pendingBytes() + buffered;
}

SocketLineReceiver::~SocketLineReceiver() { stop(); }

void SocketLineReceiver::start() {
  std::lock_guard lock(lifecycleMu_);
  if (started_) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("socketTextStream {}: the receiver was already started", address_));
  }
  started_ = true;
  // The receiver logs (and counts bad records) through the sink of the context starting it.
  thread_ = std::jthread([this, sink = currentLogSink()](std::stop_token stop) {
    LogScope scope(sink);
    run(stop);
  });
}

void SocketLineReceiver::stop() {
  std::lock_guard lock(lifecycleMu_);
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void SocketLineReceiver::run(std::stop_token stop) {
  try {
    while (!stop.stop_requested()) {
      ConnectResult c = connectTcp(options_.host, options_.port, stop);
      if (stop.stop_requested()) break;
      if (!c.fd.valid()) {
        retryLater(c.error, stop);
        continue;
      }
      lastSeal_ = clock_.now();
      updateStats([](SocketReceiverStats& s) {
        s.connected = true;
        ++s.connections;
      });
      std::string reason = readConnection(c.fd.get(), stop);
      c.fd.reset();
      // Only a server that closed the stream ended its last line (as Spark's readLine takes
      // it); a stop or a broken connection cut that line short.
      if (reason == kClosedByServer) {
        splitter_.flush();
      } else {
        splitter_.discardPartial(reason.empty() ? "the receiver stopped" : reason);
      }
      seal(clock_.now());
      updateStats([&](SocketReceiverStats& s) {
        s.connected = false;
        s.throttled = false;
        s.linesDropped = splitter_.linesDropped();
      });
      if (!stop.stop_requested()) retryLater(reason, stop);
    }
    seal(clock_.now());
  } catch (...) {
    std::string what = "unknown error";
    try {
      throw;
    } catch (const std::exception& e) {
      what = withoutDstreamPrefix(e.what());  // the line already says where it comes from
    } catch (...) {
    }
    (options_.log ? options_.log : logToContext)(
        fmt::format("dstream: socketTextStream {}: receiver stopped: {}", address_, what));
    {
      std::lock_guard lock(mu_);
      failure_ = std::current_exception();
      stats_.connected = false;
      stats_.throttled = false;
      stats_.lastError = "receiver stopped: " + what;
      stats_.lastErrorTime = clock_.now();
    }
    if (options_.onFailure) options_.onFailure(std::current_exception());
  }
  changed_.notify_all();
}

std::string SocketLineReceiver::readConnection(int fd, std::stop_token stop) {
  tokens_ = std::max(1.0, rateLimit() / 10);
  lastRefill_ = clock_.now();
  while (!stop.stop_requested()) {
    std::size_t want = kRecvBytes;
    if (rateLimit() > 0) {
      if (!awaitRateBudget(fd, stop)) return "";
      // Read about as many lines as the budget allows, so that the kernel, not our buffer,
      // holds the rest of what the sender has written.
      double lines = static_cast<double>(splitter_.linesProduced());
      double perLine = lines > 0 ? static_cast<double>(bytesRead_) / lines : kInitialBytesPerLine;
      want = std::clamp<std::size_t>(static_cast<std::size_t>(std::ceil(tokens_ * perLine)), 1,
                                     kRecvBytes);
    }
    // A full block is sealed rather than grown (unless one long line fills it).
    if (splitter_.tailRoom() < kMinRecvBytes && splitter_.pendingLines() > 0) seal(clock_.now());
    if (splitter_.tailRoom() >= kMinRecvBytes) want = std::min(want, splitter_.tailRoom());
    if (options_.maxReceivedBytes > 0) {
      want = awaitByteRoom(fd, want, stop);
      if (want == 0) return "";
    }
    // Straight into the open block; wait (poll) only when nothing is there.
    ssize_t n = ::recv(fd, splitter_.tailForOverwrite(want), want, MSG_DONTWAIT);
    if (n == 0) return std::string(kClosedByServer);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return describeErrno(errno);
      updateStats([](SocketReceiverStats& s) { s.throttled = false; });  // caught up with the sender
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, kPollMillis);
      if (ready < 0 && errno != EINTR) return describeErrno(errno);
      if (ready == 0) seal(clock_.now());  // idle: make what was read visible now
      continue;
    }
    // What this read returned arrived now: a new batch begins with a new block, which takes
    // these bytes along.
    Time now = clock_.now();
    Time batch = batchOf(now, options_.batchDuration);
    if (batch != currentBatch_) {
      seal(now, static_cast<std::size_t>(n));
      currentBatch_ = batch;
    }
    bytesRead_ += n;
    std::int64_t before = splitter_.linesProduced();
    splitter_.commit(static_cast<std::size_t>(n));
    tokens_ -= static_cast<double>(splitter_.linesProduced() - before);
    auto buffered = static_cast<std::int64_t>(splitter_.bufferedBytes());
    std::int64_t pending = queue_.pendingBytes() + buffered;
    updateStats([&](SocketReceiverStats& s) {
      s.bytesReceived += n;
      s.linesDropped = splitter_.linesDropped();
      s.bufferedBytes = buffered;
      s.peakPendingBytes = std::max(s.peakPendingBytes, pending);
    });
    if (now - lastSeal_ >= options_.blockInterval) seal(now);
  }
  return "";
}

namespace {
// Whether the sender has bytes waiting for us in the kernel.
bool dataWaiting(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}
}  // namespace

void SocketLineReceiver::noteHoldingBack(int fd, bool atByteLimit) {
  if (!dataWaiting(fd)) return;
  updateStats([&](SocketReceiverStats& s) {
    s.throttled = true;
    ++(atByteLimit ? s.byteLimitWaits : s.rateWaits);
  });
}

std::size_t SocketLineReceiver::awaitByteRoom(int fd, std::size_t want, std::stop_token stop) {
  const auto limit = static_cast<std::int64_t>(options_.maxReceivedBytes);
  auto buffered = [&] { return static_cast<std::int64_t>(splitter_.bufferedBytes()); };
  std::int64_t pending = queue_.pendingBytes() + buffered();
  if (pending >= limit) {
    // Let a batch take what is complete, then sleep until one does.
    if (splitter_.pendingLines() > 0) seal(clock_.now());
    noteHoldingBack(fd, true);
    pending = queue_.waitForRoom(limit - buffered(), stop) + buffered();
    if (stop.stop_requested()) return 0;
  }
  // Nothing queued and still at the limit: the open block is one partial line, which only
  // reading can complete (or drop, past maxLineBytes).
  if (pending >= limit) return std::min(want, kMinRecvBytes);
  return std::min(want, static_cast<std::size_t>(limit - pending));
}

bool SocketLineReceiver::awaitRateBudget(int fd, std::stop_token stop) {
  for (bool noted = false;;) {
    const double rate = rateLimit();
    if (rate <= 0) return true;  // no limit any more
    const double burst = std::max(1.0, rate / 10);
    Time now = clock_.now();
    double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
    tokens_ = std::min(burst, tokens_ + rate * elapsed);
    lastRefill_ = now;
    if (tokens_ >= 1) return true;
    // Out of budget: publish what we have, then sleep on the Clock until one record is due.
    seal(now);
    if (!noted) {
      noteHoldingBack(fd, false);
      noted = true;
    }
    auto wait = Duration(static_cast<Duration::rep>(std::ceil((1 - tokens_) / rate * 1000)));
    if (!clock_.waitUntil(now + std::max(wait, Duration(1)), stop) && stop.stop_requested()) {
      return false;
    }
  }
}

void SocketLineReceiver::seal(Time now, std::size_t unsplit) {
  lastSeal_ = now;
  LineBlockPtr block = splitter_.sealBlock(unsplit);
  if (!block) return;
  auto lines = static_cast<std::int64_t>(block->lines.size());
  // The open block shrinks before the queue grows, so that pendingBytes() never counts the
  // sealed bytes twice.
  auto buffered = static_cast<std::int64_t>(splitter_.bufferedBytes());
  updateStats([&](SocketReceiverStats& s) { s.bufferedBytes = buffered; });
  queue_.add(currentBatch_, std::move(block));
  updateStats([&](SocketReceiverStats& s) { s.linesReceived += lines; });
}

void SocketLineReceiver::retryLater(const std::string& reason, std::stop_token stop) {
  Time deadline = clock_.now() + options_.retryInterval;
  (options_.log ? options_.log : logToContext)(
      fmt::format("dstream: socketTextStream {}: {}; retrying in {}", address_, reason,
                  formatDuration(options_.retryInterval)));
  updateStats([&](SocketReceiverStats& s) {
    ++s.retries;
    if (!reason.empty()) {
      s.lastError = reason;
      s.lastErrorTime = clock_.now();
    }
  });
  clock_.waitUntil(deadline, stop);
}

SocketReceiverStats SocketLineReceiver::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::exception_ptr SocketLineReceiver::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool SocketLineReceiver::waitFor(const std::function<bool(const SocketReceiverStats&)>& done,
                                 Duration timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return done(stats_); });
}

bool SocketLineReceiver::waitUntilConnected(Duration timeout) const {
  return waitFor([](const SocketReceiverStats& s) { return s.connected; }, timeout);
}

}  // namespace dstream::detail
