// The Streaming UI's HTML pages, rendered on the server from a StatusSnapshot; the page's
// script (assets/streaming.js) then refreshes them every second and draws the charts from
// the REST API.
#pragma once

#include <string_view>

#include "ui/rest_api.h"
#include "ui/streaming_status.h"

namespace dstream::ui {

// /streaming/: the summary, the charts, receivers, checkpoint, active and completed batches.
HttpResult streamingPage(const StatusSnapshot& s);
// /streaming/batch/?id=<batch time in ms>: one batch's input and output operations.
HttpResult batchPage(const StatusSnapshot& s, std::string_view id);
// Any other path.
HttpResult notFoundPage(std::string_view path);

}  // namespace dstream::ui
