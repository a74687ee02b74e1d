// Helpers for the tools tests: a temporary directory removed on destruction, a blocking TCP
// client for 127.0.0.1 that reads lines with a timeout, and a child-process runner. Each
// object is owned by one test and is not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dstream::tools::testing {

class TempDir {
 public:
  TempDir();  // mkdtemp under the system temp directory; throws std::runtime_error on failure
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `contents` to `path`; throws std::runtime_error on failure.
void writeFile(const std::filesystem::path& path, const std::string& contents);
// Returns the contents of `path`, or "" if it cannot be read.
std::string readFile(const std::filesystem::path& path);

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
  void close();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false at EOF or timeout
  int fd_ = -1;
  std::string buf_;
};

// A child process with stdout and stderr redirected to files.
class Child {
 public:
  // Starts argv[0] (a path) with the arguments; throws std::runtime_error if it cannot.
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out,
        const std::filesystem::path& err);
  ~Child();  // kills (SIGKILL) and reaps the child if wait() was not called
  // Waits for the child and returns its exit code (128 + signal if killed).
  int wait();

 private:
  int pid_ = -1;
};

// Runs argv to completion; returns the exit code and fills *out / *err.
int run(const std::vector<std::string>& argv, std::string* out, std::string* err);

// Returns lines "line 0".."line n-1", each ending in '\n'.
std::string numberedLines(int n);

}  // namespace dstream::tools::testing
