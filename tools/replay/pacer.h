// Pacer decides how many lines LineServer may release now: a steady rate from a token bucket
// driven by elapsed time (fractions carry over, so a late wake-up is made up and there is no
// drift), plus `burst` lines at once when pacing starts and every `every` after. At most one
// second of steady tokens and two bursts accumulate while clients lag. A RateBurst raises the
// steady rate for a while (from `at` after the start, for `length`); the tokens it leaves
// unused when it ends are dropped down to one second of the steady rate, so a client that
// held the burst back (TCP flow control) does not get it later. Internal; not thread-safe
// (the server thread owns it).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace dstream::tools {

struct RateBurst {
  double rate = 0;  // lines/s during the burst; 0: none
  std::chrono::duration<double> at{0};
  std::chrono::duration<double> length{0};
};

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

  Pacer(double rate, uint64_t burst, std::chrono::duration<double> every, RateBurst rateBurst = {})
      : rate_(rate),
        burst_(burst),
        every_(std::chrono::duration_cast<Clock::duration>(every)),
        rateBurst_(rateBurst) {}

  bool paced() const { return rate_ > 0 || burst_ > 0; }
  bool running() const { return running_; }
  // When the schedule (re)started.
  Clock::time_point started() const { return start_; }

  // Starts (or restarts) the schedule at `now`: one steady token and one burst are ready.
  void restart(Clock::time_point now) {
    running_ = true;
    start_ = now;
    last_ = now;
    steady_ = rate_ > 0 ? 1.0 : 0.0;
    bursts_ = burst_;
    nextBurst_ = now + every_;
  }
  void pause() { running_ = false; }

  // Returns the number of lines that may be released now (kUnlimited if not paced).
  uint64_t available(Clock::time_point now) {
    if (!paced()) return kUnlimited;
    if (!running_) return 0;
    steady_ = std::min(steady_ + linesBetween(last_, now), std::max(steady_, std::max(1.0, rateAt(now))));
    if (rateBurst_.rate > 0 && last_ < burstEnd() && now >= burstEnd()) {
      steady_ = std::min(steady_, std::max(1.0, rate_));  // the burst is over: so is its backlog
    }
    last_ = now;
    while (burst_ > 0 && now >= nextBurst_) {
      bursts_ = std::min(bursts_ + burst_, 2 * burst_);
      nextBurst_ += every_;
    }
    return static_cast<uint64_t>(steady_) + bursts_;
  }

  // Takes n released lines from the steady tokens first, then from the bursts.
  // REQUIRES: n <= available(now) for the last now.
  void consume(uint64_t n) {
    if (!paced()) return;
    auto fromSteady = std::min<uint64_t>(n, static_cast<uint64_t>(steady_));
    steady_ -= static_cast<double>(fromSteady);
    bursts_ -= n - fromSteady;
  }

  // Returns when the next line will be released (Clock::time_point::max() if never): the last
  // `now` given if whole tokens are still waiting (a release capped by the batch size leaves
  // them), so the server releases everything due at each wake-up, not one batch per poll().
  Clock::time_point nextRelease() const {
    auto next = Clock::time_point::max();
    if (!paced() || !running_) return next;
    if (steady_ >= 1.0 || bursts_ > 0) return last_;
    if (double rate = rateAt(last_); rate > 0) {
      double wait = (1.0 - (steady_ - std::floor(steady_))) / rate;
      // Rounded up: a wake-up a nanosecond early would find no whole line due.
      next = last_ + std::chrono::ceil<Clock::duration>(std::chrono::duration<double>(wait));
    }
    if (burst_ > 0) next = std::min(next, nextBurst_);
    // The rate changes at the burst's edges: wake there to use the new one.
    for (auto edge : {burstStart(), burstEnd()}) {
      if (rateBurst_.rate > 0 && edge > last_) next = std::min(next, edge);
    }
    return next;
  }

 private:
  Clock::time_point burstStart() const {
    return start_ + std::chrono::duration_cast<Clock::duration>(rateBurst_.at);
  }
  Clock::time_point burstEnd() const {
    return burstStart() + std::chrono::duration_cast<Clock::duration>(rateBurst_.length);
  }
  double rateAt(Clock::time_point t) const {
    return rateBurst_.rate > 0 && t >= burstStart() && t < burstEnd() ? rateBurst_.rate : rate_;
  }
  // The lines the rates release over [from, to): the steady rate, and the burst's over the
  // part of it inside the burst.
  double linesBetween(Clock::time_point from, Clock::time_point to) const {
    auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    double lines = rate_ * seconds(to - from);
    if (rateBurst_.rate > 0) {
      auto a = std::max(from, burstStart()), b = std::min(to, burstEnd());
      if (a < b) lines += (rateBurst_.rate - rate_) * seconds(b - a);
    }
    return lines;
  }

  double rate_;
  uint64_t burst_;
  Clock::duration every_;
  RateBurst rateBurst_;
  Clock::time_point start_{};
  bool running_ = false;
  Clock::time_point last_{};
  double steady_ = 0;
  uint64_t bursts_ = 0;
  Clock::time_point nextBurst_{};
};

}  // namespace dstream::tools
