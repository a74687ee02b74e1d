#include "sources/tcp_connect.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

namespace dstream::detail {
namespace {

// How often a pending connect looks at the stop token.
constexpr int kStopCheckMillis = 20;

std::string lowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Returns 0 when connected, else an errno value (or -1 when stopped).
int connectOne(const addrinfo& ai, std::stop_token stop, UniqueFd& out) {
  UniqueFd fd(
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (!fd.valid()) return errno;
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return errno;
    // Non-blocking connect so that stop() is not held up by a slow or silent peer.
    pollfd p{fd.get(), POLLOUT, 0};
    for (;;) {
      if (stop.stop_requested()) return -1;
      int ready = ::poll(&p, 1, kStopCheckMillis);
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) return errno;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    if (err != 0) return err;
  }
  out = std::move(fd);
  return 0;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string describeErrno(int err) { return lowerFirst(std::strerror(err)); }

ConnectResult connectTcp(const std::string& host, int port, std::stop_token stop) {
  ConnectResult result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    result.error = "cannot resolve host: " + lowerFirst(::gai_strerror(rc));
    return result;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int err = ECONNREFUSED;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    err = connectOne(*ai, stop, result.fd);
    if (err == 0) return result;
    if (err < 0) break;
  }
  result.error = err < 0 ? "stopped" : describeErrno(err);
  return result;
}

}  // namespace dstream::detail
