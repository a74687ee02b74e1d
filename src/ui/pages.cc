#include "ui/pages.h"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace dstream::ui {

namespace {

std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Local time, as pprint's "Time:" lines show batch times.
std::string localTime(Time t) {
  auto ms = toMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm local{};
  ::localtime_r(&secs, &local);
  int frac = static_cast<int>(ms - static_cast<std::int64_t>(secs) * 1000);
  std::string s = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", local.tm_year + 1900, local.tm_mon + 1,
                              local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
  if (frac != 0) s += fmt::format(".{:03}", frac);
  return s;
}

// "37 ms", "1.2 s", "3 min 5 s": readable at a glance.
std::string span(std::optional<Duration> d) {
  if (!d) return "-";
  auto ms = d->count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  if (ms < 3'600'000) return fmt::format("{} min {} s", ms / 60'000, ms / 1000 % 60);
  return fmt::format("{} h {} min", ms / 3'600'000, ms / 60'000 % 60);
}

std::string bytes(std::int64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1 << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024.0);
  if (n < (std::int64_t{1} << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  return fmt::format("{:.2f} GiB", static_cast<double>(n) / (std::int64_t{1} << 30));
}

std::string rate(double r) { return r >= 100 ? fmt::format("{:.0f}", r) : fmt::format("{:.2f}", r); }

std::string stateBadge(std::string_view state) {
  std::string cls = state == "ACTIVE" ? "ok" : state == "STOPPED" ? "off" : "idle";
  return fmt::format("<span class=\"badge {}\" id=\"state\">{}</span>", cls, state);
}

std::string header(const StatusSnapshot& s, std::string_view title) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} - {} - dstream Streaming</title>"
      "<link rel=\"stylesheet\" href=\"/static/streaming.css\"></head>\n"
      "<body data-app-id=\"{}\" data-batch-ms=\"{}\">\n"
      "<header><a class=\"brand\" href=\"/streaming/\">dstream</a><span class=\"tab\">Streaming</span>"
      "<span class=\"app\">{}</span><span class=\"grow\"></span>"
      "<a class=\"api\" href=\"/api/v1/applications/{}/streaming/statistics\">JSON</a>"
      "<a class=\"api\" href=\"/metrics\">metrics</a></header>\n<main>\n",
      html(title), html(s.app.name), html(s.app.id), s.batchDuration.count(), html(s.app.name), html(s.app.id));
}

constexpr std::string_view kFooter = "</main>\n<script src=\"/static/chart.min.js\"></script>\n"
                                     "<script src=\"/static/streaming.js\"></script>\n</body></html>\n";

std::string card(std::string_view label, std::string_view value, std::string_view id) {
  return fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\" id=\"{}\">{}</div></div>",
                     label, id, value);
}

std::string batchLink(const BatchInfo& b) {
  return fmt::format("<a href=\"/streaming/batch/?id={}\">{}</a>", toMillis(b.batchTime), localTime(b.batchTime));
}

std::string opsCell(const StatusSnapshot& s, const BatchInfo& b) {
  int done = 0, failed = 0;
  for (const auto& op : b.outputOperationInfos) {
    if (op.failureReason) {
      ++failed;
    } else if (op.endTime) {
      ++done;
    }
  }
  std::string cell = fmt::format("{}/{}", done, std::max<int>(s.numOutputOperations, static_cast<int>(b.outputOperationInfos.size())));
  if (failed) cell += fmt::format(" <span class=\"bad\">({} failed)</span>", failed);
  return cell;
}

std::string batchRow(const StatusSnapshot& s, const BatchInfo& b, std::string_view status) {
  std::string failure;
  if (b.failureReason) failure = fmt::format("<div class=\"error\">{}</div>", html(*b.failureReason));
  return fmt::format(
      "<tr data-batch-id=\"{}\" class=\"{}\"><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
      "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td>"
      "<td>{}</td></tr>\n",
      toMillis(b.batchTime), b.failureReason ? "failed" : "", batchLink(b), failure, b.numInputRecords,
      span(b.schedulingDelay()), span(b.processingDelay()), span(b.totalDelay()), opsCell(s, b),
      b.numBadRecords ? " bad" : "", b.numBadRecords, status);
}

constexpr std::string_view kBatchColumns =
    "<thead><tr><th>Batch time</th><th>Records</th><th>Scheduling delay</th><th>Processing time</th>"
    "<th>Total delay</th><th>Output ops: done/total</th><th>Bad records</th><th>Status</th></tr></thead>\n";

