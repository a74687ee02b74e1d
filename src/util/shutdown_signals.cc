#include "util/shutdown_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "dstream/error.h"

namespace dstream::detail {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT};

int gPipe[2] = {-1, -1};  // created once, never closed (the handler may still write to it)
std::atomic<std::int64_t> gHandled{0};

void handleSignal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  // Nothing else here: a signal handler may only make async-signal-safe calls.
  [[maybe_unused]] ssize_t n = ::write(gPipe[1], &b, 1);
  errno = saved;
}

struct Registry {
  std::mutex mu;
  std::map<std::uint64_t, std::function<void(bool)>> subscribers;  // guarded by mu
  std::uint64_t nextId = 1;                                        // guarded by mu
  int signalsSeen = 0;       // since the handlers were installed; guarded by mu
  bool installed = false;    // guarded by mu
  struct sigaction previous[std::size(kSignals)];  // guarded by mu
  bool watching = false;     // the watcher thread runs (for the rest of the process); guarded by mu

  void restore() {  // REQUIRES: mu held
    if (!installed) return;
    for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &previous[i], nullptr);
    installed = false;
  }

  void watch() {
    for (;;) {
      unsigned char b;
      ssize_t n = ::read(gPipe[0], &b, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      std::lock_guard lock(mu);
      bool graceful = ++signalsSeen == 1;
      if (!graceful) restore();  // a third signal ends the process as it normally would
      if (subscribers.empty()) {
        // Arrived while the last subscriber was leaving: act as if we had not caught it.
        ::raise(b);
      }
      for (auto& [id, fn] : subscribers) fn(graceful);
      gHandled.fetch_add(1);
    }
  }
};

// Never destroyed: the detached watcher may use it until the process ends.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

std::uint64_t subscribeToShutdownSignals(std::function<void(bool graceful)> onSignal) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (gPipe[0] < 0 && ::pipe2(gPipe, O_CLOEXEC) != 0) {
    throw Error(ErrorCode::kInternal, std::string("stopGracefullyOnShutdown: cannot create a pipe: ") +
                                          std::strerror(errno));
  }
  if (!r.watching) {
    std::thread([&r] { r.watch(); }).detach();  // idle in read() when nobody subscribes
    r.watching = true;
  }
  if (r.subscribers.empty()) {
    r.signalsSeen = 0;
    struct sigaction sa {};
    sa.sa_handler = handleSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &r.previous[i]);
    r.installed = true;
  }
  std::uint64_t id = r.nextId++;
  r.subscribers.emplace(id, std::move(onSignal));
  return id;
}

void unsubscribeFromShutdownSignals(std::uint64_t id) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (r.subscribers.erase(id) == 0 || !r.subscribers.empty()) return;
  r.restore();
}

std::int64_t shutdownSignalsHandled() { return gHandled.load(); }

}  // namespace dstream::detail
