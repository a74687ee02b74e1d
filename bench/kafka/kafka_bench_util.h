// Helpers of the Kafka benchmarks: dstream-kafka-mock in a child process, and the load average
// printed beside every figure.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace dstream::bench {

// The 1- and 5-minute load averages, "1.20 0.95".
inline std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " " + five;
}

// dstream-kafka-mock (one broker) with the given --topic specs, in a child process killed when
// this ends.
class MockProcess {
 public:
  explicit MockProcess(const std::vector<std::string>& topicSpecs) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    std::vector<std::string> args{DSTREAM_KAFKA_MOCK_PATH, "--brokers", "1"};
    for (const auto& spec : topicSpecs) args.insert(args.end(), {"--topic", spec});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn mock");
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    const std::string prefix = "bootstrap.servers=";
    if (line.rfind(prefix, 0) != 0) throw std::runtime_error("dstream-kafka-mock printed: " + line);
    bootstrap_ = line.substr(prefix.size());
  }
  ~MockProcess() {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  MockProcess(const MockProcess&) = delete;
  MockProcess& operator=(const MockProcess&) = delete;
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  pid_t pid_ = -1;
  std::string bootstrap_;
};

}  // namespace dstream::bench
