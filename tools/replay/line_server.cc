#include "replay/line_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dstream/error.h"
#include "replay/server_loop.h"

namespace dstream::tools {
namespace {

// Resolves host to an IPv4 address; throws Error(kInvalidArgument) naming it.
in_addr resolve(const std::string& host) {
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) == 1) return addr;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot resolve host '" + host + "'; use an IPv4 address such as 127.0.0.1");
  }
  addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  ::freeaddrinfo(res);
  return addr;
}

int listenOn(const std::string& host, uint16_t port, uint16_t* bound) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = resolve(host);
  sa.sin_port = htons(port);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(ErrorCode::kInternal, std::string("socket(): ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
    int err = errno;
    ::close(fd);
    throw Error(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                             ": " + std::strerror(err) +
                                             "; choose another port (0 = any free port)");
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *bound = ntohs(sa.sin_port);
  return fd;
}

}  // namespace

LineServer::LineServer(LineServerOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (!(o.rate >= 0)) {
    throw Error(ErrorCode::kInvalidArgument,
                "rate " + std::to_string(o.rate) + " lines/s is negative; use 0 (unpaced) or more");
  }
  if (o.burst > 0 && !(o.burstEvery.count() > 0)) {
    throw Error(ErrorCode::kInvalidArgument, "burst " + std::to_string(o.burst) +
                                                 " needs a positive burst interval (--burst-every)");
  }
  if (o.burst == 0 && o.burstEvery.count() != 0) {
    throw Error(ErrorCode::kInvalidArgument, "a burst interval was given without a burst size; "
                                             "set --burst N as well");
  }
  if (o.burstRate > 0 && !(o.rate > 0 && o.burstLength.count() > 0)) {
    throw Error(ErrorCode::kInvalidArgument,
                "--burst-rate needs a steady --rate and a positive --burst-seconds (the burst's length)");
  }
  if (!(o.burstRate >= 0) || !(o.burstAt.count() >= 0) || !(o.burstLength.count() >= 0)) {
    throw Error(ErrorCode::kInvalidArgument, "--burst-rate, --burst-at and --burst-seconds must not be negative");
  }
  if (o.burstRate == 0 && (o.burstAt.count() > 0 || o.burstLength.count() > 0)) {
    throw Error(ErrorCode::kInvalidArgument, "--burst-at or --burst-seconds was given without --burst-rate");
  }
  if (!(o.duration.count() >= 0)) {
    throw Error(ErrorCode::kInvalidArgument, "--duration must not be negative");
  }
  if (!o.text && o.files.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "no input; name files, or '-' for stdin");
  }
}

LineServer::~LineServer() { stop(); }

void LineServer::start() {
  if (loop_) throw Error(ErrorCode::kFailedPrecondition, "LineServer::start() called twice");
  auto input = std::make_unique<LineInput>(options_.files, options_.text, options_.loop);
  int listenFd = listenOn(options_.host, options_.port, &port_);
  wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop_ = std::make_unique<Loop>(*this, options_, std::move(input), listenFd, wakeFd_);
  thread_ = std::thread([this] {
    try {
      loop_->run();
    } catch (...) {
      finish(std::current_exception());
    }
  });
}

void LineServer::stop() {
  if (!thread_.joinable()) return;
  loop_->requestStop();
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wakeFd_, &one, sizeof one);
  thread_.join();
  loop_.reset();  // closes the sockets
  ::close(wakeFd_);
  wakeFd_ = -1;
}

uint64_t LineServer::linesSent() const {
  std::lock_guard lock(mu_);
  return linesSent_;
}

int LineServer::clientCount() const {
  std::lock_guard lock(mu_);
  return clientCount_;
}

bool LineServer::waitForClients(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return clientCount_ >= n; });
}

bool LineServer::waitForClientCount(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return clientCount_ == n; });
}

bool LineServer::waitForLinesSent(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return linesSent_ >= n; });
}

bool LineServer::waitForDone(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  bool done = changed_.wait_for(lock, timeout, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
  return done;
}

void LineServer::markSent(uint64_t lines) {
  {
    std::lock_guard lock(mu_);
    linesSent_ += lines;
  }
  changed_.notify_all();
}

void LineServer::setClientCount(int n) {
  {
    std::lock_guard lock(mu_);
    clientCount_ = n;
  }
  changed_.notify_all();
}

void LineServer::finish(std::exception_ptr error) {
  {
    std::lock_guard lock(mu_);
    done_ = true;
    if (error) error_ = error;
  }
  changed_.notify_all();
}

}  // namespace dstream::tools
