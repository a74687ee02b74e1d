#include "testing/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dstream::testing {

LoopbackListener::LoopbackListener(bool listening) {
  fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (!fd_.valid() || ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(std::string("bind to 127.0.0.1:0 failed: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (listening) listen();
}

void LoopbackListener::listen() {
  if (::listen(fd_.get(), 8) != 0) throw std::runtime_error(std::string("listen failed: ") + std::strerror(errno));
}

detail::UniqueFd LoopbackListener::tryAccept(Duration timeout) {
  Deadline deadline(timeout);
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, deadline.pollMillis());
    if (ready > 0) {
      detail::UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.valid()) return conn;
    } else if (ready < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
    }
    if (deadline.passed()) return {};
  }
}

detail::UniqueFd LoopbackListener::accept(Duration timeout) {
  detail::UniqueFd conn = tryAccept(timeout);
  if (!conn.valid()) {
    throw std::runtime_error("no client connected to 127.0.0.1:" + std::to_string(port_) + " within " +
                             std::to_string(timeout.count()) + " ms");
  }
  return conn;
}

void sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("send failed: ") + (fd < 0 ? "no client" : std::strerror(errno)));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace dstream::testing
