// The Streaming UI of one context (doc/monitoring.md): an HTTP server on Debian's
// cpp-httplib serving the Streaming tab's pages, Spark's REST API for streaming and
// Prometheus metrics. Started when the context is made (as Spark binds its UI with the
// SparkContext), stopped by its stop(). Read-only: only GET (and HEAD) are served.
//
// Port: UiOptions::port, or the next free one up to port + maxRetries, as Spark does; 0 takes
// any free port. When none is free the context runs without a UI, with a warning.
//
// Thread-safety: start() and the destructor on the context's lifecycle thread; the HTTP
// threads (a pool of two) only take snapshots.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "dstream/options.h"

namespace dstream::detail {
class ContextCore;
}

namespace dstream::ui {

class StreamingProgress;

class StreamingUi {
 public:
  struct Started {
    std::unique_ptr<StreamingUi> ui;     // null when disabled or when no port could be bound
    std::optional<std::string> warning;  // why there is no UI, for the context to log
  };
  // Starts the UI of `core` as its uiOptions() say. Logs nothing: the context logs the address
  // or the warning when it starts. Throws as validate() does.
  static Started start(detail::ContextCore& core);
  ~StreamingUi();  // stops serving; returns when the HTTP threads have ended
  StreamingUi(const StreamingUi&) = delete;
  StreamingUi& operator=(const StreamingUi&) = delete;

  // "http://127.0.0.1:4040" (Spark's sc.uiWebUrl).
  const std::string& webUrl() const { return webUrl_; }
  int port() const { return port_; }

 private:
  struct Server;
  StreamingUi() = default;

  std::unique_ptr<Server> server_;
  std::string webUrl_;
  int port_ = 0;
};

// Checks UiOptions, throwing Error(kInvalidArgument) naming the bad field.
void validate(const UiOptions& options);

}  // namespace dstream::ui
