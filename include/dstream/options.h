// The settings of a StreamingContext and of its built-in sources, with Spark's defaults.
// A header of its own so that sources and bindings can take options without the context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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
};

// Settings of a textFileStream or binaryRecordsStream, with Spark's defaults.
struct FileStreamOptions {
  bool newFilesOnly = true;  // ignore files already in the directory at start()
  // Not in Spark: take a file only once it has not been modified for one batch duration, so
  // that a file still being written (a `cp` into the directory) is not read half-way. Files
  // then arrive one batch later. Either way, a file that grows after it was read is reported
  // as a bad record naming it and the bytes not read. Best: write elsewhere, then `mv` in.
  bool requireStableSize = false;
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
};

}  // namespace dstream
