// Time in dstream is std::chrono, at millisecond resolution like Spark's Time and Duration.
// A batch time is a point on the system clock's epoch (or a ManualClock's), so the lab's
// countByWindow(30, 10) reads countByWindow(Seconds(30), Seconds(10)) or countByWindow(30s, 10s).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "dstream/export.h"

namespace dstream {

using Duration = std::chrono::milliseconds;
using Time = std::chrono::sys_time<Duration>;

constexpr Duration Milliseconds(std::int64_t ms) { return Duration(ms); }
constexpr Duration Seconds(std::int64_t s) { return std::chrono::seconds(s); }
constexpr Duration Minutes(std::int64_t m) { return std::chrono::minutes(m); }

// Milliseconds since the epoch: the number Spark prints in "Time: <ms> ms" and in
// saveAsTextFiles directory names.
constexpr std::int64_t toMillis(Time t) { return t.time_since_epoch().count(); }
constexpr Time timeFromMillis(std::int64_t ms) { return Time(Duration(ms)); }

// True when `d` is a positive whole multiple of `unit` (Spark's Duration.isMultipleOf).
constexpr bool isMultipleOf(Duration d, Duration unit) {
  return unit.count() > 0 && d.count() % unit.count() == 0;
}

// The largest multiple of `unit` that is <= t (Spark's Time.floor).
constexpr Time floorTo(Time t, Duration unit) {
  auto ms = t.time_since_epoch().count();
  auto u = unit.count();
  auto q = ms / u;
  if (ms % u != 0 && ms < 0) --q;
  return Time(Duration(q * u));
}

// A short human form of a duration: "10s", "500ms", "2min", "1h".
DSTREAM_EXPORT std::string formatDuration(Duration d);

}  // namespace dstream
