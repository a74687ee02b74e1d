// The crash test's harness: a child process to kill, input files written now, a line server
// that survives its clients, and the checks on a directory of saveAsTextFiles outputs.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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
#include "testing/child_process.h"
#include "testing/files.h"

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
  testing::moveIn(dir, name, text);
}

// crash_program with `args`, stdout and stderr appended to `log`, DSTREAM_CRASH_POINT set to
// `crashPoint` unless it is empty, and the variables of `env` set.
class Child : public testing::ChildProcess {
 public:
  Child(std::vector<std::string> args, const std::string& crashPoint, const std::filesystem::path& log,
        std::map<std::string, std::string> env = {})
      : ChildProcess(withProgram(std::move(args)), {.stdoutFile = log, .append = true, .env = withPoint(env, crashPoint)}) {}

  // How the process ended once it has: "killed by SIGKILL", "exited with 1"...
  std::string howItEnded() {
    int code = wait(Milliseconds(0));
    if (code == 128 + SIGKILL) return "killed by SIGKILL";
    return code > 128 ? "killed by signal " + std::to_string(code - 128) : "exited with " + std::to_string(code);
  }

 private:
  static std::vector<std::string> withProgram(std::vector<std::string> args) {
    args.insert(args.begin(), CRASH_PROGRAM);
    return args;
  }
  static std::map<std::string, std::string> withPoint(std::map<std::string, std::string> env, const std::string& point) {
    env["DSTREAM_CRASH_POINT"] = point;
    return env;
  }
};

// What a crash_program log says about its lives: when each started and when each batch
// completed (wall-clock ms), in the order of the log.
struct Life {
  long startedMs = 0;
  std::vector<std::pair<long, long>> completed;  // (batch ms, wall ms)
};
inline std::vector<Life> readLives(const std::filesystem::path& log) {
  std::vector<Life> lives;
  std::ifstream in(log);
  for (std::string word; in >> word;) {
    if (word == "started") {
      lives.emplace_back();
      in >> lives.back().startedMs;
    } else if (word == "completed" && !lives.empty()) {
      long batch = 0, wall = 0;
      in >> batch >> wall;
      lives.back().completed.emplace_back(batch, wall);
    }
  }
  return lives;
}

// For each life after the first: ms from its start to the first batch newer than every
// batch completed before (the first new batch after the restart); lives that completed no
// new batch are left out.
inline std::vector<long> recoveryTimes(const std::vector<Life>& lives) {
  std::vector<long> times;
  long newest = -1;
  for (std::size_t i = 0; i < lives.size(); ++i) {
    for (const auto& [batch, wall] : lives[i].completed) {
      if (batch > newest) {
        if (i > 0) times.push_back(wall - lives[i].startedMs);
        break;
      }
    }
    for (const auto& [batch, wall] : lives[i].completed) newest = std::max(newest, batch);
  }
  return times;
}

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
  // The number in a count's directory; 0 for an empty one (countByWindow before any data).
  long number(const std::string& prefix, long t) const {
    auto all = lines(dirs.at(prefix).at(t));
    return all.empty() ? 0 : std::stol(all.at(0));
  }
  static std::map<std::string, long> parseTotals(const std::filesystem::path& dir) {
    std::map<std::string, long> totals;  // lines "(word, n)"
    for (const auto& l : lines(dir)) {
      auto comma = l.rfind(", ");
      totals[l.substr(1, comma - 1)] = std::stol(l.substr(comma + 2, l.size() - comma - 3));
    }
    return totals;
  }
  std::map<std::string, long> finalTotals() const { return parseTotals(dirs.at("totals").rbegin()->second); }

  // Every directory complete, no batch or slide missing, every window (both kinds) = the sum
  // of its W batches, totals = the sum of all batches so far.
  void expectConsistent(Duration batch, int windowBatches, int slideBatches = 1) const {
    EXPECT_TRUE(leftovers.empty()) << leftovers.size() << " leftovers, e.g. " << leftovers.front();
    ASSERT_EQ(dirs.size(), 4u);
    const auto& batches = dirs.at("batch");
    ASSERT_FALSE(batches.empty());
    const long d = batch.count(), slide = slideBatches * d;
    for (const auto& [prefix, byTime] : dirs) {
      bool windowed = prefix.find("window") != std::string::npos;
      long step = windowed ? slide : d;
      // Windows come every slide, from the first slide time at or after the first batch.
      EXPECT_LT(byTime.begin()->first - batches.begin()->first, windowed ? slide : 1) << prefix;
      EXPECT_GT(byTime.rbegin()->first, batches.rbegin()->first - (windowed ? slide : 1)) << prefix;
      EXPECT_EQ(byTime.size(), static_cast<std::size_t>((byTime.rbegin()->first - byTime.begin()->first) / step + 1))
          << prefix << ": a batch is missing";
      for (const auto& [t, dir] : byTime) EXPECT_TRUE(std::filesystem::exists(dir / "_SUCCESS")) << dir;
    }
    long sum = 0;
    for (const auto& [t, dir] : batches) {
      sum += number("batch", t);
      long total = 0;
      for (const auto& [w, c] : parseTotals(dirs.at("totals").at(t))) total += c;
      EXPECT_EQ(total, sum) << "totals at " << t;
    }
    for (const char* prefix : {"window", "plainwindow"}) {
      for (const auto& [t, dir] : dirs.at(prefix)) {
        long window = 0;
        for (int i = 0; i < windowBatches; ++i) {
          auto it = batches.find(t - i * d);
          if (it != batches.end()) window += number("batch", it->first);
        }
        EXPECT_EQ(number(prefix, t), window) << prefix << " at " << t << " (W=" << windowBatches << " S=" << slideBatches
                                             << " batches)";
      }
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
