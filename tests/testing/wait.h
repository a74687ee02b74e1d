// Deadlines for the waits in tests. A wait that is only reached when a test fails (a batch that
// never completes, a client that never connects) must end on its own with a message, well
// before CTest's TIMEOUT kills the whole executable without one.
#pragma once

#include <algorithm>
#include <chrono>

#include "dstream/time.h"

namespace dstream::testing {

// Generous: loaded 2-core machines and sanitizer builds are slow, and a passing test never
// waits this long. CTest's default TIMEOUT (tests/CMakeLists.txt) is twice this.
inline constexpr Duration kWaitTimeout = Seconds(30);

// A point in real (steady) time: waits on another thread or process cannot use a ManualClock.
class Deadline {
 public:
  explicit Deadline(Duration timeout) : end_(std::chrono::steady_clock::now() + timeout) {}

  bool passed() const { return std::chrono::steady_clock::now() >= end_; }
  Duration left() const {
    return std::max(Duration(0), std::chrono::ceil<Duration>(end_ - std::chrono::steady_clock::now()));
  }
  // The time left as poll(2)'s timeout argument.
  int pollMillis() const { return static_cast<int>(left().count()); }

 private:
  std::chrono::steady_clock::time_point end_;
};

}  // namespace dstream::testing
