// LineServer is the lab's "poor man's stream" (`curl ... | nc -lk 9999`) as one object: it
// serves the lines of files, stdin or an in-memory string over TCP, like `nc -lk`:
//   * it keeps listening across reconnects;
//   * there is ONE cursor through the input; each line goes to every client connected at that
//     moment (broadcast); a client that connects later starts at the next line;
//   * with waitForClient (the default) the cursor does not move while no client is connected,
//     so a restarting program continues where the stream was. A line that was cut off because
//     every client disconnected in its middle is sent again, whole, to the next client.
// Pacing: `rate` lines/s from a token bucket driven by elapsed time (fractions carry over, so
// there is no drift; at most one second of tokens accumulates while clients lag). Each wake-up
// releases every line due, in sends of up to 256 KiB while the clients accept them. `burst` lines
// are released at once when pacing starts and then every `burstEvery`, on top of the rate
// (rate 0 and burst 0 = as fast as possible, in batches of up to 256 KiB per send()). Pacing
// starts when the first client connects, and restarts when a client connects after a time
// with none (without waitForClient it starts at start()).
// Slow clients: a new batch is taken from the input only when every client has received the
// previous one, so the stream moves at the pace of the slowest client (backpressure, like nc).
// A client that accepts no bytes for `stallTimeout` while another client is connected is
// disconnected so it cannot block the others forever; a sole client is never dropped for
// being slow. Writes use MSG_NOSIGNAL: a vanished client is a logged disconnect, not SIGPIPE.
// Threads: start() runs the server on its own thread; every public method is thread-safe.
// The destructor stops and joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dstream::tools {

struct LineServerOptions {
  // Input: the files in order ("-" = stdin, at most once), or `text` if set (files ignored).
  std::vector<std::filesystem::path> files;
  std::optional<std::string> text;

  std::string host = "127.0.0.1";  // loopback unless told otherwise; "0.0.0.0" = all
  uint16_t port = 0;               // 0 = an ephemeral port; see LineServer::port()

  double rate = 0;                 // lines per second; 0 = no steady rate
  uint64_t burst = 0;              // lines released at once every burstEvery
  std::chrono::duration<double> burstEvery{0};  // REQUIRED > 0 when burst > 0
  // A burst of a higher rate: `burstRate` lines/s instead of `rate` from `burstAt` after
  // pacing starts, for `burstLength` (the burst benchmark's shape). REQUIRES rate > 0 and
  // burstLength > 0 when burstRate > 0.
  double burstRate = 0;
  std::chrono::duration<double> burstAt{0};
  std::chrono::duration<double> burstLength{0};
  // Release no line after this long of pacing, then finish as at the end of the input;
  // 0 = no end. Lines are whole: the last batch is sent before the end.
  std::chrono::duration<double> duration{0};

  bool loop = false;               // start again at the first line after the last
  bool httpHeader = false;         // send an HTTP/1.1 200 header block first to each client
  uint64_t limit = 0;              // stop after this many lines; 0 = no limit
  bool exitWhenDone = false;       // close clients and finish once the last line was sent
  bool waitForClient = true;       // hold the cursor while no client is connected
  std::chrono::milliseconds stallTimeout{10000};
  bool log = true;                 // one stderr line per connect/disconnect
};

class LineServer {
 public:
  // Throws Error(kInvalidArgument) for bad options (negative rate, burst without burstEvery or
  // the reverse, no input); the message names the option. With loop, stdin is kept in memory
  // during the first pass and replayed from there.
  explicit LineServer(LineServerOptions options);
  ~LineServer();  // stop() and join
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // Opens the input and binds/listens, then serves on a new thread. Returns once bound.
  // Throws Error(kNotFound) naming a missing input file, Error(kInvalidArgument) for a bad host,
  // Error(kUnavailable) if the port cannot be bound.
  // REQUIRES: start() was not called before; otherwise throws Error(kFailedPrecondition).
  void start();

  // Returns the bound port (the ephemeral one if options.port was 0).
  // REQUIRES: start() returned.
  uint16_t port() const { return port_; }

  // Returns the number of lines fully written to at least one client.
  uint64_t linesSent() const;
  // Returns the number of clients connected now.
  int clientCount() const;

  // Returns true once at least n clients are connected, false after the timeout.
  bool waitForClients(int n, std::chrono::milliseconds timeout) const;
  // Returns true once exactly n clients are connected (e.g. 0 after a disconnect), false
  // after the timeout.
  bool waitForClientCount(int n, std::chrono::milliseconds timeout) const;
  // Returns true once at least n lines were sent, false after the timeout.
  bool waitForLinesSent(uint64_t n, std::chrono::milliseconds timeout) const;
  // Returns true once the input ended (or the limit was reached) and the last line was sent,
  // or the server thread failed; false after the timeout or if stop() came first. Rethrows the server thread's error
  // (e.g. an input file that became unreadable), if any.
  bool waitForDone(std::chrono::milliseconds timeout) const;

  // Closes all connections and the listener and joins the thread. Idempotent; never throws.
  void stop();

 private:
  class Loop;  // the poll loop, owned by the server thread

  void markSent(uint64_t lines);
  void setClientCount(int n);
  void finish(std::exception_ptr error);

  LineServerOptions options_;
  uint16_t port_ = 0;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  int wakeFd_ = -1;  // eventfd that interrupts poll() on stop()

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  uint64_t linesSent_ = 0;     // guarded by mu_
  int clientCount_ = 0;        // guarded by mu_
  bool done_ = false;          // guarded by mu_
  std::exception_ptr error_;   // guarded by mu_
};

}  // namespace dstream::tools
