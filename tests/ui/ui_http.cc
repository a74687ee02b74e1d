#include "ui/ui_http.h"

#include <httplib.h>

#include <charconv>

namespace dstream::testing {

Reply httpRequest(int port, const std::string& method, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(std::chrono::seconds(30));  // a loaded machine
  httplib::Request req;
  req.method = method;
  req.path = path;
  auto res = client.send(req);
  Reply reply;
  if (!res) return reply;
  reply.status = res->status;
  reply.body = res->body;
  reply.contentType = res->get_header_value("Content-Type");
  reply.location = res->get_header_value("Location");
  return reply;
}

std::optional<int> portOf(const std::string& webUrl) {
  const std::string prefix = "http://127.0.0.1:";
  if (!webUrl.starts_with(prefix)) return std::nullopt;
  int port = 0;
  const char* begin = webUrl.data() + prefix.size();
  const char* end = webUrl.data() + webUrl.size();
  auto [p, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || p != end) return std::nullopt;
  return port;
}

Json::Json(const std::string& text) {
  auto result = parser.parse(text);
  if (result.error()) {
    error = simdjson::error_message(result.error());
  } else {
    root = result.value_unsafe();
  }
}

}  // namespace dstream::testing
