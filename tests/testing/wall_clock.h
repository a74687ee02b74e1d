// The wall-clock time of day as a crash test and the programs it starts print it, so that the
// test's lines and its children's logs can be read side by side.
#pragma once

#include <chrono>
#include <string>

namespace dstream::testing {

// Seconds since midnight UTC, with milliseconds: "52937.041".
inline std::string secondOfDay() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() % (24LL * 3600 * 1000);
  return std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
}

}  // namespace dstream::testing
