#include "dstream/log.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

namespace dstream {
namespace {
thread_local const LogSink* tSink = nullptr;
}  // namespace

std::string_view logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

LogSink stderrLogSink(LogLevel minLevel) {
  return [minLevel](LogLevel level, std::string_view message) {
    if (level < minLevel) return;
    std::string line = "dstream: ";
    if (level >= LogLevel::kWarning) {
      line += logLevelName(level);
      line += ": ";
    }
    line += message;
    line += '\n';
    // One write per line, so that lines from several threads do not interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

namespace detail {

LogSink serialisedLogSink(LogSink sink) {
  if (!sink) sink = stderrLogSink();
  auto mu = std::make_shared<std::mutex>();
  return [mu, sink = std::move(sink)](LogLevel level, std::string_view message) {
    std::lock_guard lock(*mu);
    sink(level, message);
  };
}

LogScope::LogScope(const LogSink* sink) : previous_(tSink) { tSink = sink; }
LogScope::~LogScope() { tSink = previous_; }

const LogSink* currentLogSink() { return tSink; }

void logLine(LogLevel level, std::string_view message) {
  if (tSink && *tSink) {
    (*tSink)(level, message);
    return;
  }
  static const LogSink fallback = serialisedLogSink(stderrLogSink());
  fallback(level, message);
}

void logLine(const LogSink& sink, LogLevel level, std::string_view message) {
  if (sink) {
    sink(level, message);
  } else {
    logLine(level, message);
  }
}

std::string_view withoutDstreamPrefix(std::string_view text) {
  constexpr std::string_view kPrefix = "dstream: ";
  if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
  return text;
}

}  // namespace detail
}  // namespace dstream