std::string summary(const StatusSnapshot& s) {
  std::optional<double> avgRate;
  if (!s.completed.empty()) {
    double sum = 0;
    for (const auto& b : s.completed) sum += inputRate(b, s.batchDuration);
    avgRate = sum / static_cast<double>(s.completed.size());
  }
  std::string out = "<section class=\"cards\" id=\"summary\" data-live>";
  out += card("Batch interval", span(s.batchDuration), "batch-interval");
  // The time of day reads at a glance; the date is in the tooltip.
  out += card("Running since",
              s.startedAt ? fmt::format("<span title=\"{}\">{}</span>", localTime(*s.startedAt),
                                        localTime(*s.startedAt).substr(11))
                          : "not started",
              "running-since");
  out += card("State", stateBadge(s.state), "state-card");
  out += card("Completed batches", fmt::format("{}", s.numTotalCompletedBatches), "completed-count");
  out += card("Records received", fmt::format("{}", s.numProcessedRecords), "records-received");
  out += card("Avg input rate", avgRate ? rate(*avgRate) + " records/s" : "-", "avg-rate");
  out += card("Backlog", fmt::format("{} batch{}", s.numQueued, s.numQueued == 1 ? "" : "es"), "backlog");
  out += card("Bad records", fmt::format("{}", s.numBadRecords), "bad-records");
  out += "</section>\n";
  return out;
}

std::string charts() {
  struct Chart {
    const char* metric;
    const char* title;
    const char* unit;
  };
  static const Chart kCharts[] = {{"inputRate", "Input rate", "records/s"},
                                  {"schedulingDelay", "Scheduling delay", "ms"},
                                  {"processingTime", "Processing time", "ms"},
                                  {"totalDelay", "Total delay", "ms"}};
  std::string out = "<section class=\"charts\"><h2>Statistics over the recent batches</h2>\n";
  for (const auto& c : kCharts) {
    out += fmt::format(
        "<div class=\"chart-row\"><div class=\"chart-title\">{0}<span class=\"unit\">{1}</span>"
        "<div class=\"stat\" id=\"stat-{2}\"></div></div>"
        "<div class=\"chart timeline\" id=\"timeline-{2}\" data-metric=\"{2}\" data-unit=\"{1}\" data-points=\"0\">"
        "<canvas></canvas></div>"
        "<div class=\"chart histogram\" id=\"histogram-{2}\" data-metric=\"{2}\" data-unit=\"{1}\" data-points=\"0\">"
        "<canvas></canvas></div></div>\n",
        c.title, c.unit, c.metric);
  }
  out += "</section>\n";
  return out;
}

std::string receivers(const StatusSnapshot& s) {
  std::string out = fmt::format("<section id=\"receivers\" data-live><h2>Receivers ({})</h2>\n", s.receivers.size());
  if (s.receivers.empty()) return out + "<p class=\"muted\">No receiver-based input stream.</p></section>\n";
  out +=
      "<table id=\"receivers-table\"><thead><tr><th>Stream</th><th>Status</th><th>Peer</th><th>Records</th>"
      "<th>Bytes</th><th>Avg rate (records/s)</th><th>Rate limit</th><th>Pending</th><th>WAL</th>"
      "<th>Last error</th></tr></thead><tbody>\n";
  for (const auto& r : s.receivers) {
    double sum = 0;
    int n = 0;
    for (const auto& b : s.completed) {
      for (const auto& in : b.streamIdToInputInfo) {
        if (in.inputStreamId == r.inputStreamId) {
          sum += static_cast<double>(in.numRecords) * 1000.0 / static_cast<double>(s.batchDuration.count());
          ++n;
        }
      }
    }
    std::string status = r.active ? "<span class=\"badge ok\">ACTIVE</span>" : "<span class=\"badge off\">INACTIVE</span>";
    if (r.throttled) status += " <span class=\"badge warn\">THROTTLED</span>";
    std::string pending = bytes(r.pendingBytes);
    if (r.maxPendingBytes > 0) pending += " / " + bytes(r.maxPendingBytes);
    std::string error = "-";
    if (r.lastError) {
      error = fmt::format("<span class=\"error\">{}</span>", html(*r.lastError));
      if (r.lastErrorTime) error += fmt::format(" <span class=\"muted\">at {}</span>", localTime(*r.lastErrorTime));
    }
    out += fmt::format(
        "<tr data-stream-id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
        r.inputStreamId, html(r.name), status, html(r.location.empty() ? "-" : r.location), r.recordsReceived,
        bytes(r.bytesReceived), n ? rate(sum / n) : "-", r.rateLimit > 0 ? rate(r.rateLimit) + "/s" : "unlimited",
        pending, r.writeAheadLog ? "on" : "off", error);
  }
  return out + "</tbody></table></section>\n";
}

