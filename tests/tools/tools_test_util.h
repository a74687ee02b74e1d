// Helpers for the tools tests: a blocking TCP client for 127.0.0.1 that reads lines with a
// timeout, and (from tests/testing/) temp directories, files and child processes. Each object
// is owned by one test and is not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "testing/child_process.h"
#include "testing/files.h"

namespace dstream::tools::testing {

using dstream::testing::readFile;
using dstream::testing::run;
using dstream::testing::TempDir;
using dstream::testing::writeFile;

class LineClient {
 public:
  explicit LineClient(uint16_t port);  // connects to 127.0.0.1:port; throws on failure
  ~LineClient();
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  // Returns the next n lines (without '\n'); fewer if EOF or the timeout comes first.
  std::vector<std::string> readLines(std::size_t n,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Returns everything up to EOF (including what readLines left buffered), or up to the timeout.
  std::string readToEof(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Returns what readLines left buffered, else the bytes of the next recv(); empty at EOF or
  // after the timeout. For tests that watch a stream as it arrives.
  std::string readSome(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void close();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false at EOF or timeout
  int fd_ = -1;
  std::string buf_;
};

// A child process with stdout and stderr redirected to files.
class Child : public dstream::testing::ChildProcess {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out, const std::filesystem::path& err)
      : ChildProcess(argv, {.stdoutFile = out, .stderrFile = err}) {}
};

// Returns lines "line 0".."line n-1", each ending in '\n'.
std::string numberedLines(int n);

}  // namespace dstream::tools::testing
