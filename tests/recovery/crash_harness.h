// The crash test's harness: a child process to kill, input files written now, a line server
// that survives its clients, and the checks on a directory of saveAsTextFiles outputs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dstream/time.h"

extern char** environ;

namespace dstream::test {

inline unsigned crashSeed() {
  const char* s = std::getenv("DSTREAM_CRASH_SEED");
  return s ? static_cast<unsigned>(std::strtoul(s, nullptr, 10)) : 6u;
}

inline std::string readLog(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

// Writes dir/name atomically (temp name, then rename), with the current time as mtime.
inline void writeFileNow(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  std::string tmpName = ".";
  tmpName += name;
  tmpName += ".writing";
  auto tmp = dir / tmpName;
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
  }
  std::filesystem::rename(tmp, dir / name);
}

// crash_program with `args`, stdout and stderr appended to `log`, and DSTREAM_CRASH_POINT
// set to `crashPoint` unless it is empty.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& crashPoint, const std::filesystem::path& log) {
    args.insert(args.begin(), CRASH_PROGRAM);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("DSTREAM_CRASH_POINT=", 0) != 0) env.emplace_back(*e);
    }
    if (!crashPoint.empty()) env.push_back("DSTREAM_CRASH_POINT=" + crashPoint);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, CRASH_PROGRAM, &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_GT(pid_, 0) << "cannot start " << CRASH_PROGRAM;
  }
  ~Child() { kill(); }

  bool running() {
    if (pid_ <= 0 || exited_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return !exited_;
  }
  void kill() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
    }
  }
  // Returns the exit code, 128 + signal, or -1 after `timeout` (then kills it).
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running()) {
      kill();
      return -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// saveAsTextFiles outputs: prefix -> batch ms -> directory.
struct BatchOutputs {
  std::map<std::string, std::map<long, std::filesystem::path>> dirs;
  std::vector<std::string> leftovers;  // temp directories of interrupted writes

  static std::vector<std::string> lines(const std::filesystem::path& dir) {
    std::vector<std::string> all;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().filename().string().rfind("part-", 0) != 0) continue;
      std::ifstream in(e.path());
      for (std::string l; std::getline(in, l);) all.push_back(l);
    }
    return all;
  }
  long number(const std::string& prefix, long t) const { return std::stol(lines(dirs.at(prefix).at(t)).at(0)); }
  static std::map<std::string, long> parseTotals(const std::filesystem::path& dir) {
    std::map<std::string, long> totals;  // lines "(word, n)"
    for (const auto& l : lines(dir)) {
      auto comma = l.rfind(", ");
      totals[l.substr(1, comma - 1)] = std::stol(l.substr(comma + 2, l.size() - comma - 3));
    }
    return totals;
  }
  std::map<std::string, long> finalTotals() const { return parseTotals(dirs.at("totals").rbegin()->second); }

  // Every directory complete, no batch missing, windows = sums of their batches, totals =
  // the sum of all batches so far.
  void expectConsistent(Duration batch, int windowBatches) const {
    EXPECT_TRUE(leftovers.empty()) << leftovers.size() << " leftovers, e.g. " << leftovers.front();
    ASSERT_EQ(dirs.size(), 3u);
    const auto& batches = dirs.at("batch");
    ASSERT_FALSE(batches.empty());
    for (const auto& [prefix, byTime] : dirs) {
      EXPECT_EQ(byTime.begin()->first, batches.begin()->first) << prefix;
      EXPECT_EQ(byTime.rbegin()->first, batches.rbegin()->first) << prefix;
      EXPECT_EQ(byTime.size(), static_cast<std::size_t>((byTime.rbegin()->first - byTime.begin()->first) / batch.count() + 1))
          << prefix << ": a batch is missing";
      for (const auto& [t, dir] : byTime) EXPECT_TRUE(std::filesystem::exists(dir / "_SUCCESS")) << dir;
    }
    long sum = 0;
    for (const auto& [t, dir] : batches) {
      long n = number("batch", t);
      sum += n;
      long window = 0;
      for (int i = 0; i < windowBatches; ++i) {
        auto it = batches.find(t - i * batch.count());
        if (it != batches.end()) window += number("batch", it->first);
      }
      EXPECT_EQ(number("window", t), window) << "window at " << t;
      long total = 0;
      for (const auto& [w, c] : parseTotals(dirs.at("totals").at(t))) total += c;
      EXPECT_EQ(total, sum) << "totals at " << t;
    }
  }
};

inline BatchOutputs readOutputs(const std::filesystem::path& out) {
  BatchOutputs o;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    std::string name = e.path().filename().string();
    if (name[0] == '.') {
      o.leftovers.push_back(name);
      continue;
    }
    auto dash = name.rfind('-');
    o.dirs[name.substr(0, dash)][std::stol(name.substr(dash + 1))] = e.path();
  }
  return o;
}

// A server on 127.0.0.1 that sends "line-NNNNNN" lines, numbered across connections, to
// whichever client is connected, and accepts the next client when one goes away.
class LineServer {
 public:
  LineServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~LineServer() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  static std::string line(long i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "line-%06ld", i);
    return buf;
  }
  int port() const { return port_; }
  long sent() const { return sent_.load(); }
  int connections() const { return connections_.load(); }
  // The first line sent to connection `n` (counted from 1).
  long firstSentTo(int n) {
    std::lock_guard lock(mu_);
    return firstSent_.at(n);
  }
  void pause() { paused_ = true; }
  bool waitForSent(long n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (sent_ < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return sent_ >= n;
  }

 private:
  void run() {
    while (!done_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      {
        std::lock_guard lock(mu_);
        firstSent_[++connections_] = sent_;
      }
      while (!done_) {
        if (paused_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        std::string l = line(sent_) + "\n";
        if (::send(c, l.data(), l.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(l.size())) break;
        ++sent_;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> done_{false}, paused_{false};
  std::atomic<long> sent_{0};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::map<int, long> firstSent_;  // guarded by mu_
};

}  // namespace dstream::test
