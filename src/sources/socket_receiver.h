// SocketLineReceiver is the machinery behind socketTextStream(host, port): a TCP client on its
// own thread (not an engine worker) that reads lines and files them in a ReceivedBlockQueue
// under the batch time they belong to (Spark's SocketReceiver plus BlockGenerator).
//
// Batch assignment: arrival is stamped with the Clock once per recv() chunk, as it returns; a line belongs to
// the batch t that is the first multiple of batchDuration strictly greater than the arrival of
// the chunk that completes it, so lines arriving in [t - batchDuration, t) form batch t:
//
//   arrival:   t-d ........ t-1ms | t ......
//   batch:     t                  | t+d
//
// A block is sealed (added to the queue) when the batch time changes, when blockInterval has
// passed since the last seal, when the socket has been idle for a short poll (so a quiet
// stream's lines become visible at once), when the connection ends, and on stop(). A batch
// therefore usually gets several blocks: several partitions.
//
// Rate and memory (backpressure): the receiver takes at most rateLimit() records/s (a token
// bucket on the Clock; setRate() changes it while running, as Spark's RateLimiter.updateRate,
// never above maxRatePerSecond), and holds at most maxReceivedBytes of lines that no batch has
// taken yet (queued blocks plus the open one). Over either budget it stops reading: the data
// waits in the kernel and in the sender, whose writes TCP flow control slows; nothing is dropped.
// At the byte limit it seals its open block and sleeps until a batch takes blocks (woken by
// ReceivedBlockQueue::takeUpTo) or stop(). Reads are cut to the room left, so pending bytes stay
// within the limit; only a partial line with nothing queued is read past it (a line can only
// be completed by reading), up to maxLineBytes plus one read.
//
// Connection refused or lost: one line is logged per attempt ("dstream: socketTextStream
// localhost:9999: connection refused; retrying in 2s"), the receiver waits retryInterval on
// the Clock (so a ManualClock decides when it retries), reconnects, and the stream goes on.
// A last line without '\n' when the server closes the connection is a line (Spark's readLine
// returns it). A partial line cut by stop() or a broken connection (reset, error) is not a
// record: it is dropped and reported as a bad (truncated) record.
//
// Ownership: the receiver borrows the Clock and the queue; both must outlive it.
// Thread-safety: start(), stop() and the stats may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "dstream/clock.h"
#include "dstream/time.h"
#include "sources/line_splitter.h"
#include "sources/received_block_queue.h"

namespace dstream::detail {

struct SocketReceiverOptions {
  std::string host;  // a name ("localhost") or an IPv4/IPv6 literal
  int port = 0;      // 1..65535

  // The batch duration of the streaming context; batch times are its multiples.
  Duration batchDuration = Seconds(1);

  // How often a block is cut while data flows (spark.streaming.blockInterval).
  Duration blockInterval = Milliseconds(200);

  // How long to wait, on the Clock, before reconnecting after a refused or lost connection.
  Duration retryInterval = Seconds(2);

  // Longer lines are dropped and counted as bad records.
  std::size_t maxLineBytes = kDefaultMaxLineBytes;

  // Records per second, paced on the Clock (spark.streaming.receiver.maxRate); 0: unlimited.
  // While over budget the receiver stops reading, so TCP backpressure slows the sender.
  // The ceiling of every rate set later with setRate().
  std::int64_t maxRatePerSecond = 0;

  // The rate before the first setRate() (spark.streaming.backpressure.initialRate), capped by
  // maxRatePerSecond; 0: maxRatePerSecond.
  std::int64_t initialRate = 0;

  // The most bytes of received lines not yet taken by a batch; 0: unlimited.
  std::size_t maxReceivedBytes = 0;

  // Where the one-line connection reports go; the default is the log sink of the context
  // that started the receiver (log.h), or stderr outside a context.
  std::function<void(std::string_view line)> log = nullptr;

