// TCP client plumbing for socket receivers: an owning file descriptor and a connect that
// resolves a host name (so "localhost" reaches IPv4 or IPv6 loopback) and gives up promptly
// when a stop is requested.
//
// Thread-safety: connectTcp is reentrant; a UniqueFd belongs to one thread at a time.
#pragma once

#include <stop_token>
#include <string>

namespace dstream::detail {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct ConnectResult {
  UniqueFd fd;        // a connected, non-blocking socket; invalid on failure
  std::string error;  // why it failed, lower case, e.g. "connection refused"
};

// Connects to host:port, trying each address getaddrinfo returns until one accepts. Returns an
// invalid fd with the reason of the last failure, or with "stopped" when `stop` was requested.
ConnectResult connectTcp(const std::string& host, int port, std::stop_token stop);

// Lower-case strerror(err): "connection refused".
std::string describeErrno(int err);

}  // namespace dstream::detail
