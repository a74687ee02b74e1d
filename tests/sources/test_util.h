// Helpers for the sources tests: a temporary directory under /tmp that is removed afterwards,
// file writing with an explicit modification time, and a loopback TCP listener on
// 127.0.0.1 with an ephemeral port for tiny test servers.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/detail/line_block.h"
#include "dstream/time.h"
#include "sources/tcp_connect.h"

namespace dstream::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/dstream_sources_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void setModTime(const std::filesystem::path& path, Time t) {
  auto ms = toMillis(t);
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (ms % 1000) * 1'000'000;
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw std::runtime_error("utimensat failed on " + path.string());
  }
}

inline void writeFile(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline void writeFile(const std::filesystem::path& path, std::string_view content, Time modTime) {
  writeFile(path, content);
  setModTime(path, modTime);
}

inline std::vector<std::string> linesOf(const std::vector<detail::LineBlockPtr>& blocks) {
  std::vector<std::string> lines;
  for (const auto& block : blocks) {
    for (std::string_view line : block->lines) lines.emplace_back(line);
  }
  return lines;
}

// A TCP socket bound to 127.0.0.1 on an ephemeral port. Until listen() connects are refused,
// which lets a test hold a port that a receiver fails to reach, then open it.
class LoopbackListener {
 public:
  explicit LoopbackListener(bool listening = true) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (!fd_.valid() || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("bind to 127.0.0.1:0 failed");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listening) listen();
  }

  int port() const { return port_; }

  void listen() {
    if (::listen(fd_.get(), 4) != 0) throw std::runtime_error("listen failed");
  }

  // Accepts one connection, or returns an invalid fd after `timeout`.
  detail::UniqueFd accept(Duration timeout = Seconds(10)) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return detail::UniqueFd();
    return detail::UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  }

 private:
  detail::UniqueFd fd_;
  int port_ = 0;
};

inline void sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace dstream::testing
