#include "ui/rest_api.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "ui/json_writer.h"

namespace dstream::ui {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<std::int64_t> parseId(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

HttpResult json(std::string body, int status = 200) { return {status, "application/json", std::move(body)}; }

HttpResult error(int status, std::string_view message) {
  JsonWriter w;
  w.beginObject().field("error", message).endObject();
  return json(w.take(), status);
}

std::optional<std::int64_t> millis(std::optional<Duration> d) {
  if (!d) return std::nullopt;
  return d->count();
}

// Spark's averages over the retained completed batches: of the batches that have the figure.
template <class F>
std::optional<std::int64_t> average(const std::vector<BatchInfo>& batches, F figure) {
  std::int64_t sum = 0, n = 0;
  for (const auto& b : batches) {
    if (auto d = figure(b)) {
      sum += d->count();
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

struct OpCounts {
  int active = 0, completed = 0, failed = 0;
};
OpCounts countOps(const BatchInfo& b) {
  OpCounts c;
  for (const auto& op : b.outputOperationInfos) {
    if (op.failureReason) {
      ++c.failed;
    } else if (op.endTime) {
      ++c.completed;
    } else if (op.startTime) {
      ++c.active;
    }
  }
  return c;
}

std::optional<std::string> firstFailureReason(const BatchInfo& b) {
  for (const auto& op : b.outputOperationInfos) {
    if (op.failureReason) return op.failureReason;
  }
  return b.failureReason;
}

void writeBatch(JsonWriter& w, const StatusSnapshot& s, const BatchInfo& b, std::string_view status) {
  OpCounts ops = countOps(b);
  w.beginObject()
      .field("batchId", toMillis(b.batchTime))
      .field("batchTime", sparkDate(b.batchTime))
      .field("status", status)
      .field("batchDuration", s.batchDuration.count())
      .field("inputSize", b.numInputRecords)
      .field("schedulingDelay", millis(b.schedulingDelay()))
      .field("processingTime", millis(b.processingDelay()))
      .field("totalDelay", millis(b.totalDelay()))
      .field("numActiveOutputOps", ops.active)
      .field("numCompletedOutputOps", ops.completed)
      .field("numFailedOutputOps", ops.failed)
      .field("numTotalOutputOps", std::max<int>(s.numOutputOperations, static_cast<int>(b.outputOperationInfos.size())))
      .field("firstFailureReason", firstFailureReason(b))
      .field("numBadRecords", b.numBadRecords)  // dstream's: records reported bad
      .endObject();
}

void writeQueuedBatch(JsonWriter& w, const StatusSnapshot& s, Time t) {
  BatchInfo b;
  b.batchTime = t;
  b.submissionTime = t;
  writeBatch(w, s, b, "QUEUED");
}

void writeOperation(JsonWriter& w, const OutputOperationInfo& op) {
  w.beginObject()
      .field("outputOpId", op.id)
      .field("name", op.name)
      .field("description", op.description)
      .field("startTime", op.startTime ? std::optional(sparkDate(*op.startTime)) : std::nullopt)
      .field("endTime", op.endTime ? std::optional(sparkDate(*op.endTime)) : std::nullopt)
      .field("duration", millis(op.duration()))
      .field("failureReason", op.failureReason)
      .key("jobIds")
      .beginArray()
      .endArray()
      .endObject();
}

void writeReceiver(JsonWriter& w, const StatusSnapshot& s, const ReceiverInfo& r) {
  // Spark's eventRates: [batch time ms, records/s] of this stream in the retained batches.
  std::vector<std::pair<std::int64_t, double>> rates;
  for (const auto& b : s.completed) {
    for (const auto& in : b.streamIdToInputInfo) {
      if (in.inputStreamId == r.inputStreamId) {
        rates.emplace_back(toMillis(b.batchTime),
                           static_cast<double>(in.numRecords) * 1000.0 / static_cast<double>(s.batchDuration.count()));
      }
    }
  }
  std::optional<double> avg;
  if (!rates.empty()) {
    double sum = 0;
    for (auto& [t, rate] : rates) sum += rate;
    avg = sum / static_cast<double>(rates.size());
  }
  w.beginObject()
      .field("streamId", r.inputStreamId)
      .field("streamName", r.name)
      .field("isActive", r.active)
      .field("executorId", "driver")
      .field("executorHost", "localhost")
      .field("lastErrorTime", r.lastErrorTime ? std::optional(sparkDate(*r.lastErrorTime)) : std::nullopt)
      .field("lastErrorMessage", r.lastError)
      .field("lastError", r.lastError)
      .field("avgEventRate", avg)
      .key("eventRates")
      .beginArray();
  for (auto& [t, rate] : rates) w.beginArray().value(t).value(rate).endArray();
  w.endArray();
  // dstream's: what the receiver holds and the rate control's view of it.
  w.field("location", r.location)
      .field("writeAheadLog", r.writeAheadLog)
      .field("recordsReceived", r.recordsReceived)
      .field("bytesReceived", r.bytesReceived)
      .field("recordsDropped", r.recordsDropped)
      .field("rateLimit", r.rateLimit)
      .field("pendingBytes", r.pendingBytes)
      .field("maxPendingBytes", r.maxPendingBytes)
      .field("throttled", r.throttled)
      .endObject();
}

void writeApplication(JsonWriter& w, const StatusSnapshot& s) {
  auto start = std::chrono::time_point_cast<Duration>(s.app.startTime);
  auto now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  bool completed = s.state == "STOPPED";
  w.beginObject().field("id", s.app.id).field("name", s.app.name).key("attempts").beginArray();
  w.beginObject()
      .field("startTime", sparkDate(start))
      .field("endTime", completed ? sparkDate(now) : sparkDate(timeFromMillis(-1)))
      .field("lastUpdated", sparkDate(now))
      .field("duration", (now - start).count())
      .field("sparkUser", s.app.user)
      .field("completed", completed)
      .field("appSparkVersion", "dstream")
      .field("startTimeEpoch", toMillis(start))
      .field("endTimeEpoch", completed ? toMillis(now) : std::int64_t{-1})
      .field("lastUpdatedEpoch", toMillis(now))
      .endObject();
  w.endArray().endObject();
}

void writeStatistics(JsonWriter& w, const StatusSnapshot& s) {
  int active = static_cast<int>(std::count_if(s.receivers.begin(), s.receivers.end(), [](const ReceiverInfo& r) { return r.active; }));
  std::optional<double> avgInputRate;
  if (!s.completed.empty()) {
    double sum = 0;
    for (const auto& b : s.completed) sum += inputRate(b, s.batchDuration);
    avgInputRate = sum / static_cast<double>(s.completed.size());
  }
  w.beginObject()
      .field("startTime", sparkDate(s.startedAt ? *s.startedAt : std::chrono::time_point_cast<Duration>(s.app.startTime)))
      .field("batchDuration", s.batchDuration.count())
      .field("numReceivers", static_cast<int>(s.receivers.size()))
      .field("numActiveReceivers", active)
      .field("numInactiveReceivers", static_cast<int>(s.receivers.size()) - active)
      .field("numTotalCompletedBatches", s.numTotalCompletedBatches)
      .field("numRetainedCompletedBatches", static_cast<std::int64_t>(s.completed.size()))
      .field("numActiveBatches", static_cast<std::int64_t>(s.running.size()) + s.numQueued)
      .field("numProcessedRecords", s.numProcessedRecords)
      .field("numReceivedRecords", s.numProcessedRecords)
      .field("avgInputRate", avgInputRate)
      .field("avgSchedulingDelay", average(s.completed, [](const BatchInfo& b) { return b.schedulingDelay(); }))
      .field("avgProcessingTime", average(s.completed, [](const BatchInfo& b) { return b.processingDelay(); }))
      .field("avgTotalDelay", average(s.completed, [](const BatchInfo& b) { return b.totalDelay(); }))
      // dstream's
      .field("state", s.state)
      .field("numFailedBatches", s.numFailedBatches)
      .field("numBadRecords", s.numBadRecords)
      .key("stateStreams")
      .beginArray();
  for (const auto& st : s.stateStreams) {
    w.beginObject()
        .field("streamId", st.streamId)
        .field("name", st.name)
        .field("numKeys", st.numKeys)
        .field("memoryUsedBytes", st.memoryUsedBytes)
        .endObject();
  }
  w.endArray().endObject();
}

// batches?status=...: newest first, as Spark lists them.
HttpResult batches(const StatusSnapshot& s, const std::vector<std::string>& statuses) {
  bool queued = statuses.empty(), processing = statuses.empty(), completed = statuses.empty();
  for (const auto& st : statuses) {
    if (st == "QUEUED") {
      queued = true;
    } else if (st == "PROCESSING") {
      processing = true;
    } else if (st == "COMPLETED") {
      completed = true;
    } else {
      return error(400, "unknown batch status \"" + st + "\"; expected COMPLETED, PROCESSING or QUEUED");
    }
  }
  JsonWriter w;
  w.beginArray();
  if (queued) {
    for (auto it = s.queued.rbegin(); it != s.queued.rend(); ++it) writeQueuedBatch(w, s, *it);
  }
  if (processing) {
    for (const auto& b : s.running) writeBatch(w, s, b, "PROCESSING");
  }
  if (completed) {
    for (auto it = s.completed.rbegin(); it != s.completed.rend(); ++it) writeBatch(w, s, *it, "COMPLETED");
  }
  w.endArray();
  return json(w.take());
}

HttpResult streaming(const StatusSnapshot& s, const std::vector<std::string_view>& p,
                     const std::vector<std::string>& statuses) {
  // p: "statistics" | "receivers" [id] | "batches" [id ["operations" [id]]]
  if (p.size() == 1 && p[0] == "statistics") {
    JsonWriter w;
    writeStatistics(w, s);
    return json(w.take());
  }
  if (p[0] == "receivers" && p.size() <= 2) {
    JsonWriter w;
    if (p.size() == 1) {
      w.beginArray();
      for (const auto& r : s.receivers) writeReceiver(w, s, r);
      w.endArray();
      return json(w.take());
    }
    auto id = parseId(p[1]);
    if (!id) return error(400, "bad receiver id \"" + std::string(p[1]) + "\"; expected a stream id");
    for (const auto& r : s.receivers) {
      if (r.inputStreamId == *id) {
        writeReceiver(w, s, r);
        return json(w.take());
      }
    }
    return error(404, "no receiver with stream id " + std::to_string(*id));
  }
  if (p[0] != "batches" || p.size() > 4 || (p.size() >= 3 && p[2] != "operations")) {
    return error(404, "unknown path");
  }
  if (p.size() == 1) return batches(s, statuses);
  auto id = parseId(p[1]);
  if (!id) return error(400, "bad batch id \"" + std::string(p[1]) + "\"; expected the batch time in ms");
  const BatchInfo* b = s.findBatch(*id);
  JsonWriter w;
  if (!b) {
    if (!s.isQueued(*id)) return error(404, "no batch " + std::to_string(*id) + " (unknown or no longer retained)");
    if (p.size() > 2) return error(404, "batch " + std::to_string(*id) + " is queued: no output operation ran yet");
    writeQueuedBatch(w, s, timeFromMillis(*id));
    return json(w.take());
  }
  if (p.size() == 2) {
    bool running = !s.running.empty() && s.running.front().batchTime == b->batchTime;
    writeBatch(w, s, *b, running ? "PROCESSING" : "COMPLETED");
    return json(w.take());
  }
  if (p.size() == 3) {
    w.beginArray();
    for (const auto& op : b->outputOperationInfos) writeOperation(w, op);
    w.endArray();
    return json(w.take());
  }
  auto opId = parseId(p[3]);
  if (!opId) return error(400, "bad output operation id \"" + std::string(p[3]) + "\"");
  for (const auto& op : b->outputOperationInfos) {
    if (op.id == *opId) {
      writeOperation(w, op);
      return json(w.take());
    }
  }
  return error(404, "batch " + std::to_string(*id) + " has no output operation " + std::to_string(*opId));
}

}  // namespace

std::string sparkDate(Time t) {
  auto ms = toMillis(t);
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int frac = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm utc{};
  ::gmtime_r(&tt, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}GMT", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, frac);
}

double inputRate(const BatchInfo& b, Duration batchDuration) {
  return static_cast<double>(b.numInputRecords) * 1000.0 / static_cast<double>(batchDuration.count());
}

HttpResult restApi(const StatusSnapshot& s, std::string_view path, const std::vector<std::string>& statuses) {
  auto p = splitPath(path);
  if (p.empty() || p[0] != "applications") return error(404, "unknown path /api/v1/" + std::string(path));
  JsonWriter w;
  if (p.size() == 1) {
    w.beginArray();
    writeApplication(w, s);
    w.endArray();
    return json(w.take());
  }
  if (p[1] != s.app.id) return error(404, "no such application: " + std::string(p[1]) + " (this one is " + s.app.id + ")");
  if (p.size() == 2) {
    writeApplication(w, s);
    return json(w.take());
  }
  // applications/<app>/<attempt>/streaming/...: Spark's live UI serves its one attempt whatever
  // the id, and so does dstream's.
  if (p.size() >= 5 && p[2] != "streaming" && p[3] == "streaming") p.erase(p.begin() + 2);
  if (p[2] != "streaming" || p.size() < 4) return error(404, "unknown path /api/v1/" + std::string(path));
  HttpResult r = streaming(s, std::vector<std::string_view>(p.begin() + 3, p.end()), statuses);
  if (r.status == 404 && r.body.find("unknown path") != std::string::npos) {
    return error(404, "unknown path /api/v1/" + std::string(path));
  }
  return r;
}

}  // namespace dstream::ui
