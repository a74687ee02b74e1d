// The settings of a StreamingContext and of its built-in sources, with Spark's defaults.
// A header of its own so that sources and bindings can take options without the context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dstream/clock.h"
#include "dstream/log.h"
#include "dstream/time.h"

namespace dstream {

// Settings of a socketTextStream, with Spark's defaults.
struct SocketStreamOptions {
  Duration retryInterval = Seconds(2);       // wait between connection attempts
  Duration blockInterval = Milliseconds(200);  // a batch is split into blocks (partitions) this long
  std::size_t maxLineBytes = 1 << 20;        // longer lines are counted as bad and dropped
  std::int64_t maxRatePerSecond = 0;         // receiver.maxRate: records/s; 0 = unlimited
  // Spark's receiver.writeAheadLog.enable: each received block is appended (and fsynced) to
  // a log under <checkpoint>/receivedData/<stream id>/ before it counts as received, so a
  // crash loses no received line (doc/recovery.md). REQUIRES ssc.checkpoint(dir), else
  // start() throws Error(kFailedPrecondition).
  bool writeAheadLog = false;
  // Received lines not yet taken by a batch may hold at most this many bytes; at the limit the
  // receiver stops reading, so the data waits in the kernel and the sender (TCP flow control)
  // and memory stays bounded whatever the burst (woken when a batch takes blocks). Not in Spark.
  // 0 = unlimited. Pending bytes may pass the limit only by a partial line that nothing queued
  // could make room for (at most maxLineBytes plus one read).
  std::size_t maxReceivedBytes = std::size_t{256} << 20;
};

// Settings of a textFileStream or binaryRecordsStream, with Spark's defaults.
struct FileStreamOptions {
  bool newFilesOnly = true;  // ignore files already in the directory at start()
  // Not in Spark: take a file only once it has not been modified for one batch duration, so
  // that a file still being written (a `cp` into the directory) is not read half-way. Files
  // then arrive one batch later. Either way, a file that grows after it was read is reported
  // as a bad record naming it and the bytes not read. Best: write elsewhere, then `mv` in.
  bool requireStableSize = false;
  // At most this many new files (and, if set, bytes of them) per batch, oldest first; the rest
  // wait for later batches, in order (Spark's maxFilesPerTrigger, in Structured Streaming).
  // A single file larger than maxBytesPerBatch is still taken whole. 0 = unlimited. Waiting
  // files are taken even once older than the remember window (they were found in time), and
  // are kept in checkpoints, so a restart takes them next. Negative: Error(kInvalidArgument).
  std::int64_t maxFilesPerBatch = 0;
  std::int64_t maxBytesPerBatch = 0;
};

// Spark's spark.streaming.backpressure.*: receivers read no faster than a PID estimator of
// the rate the batches keep up with (doc/monitoring.md). Off by default, as in Spark.
struct BackpressureOptions {
  bool enabled = false;
  // Records/s each receiver may take before the first estimate; 0: unlimited (Spark's
  // default: not set). The receivers' maxRatePerSecond stays the ceiling throughout.
  std::int64_t initialRate = 0;
  double proportional = 1.0;  // spark.streaming.backpressure.pid.proportional
  double integral = 0.2;      // spark.streaming.backpressure.pid.integral
  double derived = 0.0;       // spark.streaming.backpressure.pid.derived
  double minRate = 100.0;     // spark.streaming.backpressure.pid.minRate, records/s
};

// The Streaming UI, JSON API and Prometheus metrics (doc/monitoring.md), served by the
// context while it runs. Read-only.
struct UiOptions {
  bool enabled = true;            // spark.ui.enabled
  std::string appName;            // spark.app.name, shown by the UI and its API; empty: the program's name
  std::string host = "127.0.0.1";  // the address to bind (Spark binds all; we bind loopback)
  int port = 4040;                // spark.ui.port; when taken, the next free one is used
  int maxRetries = 16;            // spark.port.maxRetries: ports tried after `port`
  int retainedBatches = 1000;     // spark.streaming.ui.retainedBatches
};

struct ContextOptions {
  // The clock batches follow; a ManualClock makes tests deterministic. Default: the system clock.
  std::shared_ptr<Clock> clock{};
  // Where the context's log lines go (log.h): retried connections, bad records, skipped
  // checkpoints, the error that stopped it. Empty: stderrLogSink(LogLevel::kInfo).
  LogSink log{};
  // Spark's spark.streaming.stopGracefullyOnShutdown: while the context runs, SIGTERM and
  // SIGINT stop it gracefully (stop(true): the received data is processed, then
  // awaitTermination() returns), and a second signal stops it at once (stop(false)); a third
  // acts as the process's previous handler would (by default, it ends the process). The
  // signals are caught without running any work in the handler. A program that uses it must
  // not install its own SIGTERM/SIGINT handlers while the context runs, and should return
  // from main() after awaitTermination() (see README, "Stopping on signals"). Default false,
  // as in Spark: the signals end the process at once, as they would without dstream.
  bool stopGracefullyOnShutdown = false;
  BackpressureOptions backpressure{};
  UiOptions ui{};
};

}  // namespace dstream
