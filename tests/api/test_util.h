// Helpers for end-to-end tests: temporary directories, files with chosen modification times,
// a tiny loopback TCP server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "dstream/time.h"

namespace dstream::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dstream-test-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to dir/name through a hidden temporary name and a rename (atomically, as a
// watched directory needs), with modification time `mtime`.
inline void writeFileAt(const std::filesystem::path& dir, const std::string& name, const std::string& content,
                        Time mtime) {
  auto tmp = dir / ("." + name + ".writing");
  {
    std::ofstream out(tmp, std::ios::binary);
    out << content;
  }
  long ms = toMillis(mtime);
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (ms % 1000) * 1'000'000;
  if (::utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0) throw std::runtime_error("utimensat failed");
  std::filesystem::rename(tmp, dir / name);
}

// A listening socket on 127.0.0.1 with an ephemeral port.
class LoopbackServer {
 public:
  LoopbackServer() {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listenFd_, 4) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackServer() {
    closeClient();
    ::close(listenFd_);
  }
  int port() const { return port_; }
  void accept() { clientFd_ = ::accept(listenFd_, nullptr, nullptr); }
  void send(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(clientFd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      done += static_cast<std::size_t>(n);
    }
  }
  void closeClient() {
    if (clientFd_ >= 0) ::close(clientFd_);
    clientFd_ = -1;
  }

 private:
  int listenFd_ = -1;
  int clientFd_ = -1;
  int port_ = 0;
};

}  // namespace dstream::test
