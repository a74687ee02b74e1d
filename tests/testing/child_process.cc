#include "testing/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "testing/files.h"

extern char** environ;

namespace dstream::testing {
namespace {

std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    if (!changes.contains(entry.substr(0, entry.find('=')))) env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : changes) {
    if (!value.empty()) env.push_back(name + "=" + value);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildOptions options) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess: no program");
  program_ = argv[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int pipeFds[2] = {-1, -1};
  if (options.stdoutFile.empty()) {
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
  } else {
    int flags = O_WRONLY | O_CREAT | (options.append ? O_APPEND : O_TRUNC);
    posix_spawn_file_actions_addopen(&actions, 1, options.stdoutFile.c_str(), flags, 0644);
    if (options.stderrFile.empty()) {
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, options.stderrFile.c_str(), flags, 0644);
    }
  }
  int inFds[2] = {-1, -1};
  if (options.pipeStdin) {
    if (::pipe2(inFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_adddup2(&actions, inFds[0], 0);
  }
  std::vector<std::string> env = childEnvironment(options.env);
  int rc = ::posix_spawn(&pid_, program_.c_str(), &actions, nullptr, pointers(argv).data(), pointers(env).data());
  posix_spawn_file_actions_destroy(&actions);
  if (pipeFds[1] >= 0) ::close(pipeFds[1]);
  if (inFds[0] >= 0) ::close(inFds[0]);
  if (rc != 0) {
    if (pipeFds[0] >= 0) ::close(pipeFds[0]);
    if (inFds[1] >= 0) ::close(inFds[1]);
    pid_ = -1;
    throw std::runtime_error("cannot start " + program_ + ": " + std::strerror(rc));
  }
  out_ = pipeFds[0];
  in_ = inFds[1];
  if (out_ >= 0) ::fcntl(out_, F_SETFL, O_NONBLOCK);
  // A pidfd lets wait() sleep in poll until the exit instead of polling waitpid.
  pidFd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

ChildProcess::~ChildProcess() {
  kill();
  if (pidFd_ >= 0) ::close(pidFd_);
  if (out_ >= 0) ::close(out_);
  closeInput();
}

void ChildProcess::writeInput(std::string_view text) {
  ASSERT_GE(in_, 0) << program_ << ": writeInput needs ChildOptions::pipeStdin";
  // A child that exited must fail the test with EPIPE, not end the test process.
  ::signal(SIGPIPE, SIG_IGN);
  while (!text.empty()) {
    ssize_t n = ::write(in_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0) << program_ << " does not read its stdin: " << std::strerror(errno);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ChildProcess::closeInput() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

bool ChildProcess::reap(int flags) {
  if (pid_ <= 0 || exited_) return exited_;
  int r;
  while ((r = ::waitpid(pid_, &status_, flags)) < 0 && errno == EINTR) {
  }
  if (r == pid_) exited_ = true;
  return exited_;
}

bool ChildProcess::running() { return pid_ > 0 && !reap(WNOHANG); }

void ChildProcess::kill() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

bool ChildProcess::readSome(int pollMillis) {
  if (out_ < 0 || outEnded_) return false;
  pollfd p{out_, POLLIN, 0};
  if (::poll(&p, 1, pollMillis) <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(out_, buf, sizeof buf);
  if (n == 0) outEnded_ = true;
  if (n <= 0) return false;
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool ChildProcess::waitForOutput(const std::string& text, Duration timeout, std::size_t from) {
  Deadline deadline(timeout);
  while (output_.find(text, from) == std::string::npos) {
    if (deadline.passed() || !readSome(deadline.pollMillis())) return output_.find(text, from) != std::string::npos;
  }
  return true;
}

int ChildProcess::wait(Duration timeout) {
  Deadline deadline(timeout);
  while (!reap(WNOHANG) && !deadline.passed()) {
    pollfd fds[2];
    nfds_t n = 0;
    if (pidFd_ >= 0) fds[n++] = {pidFd_, POLLIN, 0};
    if (out_ >= 0 && !outEnded_) fds[n++] = {out_, POLLIN, 0};
    // Without a pidfd nothing signals the exit: look again every 10 ms.
    int millis = pidFd_ >= 0 ? deadline.pollMillis() : std::min(deadline.pollMillis(), 10);
    if (::poll(fds, n, millis) > 0) {
      while (readSome(0)) {
      }
    }
  }
  if (!exited_) {
    kill();
    while (readSome(0)) {
    }
    ADD_FAILURE() << program_ << " did not exit within " << timeout.count() << " ms; killed it. Output:\n"
                  << output_;
    return -1;
  }
  while (readSome(0)) {  // what the child wrote before it exited
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

int run(const std::vector<std::string>& argv, std::string* out, std::string* err, Duration timeout) {
  TempDir dir("dstream-run");
  int code = ChildProcess(argv, {.stdoutFile = dir / "out", .stderrFile = dir / "err"}).wait(timeout);
  *out = readFile(dir / "out");
  *err = readFile(dir / "err");
  return code;
}

}  // namespace dstream::testing
