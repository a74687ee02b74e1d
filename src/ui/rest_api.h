// The Streaming UI's REST API, with the paths and shapes of Spark's
// (org.apache.spark.status.api.v1 and its streaming package), so that tools reading Spark's
// API read dstream's; and the Prometheus metrics. Pure functions of a StatusSnapshot, so that
// the HTTP layer only routes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ui/streaming_status.h"

namespace dstream::ui {

struct HttpResult {
  int status = 200;
  std::string contentType;
  std::string body;
};

// Answers GET /api/v1/<path> (path without "/api/v1/"): applications, applications/<app>,
// applications/<app>/streaming/{statistics, receivers, receivers/<streamId>, batches,
// batches/<batchId>, batches/<batchId>/operations, batches/<batchId>/operations/<outputOpId>}.
// `statuses` is the batches' ?status= filter (COMPLETED, PROCESSING, QUEUED; none: all).
// Unknown paths and ids: 404, a bad status or id: 400, both with {"error": "..."}.
HttpResult restApi(const StatusSnapshot& s, std::string_view path, const std::vector<std::string>& statuses);

// /metrics in Prometheus' text exposition format (version 0.0.4); names start with dstream_.
std::string prometheusMetrics(const StatusSnapshot& s);

// Spark's API date format, in UTC: "2026-12-02T09:16:32.120GMT".
std::string sparkDate(Time t);

// Per-batch figures, as Spark computes them.
double inputRate(const BatchInfo& b, Duration batchDuration);  // records per second

}  // namespace dstream::ui
