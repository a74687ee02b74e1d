#include "replay/server_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "dstream/error.h"

namespace dstream::tools {
namespace {

// Large sends keep as-fast-as-possible replay at loopback speed.
constexpr std::size_t kBatchBytes = 256 * 1024;

constexpr std::string_view kHttpHeader =
    "HTTP/1.1 200 OK\r\n"
    "Server: dstream-replay\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n"
    "\r\n";

void closeSocket(int fd) {
  ::shutdown(fd, SHUT_WR);  // a FIN after the buffered bytes, not a reset
  ::close(fd);
}

}  // namespace

LineServer::Loop::Loop(LineServer& server, const LineServerOptions& options,
                       std::unique_ptr<LineInput> input, int listenFd, int wakeFd)
    : server_(server),
      options_(options),
      input_(std::move(input)),
      listenFd_(listenFd),
      wakeFd_(wakeFd),
      pacer_(options.rate, options.burst, options.burstEvery,
             {.rate = options.burstRate, .at = options.burstAt, .length = options.burstLength}) {}

LineServer::Loop::~Loop() {
  for (const Client& c : clients_) closeSocket(c.fd);
  ::close(listenFd_);
}

void LineServer::Loop::log(const std::string& line) const {
  if (options_.log) std::fprintf(stderr, "dstream-replay: %s\n", line.c_str());
}

void LineServer::Loop::run() {
  if (!options_.waitForClient) pacer_.restart(Clock::now());
  std::vector<pollfd> fds;
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    refillBatch(now);
    writeClients(now);
    dropStalled(now);
    if (inputEnded_ && batch_.empty()) {
      if (!doneReported_) {
        doneReported_ = true;
        log("input done after " + std::to_string(taken_) + " lines");
        server_.finish(nullptr);
      }
      if (options_.exitWhenDone) {
        while (!clients_.empty()) drop(clients_.size() - 1, "done");  // clients see EOF now
        return;
      }
    }

    fds.clear();
    fds.push_back({wakeFd_, POLLIN, 0});
    fds.push_back({listenFd_, POLLIN, 0});
    for (const Client& c : clients_) {
      short events = POLLIN;
      if (c.pending(batch_.size())) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
    }
    bool wantInput = inputBlocked_ && batch_.empty() && !inputEnded_ &&
                     !(clients_.empty() && options_.waitForClient);
    if (wantInput) fds.push_back({input_->waitFd(), POLLIN, 0});
    int ready = ::poll(fds.data(), fds.size(), pollTimeoutMs(now));
    if (ready < 0 && errno != EINTR) {
      throw Error(ErrorCode::kInternal, std::string("poll(): ") + std::strerror(errno));
    }
    if (ready <= 0) continue;
    if (fds[0].revents != 0) {
      uint64_t value;
      [[maybe_unused]] ssize_t n = ::read(wakeFd_, &value, sizeof value);
    }
    // Clients first (their indices match fds), then the listener, which appends clients.
    for (std::size_t i = clients_.size(); i-- > 0;) {
      if ((fds[2 + i].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      char scratch[4096];  // whatever a client sends (an HTTP request) is read and ignored
      ssize_t n = ::recv(clients_[i].fd, scratch, sizeof scratch, MSG_DONTWAIT);
      if (n == 0) {
        drop(i, "closed by peer");
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        drop(i, std::strerror(errno));
      }
    }
    if (fds[1].revents != 0) acceptClients(Clock::now());
  }
}

void LineServer::Loop::acceptClients(Clock::time_point now) {
  for (;;) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client that vanished before accept
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char ip[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    Client c{fd, std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port)), {}, 0, now};
    if (options_.httpHeader) c.prefix = kHttpHeader;
    // A sole client takes over the current batch (lines no one has received whole);
    // otherwise it joins at the next batch, at a line boundary.
    c.offset = clients_.empty() ? 0 : batch_.size();
    c.joinedMidBatch = !clients_.empty() && !batch_.empty();
    if (clients_.empty() && options_.waitForClient) pacer_.restart(now);
    clients_.push_back(std::move(c));
    server_.setClientCount(static_cast<int>(clients_.size()));
    log("client " + clients_.back().peer + " connected (" + std::to_string(clients_.size()) +
        " connected)");
  }
}

void LineServer::Loop::drop(std::size_t i, const char* why) {
  closeSocket(clients_[i].fd);
  std::string peer = std::move(clients_[i].peer);
  clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
  server_.setClientCount(static_cast<int>(clients_.size()));
  log("client " + peer + " disconnected: " + why + " (" + std::to_string(clients_.size()) +
      " connected)");
  if (clients_.empty()) {
    onAllClientsGone();
  } else {
    settleBatch();  // the one that left may have been the last one the batch waited for
  }
}

void LineServer::Loop::onAllClientsGone() {
  if (options_.waitForClient) pacer_.pause();
  if (batch_.empty()) return;
  if (batchDelivered_ || !options_.waitForClient) {
    batch_.clear();
    batchLines_ = 0;
    batchDelivered_ = false;
    return;
  }
  rewindBatch();
}

