// The engine never reads the system clock directly: it asks a Clock. SystemClock is the
// default; ManualClock is for tests, which advance it by hand so that batches run
// deterministically and without sleeping (Spark's ManualClock).
//
// Thread-safety: every method of both clocks may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "dstream/export.h"
#include "dstream/time.h"

namespace dstream {

class DSTREAM_EXPORT Clock {
 public:
  virtual ~Clock() = default;

  virtual Time now() const = 0;

  // Blocks until now() >= t or `stop` is requested. Returns now() >= t.
  virtual bool waitUntil(Time t, std::stop_token stop) = 0;
};

class DSTREAM_EXPORT SystemClock final : public Clock {
 public:
  Time now() const override;
  bool waitUntil(Time t, std::stop_token stop) override;
};

class DSTREAM_EXPORT ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start = Time(Duration(0))) : now_(start) {}

  Time now() const override;
  bool waitUntil(Time t, std::stop_token stop) override;

  // Moves time forward by `d` and wakes every waiter whose time has come.
  // REQUIRES: d >= 0.
  void advance(Duration d);
  // Sets the time. REQUIRES: t >= now().
  void setTime(Time t);

 private:
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  Time now_;  // guarded by mu_
};

}  // namespace dstream
