// HTTP and JSON helpers of the Streaming UI's tests: requests to 127.0.0.1 with
// cpp-httplib's client, answers parsed with simdjson.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>

namespace dstream::testing {

struct Reply {
  int status = 0;  // 0: no answer (connection refused)
  std::string body;
  std::string contentType;
  std::string location;  // a redirect's target
};

Reply httpRequest(int port, const std::string& method, const std::string& path);
inline Reply httpGet(int port, const std::string& path) { return httpRequest(port, "GET", path); }

// The port of "http://127.0.0.1:4040"; nullopt for anything else.
std::optional<int> portOf(const std::string& webUrl);

// A parsed JSON answer that owns its parser (simdjson's elements point into it).
struct Json {
  explicit Json(const std::string& text);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string error;  // empty when `text` parsed
};

}  // namespace dstream::testing