  // Called once, on the receiver thread, with the exception that ended it (e.g. the
  // write-ahead log cannot be written), so that the context can stop with that error.
  std::function<void(std::exception_ptr)> onFailure = nullptr;
};

struct SocketReceiverStats {
  std::int64_t linesReceived = 0;  // lines handed to the queue
  std::int64_t bytesReceived = 0;
  std::int64_t linesDropped = 0;  // over-long lines, and partial lines cut by stop or reset
  std::int64_t connections = 0;   // successful connects
  std::int64_t retries = 0;       // retry waits begun after a refused or lost connection
  bool connected = false;
  std::string lastError;          // why the last connection attempt failed or ended; "" if none
  std::optional<Time> lastErrorTime;  // on the Clock
  std::int64_t bufferedBytes = 0;     // in the open block, not yet queued
  std::int64_t peakPendingBytes = 0;  // the most queued plus open bytes seen after a read
  std::int64_t byteLimitWaits = 0;    // times it stopped reading at maxReceivedBytes
  std::int64_t rateWaits = 0;         // times it stopped reading with data waiting, over its rate
  // Holding data back now: it stopped reading (rate or byte limit) while data was waiting in
  // the kernel, and has not caught up with the sender since.
  bool throttled = false;
};

class SocketLineReceiver {
 public:
  // Throws Error(kInvalidArgument) for an empty host, a port outside 1..65535, or a
  // non-positive batchDuration, blockInterval or retryInterval, or a negative rate.
  SocketLineReceiver(SocketReceiverOptions options, Clock& clock, ReceivedBlockQueue& queue);
  ~SocketLineReceiver();  // stops

  SocketLineReceiver(const SocketLineReceiver&) = delete;
  SocketLineReceiver& operator=(const SocketLineReceiver&) = delete;

  // Starts the receiver thread. Throws Error(kFailedPrecondition) if already started.
  void start();

  // Stops promptly (within a short poll, even while connecting, reading or waiting to retry),
  // seals what was read, and joins the thread. Idempotent. A stopped receiver stays stopped.
  void stop();

  // "host:port" as used in logs and bad-record reports ("[::1]:9999" for IPv6 literals).
  const std::string& address() const { return address_; }

  // A consistent snapshot of the counters.
  SocketReceiverStats stats() const;

  // Sets the records/s the receiver may take from now on (the rate controller's estimate),
  // capped by maxRatePerSecond; a rate <= 0 is ignored (Spark's RateLimiter.updateRate).
  void setRate(double recordsPerSecond);
  // The records/s it may take now; 0: unlimited.
  double rateLimit() const { return rateLimit_.load(std::memory_order_relaxed); }
  std::size_t maxReceivedBytes() const { return options_.maxReceivedBytes; }
  // Bytes received and not yet taken by a batch: queued blocks plus the open block.
  std::int64_t pendingBytes() const;
  bool connected() const { return stats().connected; }

  // The exception that ended the receiver thread (a throwing beforeAdd hook), or null; it
  // was also passed to options.onFailure.
  std::exception_ptr failure() const;

  // Blocks up to `timeout` (real time) until `done(stats())` holds; returns whether it did.
  // E.g. waitFor([](auto& s) { return s.retries >= 1; }, 10s) returns once the receiver has
  // fixed its first retry deadline, so a test may then advance a ManualClock to release it.
  bool waitFor(const std::function<bool(const SocketReceiverStats&)>& done, Duration timeout) const;
  bool waitUntilConnected(Duration timeout) const;

 private:
  void run(std::stop_token stop);
  // Reads one connection until it ends; returns why it ended ("" when stopped).
  std::string readConnection(int fd, std::stop_token stop);
  // Returns false when stopped while waiting for rate budget.
  bool awaitRateBudget(int fd, std::stop_token stop);
  // At the byte limit: seals, then waits until a batch makes room. Returns the bytes that
  // may be read now (0 when stopped); at most `want`.
  std::size_t awaitByteRoom(int fd, std::size_t want, std::stop_token stop);
  // Records that the receiver starts holding back, if the sender has data waiting.
  void noteHoldingBack(int fd, bool atByteLimit);
  // Seals the open block; `unsplit` bytes just read into it but not split yet move to the
  // next block (LineSplitter::sealBlock).
  void seal(Time now, std::size_t unsplit = 0);
  void retryLater(const std::string& reason, std::stop_token stop);
  // Applies `change` to the stats under the lock and wakes waiters.
  template <class F>
  void updateStats(F change);

  const SocketReceiverOptions options_;
  const std::string address_;
  Clock& clock_;
  ReceivedBlockQueue& queue_;

  // Owned by the receiver thread.
  LineSplitter splitter_;
  Time currentBatch_{};  // the batch of the open block's lines
  Time lastSeal_{};
  double tokens_ = 0;  // rate budget in records; may go negative after a large chunk
  Time lastRefill_{};
  std::int64_t bytesRead_ = 0;
  std::atomic<double> rateLimit_{0};  // records/s; 0: unlimited. Set by any thread.

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  SocketReceiverStats stats_;   // guarded by mu_
  std::exception_ptr failure_;  // guarded by mu_

  std::mutex lifecycleMu_;  // serialises start() and stop()
  bool started_ = false;    // guarded by lifecycleMu_
  std::jthread thread_;     // guarded by lifecycleMu_; last, so joined before members die
};

}  // namespace dstream::detail
