#include "dstream/clock.h"

#include <thread>

namespace dstream {

Time SystemClock::now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

bool SystemClock::waitUntil(Time t, std::stop_token stop) {
  // Sleep in short slices so that a stop request is seen promptly.
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  while (!stop.stop_requested()) {
    auto left = t - now();
    if (left <= Duration::zero()) return true;
    cv.wait_for(lock, stop, std::min<Duration>(left, Duration(50)), [] { return false; });
  }
  return now() >= t;
}

Time ManualClock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

bool ManualClock::waitUntil(Time t, std::stop_token stop) {
  std::unique_lock lock(mu_);
  return changed_.wait(lock, stop, [&] { return now_ >= t; });
}

void ManualClock::advance(Duration d) {
  {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  changed_.notify_all();
}

void ManualClock::setTime(Time t) {
  {
    std::lock_guard lock(mu_);
    if (t > now_) now_ = t;
  }
  changed_.notify_all();
}

}  // namespace dstream