std::string stateStreams(const StatusSnapshot& s) {
  std::string out = fmt::format("<section id=\"state-streams\" data-live><h2>State ({})</h2>\n", s.stateStreams.size());
  if (s.stateStreams.empty()) {
    return out + "<p class=\"muted\">No stateful stream (updateStateByKey, mapWithState, reduceByKeyAndWindow), "
                 "or no batch completed yet.</p></section>\n";
  }
  out += "<table id=\"state-table\"><thead><tr><th>Stream</th><th>Keys</th><th>Memory (estimated)</th></tr></thead><tbody>\n";
  for (const auto& st : s.stateStreams) {
    out += fmt::format(
        "<tr data-stream-id=\"{}\"><td>{} <span class=\"muted\">#{}</span></td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>\n",
        st.streamId, html(st.name), st.streamId, st.numKeys, bytes(st.memoryUsedBytes));
  }
  return out + "</tbody></table></section>\n";
}

std::string checkpoint(const StatusSnapshot& s) {
  std::string out = "<section id=\"checkpoint\" data-live><h2>Checkpoint</h2>\n";
  if (!s.checkpoint) return out + "<p class=\"muted\">Not checkpointing (no ssc.checkpoint(dir)).</p></section>\n";
  const auto& c = *s.checkpoint;
  const auto& w = c.writes;
  out += "<table class=\"kv\"><tbody>";
  out += fmt::format("<tr><th>Directory</th><td>{}</td></tr>", html(c.directory));
  out += fmt::format("<tr><th>State snapshot interval</th><td>{}</td></tr>", span(c.stateInterval));
  out += fmt::format("<tr><th>Checkpoints written</th><td id=\"checkpoint-writes\">{}</td></tr>", w.writes);
  out += fmt::format("<tr><th>Last checkpoint</th><td>{}</td></tr>",
                     w.lastBatch ? fmt::format("batch {}, {}, written in {:.1f} ms", localTime(*w.lastBatch),
                                               bytes(w.lastBytes), static_cast<double>(w.lastDuration.count()) / 1000.0)
                                 : std::string("none yet"));
  out += fmt::format("<tr><th>Last state snapshot</th><td>{}</td></tr>",
                     w.lastSnapshotBatch
                         ? fmt::format("batch {}, {}", localTime(*w.lastSnapshotBatch), bytes(w.lastSnapshotBytes))
                         : std::string("none yet"));
  return out + "</tbody></table></section>\n";
}

std::string batchTables(const StatusSnapshot& s) {
  std::string out = fmt::format(
      "<section id=\"active-batches\" data-live><h2>Active batches ({})</h2>\n<table id=\"active-table\" data-rows=\"{}\">",
      s.running.size() + static_cast<std::size_t>(s.numQueued), s.running.size() + s.queued.size());
  out += kBatchColumns;
  out += "<tbody>";
  for (const auto& b : s.running) out += batchRow(s, b, "processing");
  for (Time t : s.queued) {
    out += fmt::format(
        "<tr data-batch-id=\"{}\"><td>{}</td><td class=\"num\">-</td><td class=\"num\">-</td><td class=\"num\">-</td>"
        "<td class=\"num\">-</td><td class=\"num\">0/{}</td><td class=\"num\">-</td><td>queued</td></tr>\n",
        toMillis(t), localTime(t), s.numOutputOperations);
  }
  out += "</tbody></table></section>\n";
  out += fmt::format(
      "<section id=\"completed-batches\" data-live><h2>Completed batches (last {} out of {})</h2>\n"
      "<table id=\"completed-table\" data-rows=\"{}\">",
      s.completed.size(), s.numTotalCompletedBatches, s.completed.size());
  out += kBatchColumns;
  out += "<tbody>";
  for (auto it = s.completed.rbegin(); it != s.completed.rend(); ++it) {
    out += batchRow(s, *it, it->failureReason ? "failed" : "completed");
  }
  out += "</tbody></table></section>\n";
  return out;
}

}  // namespace