// Keeps the lines of batch_ that no client received whole, to be sent again from the start.
void LineServer::Loop::rewindBatch() {
  std::size_t keep = 0;
  if (batchMaxOffset_ > 0) {
    const void* nl = ::memrchr(batch_.data(), '\n', batchMaxOffset_);
    if (nl != nullptr) keep = static_cast<const char*>(nl) - batch_.data() + 1;
  }
  auto whole = static_cast<uint64_t>(std::count(batch_.begin(), batch_.begin() + keep, '\n'));
  if (whole > 0) server_.markSent(whole);
  batchLines_ -= whole;
  batch_.erase(0, keep);
  batchMaxOffset_ = 0;
  for (Client& c : clients_) {
    c.offset = 0;
    c.joinedMidBatch = false;
  }
}

void LineServer::Loop::refillBatch(Clock::time_point now) {
  if (!batch_.empty() || inputEnded_) return;
  if (clients_.empty() && options_.waitForClient) return;
  if (options_.duration.count() > 0 && pacer_.running() && now - pacer_.started() >= options_.duration) {
    inputEnded_ = true;  // --duration: the schedule is over
    return;
  }
  uint64_t allowed = pacer_.available(now);
  if (options_.limit > 0) allowed = std::min(allowed, options_.limit - taken_);
  if (allowed == 0) return;
  uint64_t lines = 0;
  LineInput::Status status = input_->take(batch_, allowed, kBatchBytes, &lines);
  inputBlocked_ = status == LineInput::Status::kWouldBlock;
  pacer_.consume(lines);
  taken_ += lines;
  if (status == LineInput::Status::kEnd || (options_.limit > 0 && taken_ >= options_.limit)) {
    inputEnded_ = true;
  }
  if (clients_.empty()) {  // without waitForClient, lines nobody hears are gone
    batch_.clear();
    return;
  }
  batchLines_ = lines;
  batchDelivered_ = false;
  batchMaxOffset_ = 0;
  for (Client& c : clients_) {
    c.offset = 0;
    c.joinedMidBatch = false;
    c.lastProgress = now;
  }
}

void LineServer::Loop::writeClients(Clock::time_point now) {
  for (std::size_t i = clients_.size(); i-- > 0;) {
    Client& c = clients_[i];
    const char* error = nullptr;
    while (c.pending(batch_.size())) {
      bool header = !c.prefix.empty();
      const char* data = header ? c.prefix.data() : batch_.data() + c.offset;
      std::size_t size = header ? c.prefix.size() : batch_.size() - c.offset;
      ssize_t n = ::send(c.fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) error = std::strerror(errno);
        break;
      }
      c.lastProgress = now;
      if (header) {
        c.prefix.erase(0, static_cast<std::size_t>(n));
      } else {
        c.offset += static_cast<std::size_t>(n);
        batchMaxOffset_ = std::max(batchMaxOffset_, c.offset);
      }
    }
    if (error != nullptr) {
      drop(i, error);  // EPIPE or ECONNRESET: the client went away mid-batch
      continue;
    }
    if (!batch_.empty() && c.offset == batch_.size() && !c.joinedMidBatch && !batchDelivered_) {
      batchDelivered_ = true;
      server_.markSent(batchLines_);
      batchLines_ = 0;
    }
  }
  settleBatch();
}

void LineServer::Loop::settleBatch() {
  bool allDone = std::none_of(clients_.begin(), clients_.end(),
                              [&](const Client& c) { return c.pending(batch_.size()); });
  if (batch_.empty() || clients_.empty() || !allDone) return;
  if (batchDelivered_) {
    batch_.clear();
    batchDelivered_ = false;
  } else {
    rewindBatch();  // every client that had this batch left; the newcomers get the rest
  }
}

void LineServer::Loop::dropStalled(Clock::time_point now) {
  for (std::size_t i = clients_.size(); i-- > 0 && clients_.size() > 1;) {
    const Client& c = clients_[i];
    if (c.pending(batch_.size()) && now - c.lastProgress > options_.stallTimeout) {
      drop(i, "stalled (accepted no data for the stall timeout while others waited)");
    }
  }
}

int LineServer::Loop::pollTimeoutMs(Clock::time_point now) const {
  auto deadline = Clock::time_point::max();
  bool mayRelease = batch_.empty() && !inputEnded_ && !inputBlocked_ &&
                    !(clients_.empty() && options_.waitForClient);
  if (mayRelease) {
    if (!pacer_.paced()) return 0;
    deadline = pacer_.nextRelease();
  }
  if (clients_.size() > 1) {
    for (const Client& c : clients_) {
      if (c.pending(batch_.size())) deadline = std::min(deadline, c.lastProgress + options_.stallTimeout);
    }
  }
  if (deadline == Clock::time_point::max()) return -1;
  if (deadline <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60000));
}

}  // namespace dstream::tools
