// A program run as a child process by a test (the lab's programs, the tools, the crash test's
// victim). Output goes to files or through a pipe the test reads as it comes. Every wait has a
// deadline; the destructor kills (SIGKILL) and reaps a child that is still running. Each object
// belongs to one thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/time.h"
#include "testing/wait.h"

namespace dstream::testing {

struct ChildOptions {
  // stdout's file; empty: stdout and stderr go to a pipe that output() and waitForOutput() read.
  std::filesystem::path stdoutFile{};
  // stderr's file; empty: stderr goes where stdout goes.
  std::filesystem::path stderrFile{};
  bool append = false;  // append to the files instead of truncating them
  // Environment changes: NAME -> value sets the variable, NAME -> "" removes it.
  std::map<std::string, std::string> env{};
  // Give the child a pipe as its stdin, which writeInput() feeds and closeInput() ends;
  // otherwise it inherits the test's stdin.
  bool pipeStdin = false;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the arguments; throws std::runtime_error if it cannot.
  explicit ChildProcess(std::vector<std::string> argv, ChildOptions options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads the piped output until it contains `text` at or after position `from` (true) or
  // `timeout` passes or the output ends (false).
  bool waitForOutput(const std::string& text, Duration timeout = kWaitTimeout, std::size_t from = 0);
  // Waits for the child to exit and returns its exit code, or 128 + the signal that ended it.
  // After `timeout` kills it, records a test failure naming the program and returns -1.
  int wait(Duration timeout = 2 * kWaitTimeout);
  // Whether the child has not exited yet (reaps it if it has).
  bool running();
  // Kills (SIGKILL) and reaps the child if it is running.
  void kill();
  // Sends `sig` (e.g. SIGTERM, for a graceful stop) to the child if it is running.
  void signal(int sig);
  // Writes `text` to the child's stdin (REQUIRES: options.pipeStdin); a failed test
  // assertion if the child no longer reads it.
  void writeInput(std::string_view text);
  // Closes the child's stdin: it reads end of file.
  void closeInput();
  // The piped output read so far.
  const std::string& output() const { return output_; }

 private:
  bool reap(int flags);
  bool readSome(int pollMillis);  // false at end of output or when nothing came in time

  std::string program_;
  pid_t pid_ = -1;
  int pidFd_ = -1;  // readable once the child exits; -1 where pidfd_open is missing
  int out_ = -1;    // the pipe's read end; -1 when output goes to files
  int in_ = -1;     // the stdin pipe's write end; -1 without options.pipeStdin
  bool outEnded_ = false;  // the pipe reached end of file
  bool exited_ = false;
  int status_ = 0;
  std::string output_;
};

// Runs argv to completion with stdout and stderr captured; returns what wait() returns.
int run(const std::vector<std::string>& argv, std::string* out, std::string* err,
        Duration timeout = 2 * kWaitTimeout);

}  // namespace dstream::testing
