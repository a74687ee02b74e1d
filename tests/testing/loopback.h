// Tiny TCP servers for tests, on 127.0.0.1 and an ephemeral port only. Every wait has a
// deadline and throws std::runtime_error naming what did not happen, which GoogleTest reports
// as the test's failure. Each object belongs to one thread.
#pragma once

#include <string_view>

#include "dstream/time.h"
#include "sources/tcp_connect.h"
#include "testing/wait.h"

namespace dstream::testing {

// A socket bound to 127.0.0.1 on an ephemeral port. Until listen() connects are refused, which
// lets a test hold a port that a receiver fails to reach, then open it.
class LoopbackListener {
 public:
  explicit LoopbackListener(bool listening = true);

  int port() const { return port_; }
  void listen();
  // Returns the next connection; throws if none arrives within `timeout`.
  detail::UniqueFd accept(Duration timeout = kWaitTimeout);
  // Returns the next connection, or an invalid fd if none arrives within `timeout` (a server
  // thread that checks between waits whether it should stop).
  detail::UniqueFd tryAccept(Duration timeout);

 private:
  detail::UniqueFd fd_;
  int port_ = 0;
};

// Sends all of `data` on the connected socket `fd`; throws if the peer has gone.
void sendAll(int fd, std::string_view data);

// A listener that serves one client at a time: accept it, send to it, close it.
class LoopbackServer {
 public:
  int port() const { return listener_.port(); }
  // Accepts the next client, replacing the current one; throws after `timeout`.
  void accept(Duration timeout = kWaitTimeout) { client_ = listener_.accept(timeout); }
  void send(std::string_view data) { sendAll(client_.get(), data); }
  void closeClient() { client_.reset(); }

 private:
  LoopbackListener listener_;
  detail::UniqueFd client_;
};

}  // namespace dstream::testing
