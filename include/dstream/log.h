// The library's log lines (a refused connection being retried, a bad record, a damaged
// checkpoint skipped, the error that stopped a context) go to one sink per context, set in
// ContextOptions::log; nothing is written to stderr behind the program's back (leveldb's
// Options::info_log). The default sink writes lines at kInfo and above to stderr:
//
//   dstream: warning: socketTextStream localhost:9999: connection refused; retrying in 2s
//
// A program that logs elsewhere passes its own function:
//
//   ContextOptions o;
//   o.log = [](dstream::LogLevel level, std::string_view line) { myLogger.write(level, line); };
//
// Thread-safety: a context calls its sink from several threads (the batch thread, workers,
// receivers) but never concurrently: it serialises the calls. A sink must not call back into
// the context (stop() and the like) and should return promptly.
#pragma once

#include <functional>
#include <string_view>

#include "dstream/export.h"

namespace dstream {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// "debug", "info", "warning", "error".
DSTREAM_EXPORT std::string_view logLevelName(LogLevel level);

// Receives one line: its level and the text, without a trailing newline or a "dstream:"
// prefix. The message names the component ("socketTextStream localhost:9999: ...").
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

// Returns the default sink: lines at `minLevel` or above go to stderr as
// "dstream: <message>" (info) or "dstream: <level>: <message>" (warning, error).
DSTREAM_EXPORT LogSink stderrLogSink(LogLevel minLevel = LogLevel::kInfo);

namespace detail {

// Returns `sink` wrapped so that calls are serialised (a user's sink need not be
// thread-safe); an empty `sink` becomes stderrLogSink().
LogSink serialisedLogSink(LogSink sink);

// Makes `sink` the calling thread's log sink while the scope lives: code that has no handle
// on its context (reportBadRecord, a checkpoint warning) logs through logLine(). Scopes nest;
// `sink` must outlive the scope.
class LogScope {
 public:
  explicit LogScope(const LogSink* sink);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  const LogSink* previous_;
};

// The calling thread's sink (set by a LogScope), or null.
const LogSink* currentLogSink();

// Sends one line to the calling thread's sink, or, on a thread outside any context, to the
// default stderr sink.
void logLine(LogLevel level, std::string_view message);

// Sends one line to `sink`, or as logLine() when `sink` is empty.
void logLine(const LogSink& sink, LogLevel level, std::string_view message);

// Returns `text` without a leading "dstream: " (what dstream::Error::what() and older log
// lines start with), so that a sink's line does not say it twice.
std::string_view withoutDstreamPrefix(std::string_view text);

}  // namespace detail
}  // namespace dstream
