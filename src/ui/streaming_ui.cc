#include "ui/streaming_ui.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "core/context_core.h"
#include "dstream/error.h"
#include "ui/assets.h"
#include "ui/pages.h"
#include "ui/rest_api.h"
#include "ui/streaming_status.h"

namespace dstream::ui {

namespace {

constexpr int kHttpThreads = 2;  // every context has a UI, tests start many: keep it small

AppIdentity identify(const UiOptions& o) {
  AppIdentity app;
  app.startTime = std::chrono::system_clock::now();
  app.id = fmt::format("local-{}", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       app.startTime.time_since_epoch()).count());
  app.name = o.appName.empty() ? std::string(program_invocation_short_name) : o.appName;
  const char* user = std::getenv("USER");
  app.user = user && *user ? user : "unknown";
  return app;
}

std::string urlHost(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

void reply(httplib::Response& res, const HttpResult& r) {
  res.status = r.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(r.body, r.contentType.c_str());
}

}  // namespace

void validate(const UiOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("UiOptions::port {} is not a TCP port: expected 0 (any free port) to 65535", o.port));
  }
  if (o.maxRetries < 0) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("UiOptions::maxRetries {} must not be negative (spark.port.maxRetries)", o.maxRetries));
  }
  if (o.retainedBatches < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("UiOptions::retainedBatches {} must be at least 1 (spark.streaming.ui.retainedBatches)",
                            o.retainedBatches));
  }
}

struct StreamingUi::Server {
  Server(detail::ContextCore& c, const UiOptions& o)
      : core(c), progress(std::make_shared<StreamingProgress>(c.clock(), o.retainedBatches)), app(identify(o)) {}

  StatusSnapshot snapshot() const { return takeSnapshot(core, *progress, app); }

  void serve(const httplib::Request& req, httplib::Response& res) const {
    const std::string& path = req.path;
    res.set_header("X-Content-Type-Options", "nosniff");
    if (path == "/" || path == "/streaming") {
      res.set_redirect("/streaming/");
    } else if (path == "/streaming/") {
      reply(res, streamingPage(snapshot()));
    } else if (path == "/streaming/batch/" || path == "/streaming/batch") {
      reply(res, batchPage(snapshot(), req.get_param_value("id")));
    } else if (path == "/metrics") {
      reply(res, {200, "text/plain; version=0.0.4; charset=utf-8", prometheusMetrics(snapshot())});
    } else if (path.starts_with("/api/v1/")) {
      std::vector<std::string> statuses;
      for (std::size_t i = 0, n = req.get_param_value_count("status"); i < n; ++i) {
        statuses.push_back(req.get_param_value("status", i));
      }
      reply(res, restApi(snapshot(), std::string_view(path).substr(8), statuses));
    } else if (const Asset* asset = findAsset(path)) {
      res.set_header("Cache-Control", "max-age=3600");
      res.set_content(asset->bytes.data(), asset->bytes.size(), std::string(asset->contentType).c_str());
    } else if (path.starts_with("/api/")) {
      reply(res, restApi(snapshot(), std::string_view(path).substr(5), {}));
    } else {
      reply(res, notFoundPage(path));
    }
  }

  detail::ContextCore& core;
  std::shared_ptr<StreamingProgress> progress;
  const AppIdentity app;
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> listenReturned{false};
};

StreamingUi::Started StreamingUi::start(detail::ContextCore& core) {
  const UiOptions& o = core.uiOptions();
  validate(o);
  if (!o.enabled) return {};
  auto server = std::make_unique<Server>(core, o);
  httplib::Server& http = server->http;
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  // One request per connection: a browser's idle keep-alive connection would hold one of the
  // two threads for seconds. Loopback connections are cheap.
  http.set_keep_alive_max_count(1);
  http.set_read_timeout(std::chrono::seconds(2));
  http.set_write_timeout(std::chrono::seconds(5));
  http.set_payload_max_length(64 * 1024);
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("{\"error\":\"the Streaming UI is read-only: only GET and HEAD are served\"}", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  Server* raw = server.get();
  http.Get(".*", [raw](const httplib::Request& req, httplib::Response& res) {
    try {
      raw->serve(req, res);
    } catch (const std::exception& e) {
      reply(res, {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"});
    }
  });

  int port = -1;
  int last = o.port == 0 ? 0 : std::min(o.port + o.maxRetries, 65535);
  if (o.port == 0) {
    port = http.bind_to_any_port(o.host);
  } else {
    for (int p = o.port; p <= last && port < 0; ++p) {
      if (http.bind_to_port(o.host, p)) port = p;
    }
  }
  if (port < 0) {
    std::string ports = o.port == 0 ? "any port" : o.port == last ? fmt::format("port {}", o.port)
                                                                   : fmt::format("ports {}-{}", o.port, last);
    return {nullptr, fmt::format("Streaming UI not started: could not bind {} on {} (taken, or the address is not "
                                 "local; see ContextOptions::ui host, port and maxRetries); running without it",
                                 o.host, ports)};
  }
  server->thread = std::thread([raw] {
    raw->http.listen_after_bind();
    raw->listenReturned = true;
  });
  // httplib's stop() does nothing until the listening loop runs: wait for it, so that the
  // destructor's stop() cannot be lost.
  while (!http.is_running() && !server->listenReturned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  core.addListener(server->progress);

  auto ui = std::unique_ptr<StreamingUi>(new StreamingUi);
  ui->port_ = port;
  ui->webUrl_ = fmt::format("http://{}:{}", urlHost(o.host), port);
  ui->server_ = std::move(server);
  return {std::move(ui), std::nullopt};
}

StreamingUi::~StreamingUi() {
  if (!server_) return;
  server_->http.stop();
  if (server_->thread.joinable()) server_->thread.join();
}

}  // namespace dstream::ui
