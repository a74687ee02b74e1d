// Internal helpers shared by the generators: a counter-based PRNG keyed by (seed, stream,
// record index), and JSON string/number appenders. Not part of the datagen API.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "datagen/datagen.h"

namespace dstream::datagen::internal {

// Draw k of record i is a pure function of (seed, stream, i, k): records are independent, so
// any range can be generated alone and gives the same bytes.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream, uint64_t index)
      : state_(splitmix64(splitmix64(seed ^ (stream << 56)) + index)) {}

  uint64_t next() { return splitmix64(state_++); }
  uint64_t below(uint64_t n) { return next() % n; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t state_;
};

// Appends s as a JSON string the way the Meetup stream wrote them: '/' escaped as "\/",
// quotes, backslashes and control characters escaped, other UTF-8 bytes raw.
inline void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '/') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

inline void appendInt(std::string& out, int64_t v) { out += std::to_string(v); }

// Appends v rounded to `decimals` places, without trailing zeros (as the real data has them).
void appendDecimal(std::string& out, double v, int decimals);

}  // namespace dstream::datagen::internal
