// /metrics: Prometheus' text exposition format (HELP and TYPE lines, then samples).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "ui/rest_api.h"

namespace dstream::ui {

namespace {

// A label value with Prometheus' escapes: backslash, double quote and newline.
std::string labelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  // Starts a metric family.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, double value, std::string_view labels = {}) {
    out_ += name;
    if (!labels.empty()) fmt::format_to(std::back_inserter(out_), "{{{}}}", labels);
    if (std::isnan(value)) {
      out_ += " NaN\n";
    } else if (std::isinf(value)) {
      out_ += value > 0 ? " +Inf\n" : " -Inf\n";
    } else {
      fmt::format_to(std::back_inserter(out_), " {}\n", value);
    }
  }
  void metric(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

double seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace

std::string prometheusMetrics(const StatusSnapshot& s) {
  Exposition e;
  e.metric("dstream_batch_duration_seconds", "gauge", "The batch interval.", seconds(s.batchDuration));
  e.family("dstream_streaming_state", "gauge", "The context's state: 1 for the current one.");
  for (const char* state : {"INITIALIZED", "ACTIVE", "STOPPED"}) {
    e.sample("dstream_streaming_state", s.state == state ? 1 : 0, fmt::format("state=\"{}\"", state));
  }
  e.metric("dstream_batches_completed_total", "counter", "Batches completed since start, failed ones included.",
           static_cast<double>(s.numTotalCompletedBatches));
  e.metric("dstream_batches_failed_total", "counter", "Batches that failed.", static_cast<double>(s.numFailedBatches));
  e.metric("dstream_batches_running", "gauge", "Batches running now.", static_cast<double>(s.running.size()));
  e.metric("dstream_batches_waiting", "gauge",
           "The backlog: batches due that have not started, waiting for the running one.",
           static_cast<double>(s.numQueued));
  e.metric("dstream_records_total", "counter", "Records received by completed batches, from all input streams.",
           static_cast<double>(s.numProcessedRecords));
  e.metric("dstream_bad_records_total", "counter", "Records reported bad by completed batches.",
           static_cast<double>(s.numBadRecords));

  e.family("dstream_input_records_total", "counter", "Records received by completed batches, per input stream.");
  for (std::size_t id = 0; id < s.inputNames.size(); ++id) {
    e.sample("dstream_input_records_total", static_cast<double>(s.inputRecordsTotal[id]),
             fmt::format("stream_id=\"{}\",input_stream=\"{}\"", id, labelValue(s.inputNames[id])));
  }

  // The last completed batch's figures (Spark's "last" values on the Streaming tab).
  if (!s.completed.empty()) {
    const BatchInfo& last = s.completed.back();
    e.metric("dstream_last_batch_time_seconds", "gauge", "The last completed batch's time, in seconds since the epoch.",
             static_cast<double>(toMillis(last.batchTime)) / 1000.0);
    e.metric("dstream_last_batch_input_records", "gauge", "Records in the last completed batch.",
             static_cast<double>(last.numInputRecords));
    if (auto d = last.schedulingDelay()) {
      e.metric("dstream_batch_scheduling_delay_seconds", "gauge",
               "How long the last completed batch waited for the one before it.", seconds(*d));
    }
    if (auto d = last.processingDelay()) {
      e.metric("dstream_batch_processing_time_seconds", "gauge", "How long the last completed batch ran.", seconds(*d));
    }
    if (auto d = last.totalDelay()) {
      e.metric("dstream_batch_total_delay_seconds", "gauge",
               "Scheduling delay plus processing time of the last completed batch.", seconds(*d));
    }
  }

  struct StateMetric {
    const char* name;
    const char* help;
    std::int64_t StateInfo::*value;
  };
  static const StateMetric kStateMetrics[] = {
      {"dstream_state_keys", "Keys a stateful stream holds after the last completed batch.", &StateInfo::numKeys},
      {"dstream_state_bytes",
       "Estimated bytes of a stateful stream's state after the last completed batch (doc/monitoring.md).",
       &StateInfo::memoryUsedBytes},
  };
  for (const auto& m : kStateMetrics) {
    e.family(m.name, "gauge", m.help);
    for (const auto& st : s.stateStreams) {
      e.sample(m.name, static_cast<double>(st.*m.value),
               fmt::format("stream_id=\"{}\",stream=\"{}\"", st.streamId, labelValue(st.name)));
    }
  }

  if (s.checkpoint) {
    const auto& w = s.checkpoint->writes;
    e.metric("dstream_checkpoint_writes_total", "counter", "Checkpoints written.", static_cast<double>(w.writes));
    if (w.lastBatch) {
      e.metric("dstream_checkpoint_last_write_duration_seconds", "gauge",
               "Writing, fsyncing and renaming the last checkpoint (with its state snapshot).",
               static_cast<double>(w.lastDuration.count()) / 1e6);
      e.metric("dstream_checkpoint_last_write_bytes", "gauge", "Bytes of the last checkpoint, state snapshot included.",
               static_cast<double>(w.lastBytes));
    }
    if (w.lastSnapshotBatch) {
      e.metric("dstream_checkpoint_last_state_snapshot_bytes", "gauge", "Bytes of the last state snapshot.",
               static_cast<double>(w.lastSnapshotBytes));
      e.metric("dstream_checkpoint_last_state_snapshot_time_seconds", "gauge",
               "The batch time of the last state snapshot, in seconds since the epoch.",
               static_cast<double>(toMillis(*w.lastSnapshotBatch)) / 1000.0);
    }
  }

  struct ReceiverMetric {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const ReceiverInfo&);
  };
  static const ReceiverMetric kReceiverMetrics[] = {
      {"dstream_receiver_active", "gauge", "1 while the receiver is connected and reading.",
       [](const ReceiverInfo& r) { return r.active ? 1.0 : 0.0; }},
      {"dstream_receiver_records_total", "counter", "Records the receiver has received.",
       [](const ReceiverInfo& r) { return static_cast<double>(r.recordsReceived); }},
      {"dstream_receiver_bytes_total", "counter", "Bytes the receiver has received.",
       [](const ReceiverInfo& r) { return static_cast<double>(r.bytesReceived); }},
      {"dstream_receiver_records_dropped_total", "counter", "Over-long or truncated lines the receiver dropped.",
       [](const ReceiverInfo& r) { return static_cast<double>(r.recordsDropped); }},
      {"dstream_receiver_rate_limit_records_per_second", "gauge",
       "Records per second the receiver may take now (backpressure, maxRatePerSecond); 0: unlimited.",
       [](const ReceiverInfo& r) { return r.rateLimit; }},
      {"dstream_receiver_pending_bytes", "gauge", "Bytes received and not yet taken by a batch.",
       [](const ReceiverInfo& r) { return static_cast<double>(r.pendingBytes); }},
      {"dstream_receiver_max_pending_bytes", "gauge", "The receiver's limit on pending bytes; 0: unlimited.",
       [](const ReceiverInfo& r) { return static_cast<double>(r.maxPendingBytes); }},
      {"dstream_receiver_throttled", "gauge", "1 while the receiver holds back (at its rate or byte limit).",
       [](const ReceiverInfo& r) { return r.throttled ? 1.0 : 0.0; }},
  };
  for (const auto& m : kReceiverMetrics) {
    e.family(m.name, m.type, m.help);
    for (const auto& r : s.receivers) {
      e.sample(m.name, m.value(r),
               fmt::format("stream_id=\"{}\",input_stream=\"{}\"", r.inputStreamId, labelValue(r.name)));
    }
  }
  return e.take();
}

}  // namespace dstream::ui