HttpResult streamingPage(const StatusSnapshot& s) {
  std::string page = header(s, "Streaming");
  page += summary(s);
  page += charts();
  page += receivers(s);
  page += stateStreams(s);
  page += checkpoint(s);
  page += batchTables(s);
  page += kFooter;
  return {200, "text/html; charset=utf-8", std::move(page)};
}

HttpResult batchPage(const StatusSnapshot& s, std::string_view id) {
  std::int64_t ms = -1;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
  if (id.empty() || ec != std::errc() || end != id.data() + id.size()) {
    return {400, "text/html; charset=utf-8",
            header(s, "Bad batch id") + "<h2>Bad batch id \"" + html(id) + "\": expected the batch time in ms</h2>" +
                std::string(kFooter)};
  }
  const BatchInfo* b = s.findBatch(ms);
  if (!b) {
    return {404, "text/html; charset=utf-8",
            header(s, "Unknown batch") +
                fmt::format("<h2>No batch {} ({})</h2><p class=\"muted\">Unknown, queued, or older than the {} "
                            "batches retained (UiOptions::retainedBatches).</p>",
                            ms, localTime(timeFromMillis(ms)), s.retainedBatches) +
                std::string(kFooter)};
  }
  bool running = !s.running.empty() && s.running.front().batchTime == b->batchTime;
  std::string page = header(s, "Batch " + localTime(b->batchTime));
  page += fmt::format("<h1 class=\"page-title\">Batch at {} <span class=\"muted\">(id {})</span></h1>\n",
                      localTime(b->batchTime), ms);
  page += "<section class=\"cards\" id=\"batch-summary\">";
  page += card("Status",
               running ? "<span class=\"badge idle\">PROCESSING</span>"
               : b->failureReason ? "<span class=\"badge off\">FAILED</span>"
                                  : "<span class=\"badge ok\">COMPLETED</span>",
               "batch-status");
  page += card("Input records", fmt::format("{}", b->numInputRecords), "batch-records");
  page += card("Scheduling delay", span(b->schedulingDelay()), "batch-scheduling-delay");
  page += card("Processing time", span(b->processingDelay()), "batch-processing-time");
  page += card("Total delay", span(b->totalDelay()), "batch-total-delay");
  page += card("Bad records", fmt::format("{}", b->numBadRecords), "batch-bad-records");
  page += "</section>\n";
  if (b->failureReason) page += fmt::format("<p class=\"error\" id=\"batch-failure\">{}</p>\n", html(*b->failureReason));
  page += "<section><h2>Input streams</h2><table id=\"inputs-table\"><thead><tr><th>Id</th><th>Input stream</th>"
          "<th>Records</th></tr></thead><tbody>";
  for (const auto& in : b->streamIdToInputInfo) {
    page += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>", in.inputStreamId,
                        html(in.name), in.numRecords);
  }
  page += "</tbody></table></section>\n";
  page += fmt::format(
      "<section><h2>Output operations</h2><table id=\"operations-table\" data-rows=\"{}\"><thead><tr><th>Id</th>"
      "<th>Output operation</th><th>Description</th><th>Started</th><th>Duration</th><th>Status</th></tr></thead><tbody>",
      b->outputOperationInfos.size());
  for (const auto& op : b->outputOperationInfos) {
    std::string status = op.failureReason ? fmt::format("<span class=\"error\">failed: {}</span>", html(*op.failureReason))
                         : op.endTime     ? std::string("succeeded")
                                          : std::string("running");
    page += fmt::format(
        "<tr data-op-id=\"{}\" class=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td>{}</td></tr>\n",
        op.id, op.failureReason ? "failed" : "", op.id, html(op.name), html(op.description.empty() ? "-" : op.description),
        op.startTime ? localTime(*op.startTime) : "-", span(op.duration()), status);
  }
  page += "</tbody></table></section>\n";
  page += kFooter;
  return {200, "text/html; charset=utf-8", std::move(page)};
}

HttpResult notFoundPage(std::string_view path) {
  return {404, "text/html; charset=utf-8",
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
          "<link rel=\"stylesheet\" href=\"/static/streaming.css\"></head><body><main><h2>Not found: " +
              html(path) + "</h2><p><a href=\"/streaming/\">The Streaming tab</a></p></main></body></html>\n"};
}

}  // namespace dstream::ui
