// LineServer::Loop is the poll() loop behind LineServer: one thread owns the listener, the
// clients, the input cursor and the pacer. See line_server.h for the semantics it implements.
// Only requestStop() may be called from another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "replay/line_input.h"
#include "replay/line_server.h"
#include "replay/pacer.h"

namespace dstream::tools {

class LineServer::Loop {
 public:
  // Takes ownership of the listening socket; wakeFd stays owned by the LineServer.
  Loop(LineServer& server, const LineServerOptions& options, std::unique_ptr<LineInput> input,
       int listenFd, int wakeFd);
  ~Loop();  // closes the listener and all client sockets

  // Serves until requestStop(), or until done with options.exitWhenDone.
  // Throws Error if the input cannot be read.
  void run();
  void requestStop() { stopping_ = true; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Client {
    int fd;
    std::string peer;
    std::string prefix;          // the HTTP header block, written before any batch bytes
    std::size_t offset = 0;      // bytes of batch_ written to this client
    Clock::time_point lastProgress;
    bool joinedMidBatch = false;  // skips the current batch_: its lines went out before it came
    bool pending(std::size_t batchSize) const { return !prefix.empty() || offset < batchSize; }
  };

  void acceptClients(Clock::time_point now);
  void drop(std::size_t i, const char* why);
  void onAllClientsGone();
  void rewindBatch();
  void settleBatch();  // clears or rewinds batch_ once no client is still writing it
  void refillBatch(Clock::time_point now);
  void writeClients(Clock::time_point now);
  void dropStalled(Clock::time_point now);
  int pollTimeoutMs(Clock::time_point now) const;
  void log(const std::string& line) const;

  LineServer& server_;
  const LineServerOptions& options_;
  std::unique_ptr<LineInput> input_;
  int listenFd_;
  int wakeFd_;
  std::atomic<bool> stopping_{false};
  Pacer pacer_;

  std::vector<Client> clients_;
  std::string batch_;              // whole lines being broadcast
  uint64_t batchLines_ = 0;        // lines in batch_ not yet counted as sent
  bool batchDelivered_ = false;    // some client has all of batch_
  std::size_t batchMaxOffset_ = 0; // the most of batch_ written to any one client
  uint64_t taken_ = 0;             // lines taken from the input (for options.limit)
  bool inputEnded_ = false;
  bool inputBlocked_ = false;      // stdin has no complete line yet
  bool doneReported_ = false;
};

}  // namespace dstream::tools
