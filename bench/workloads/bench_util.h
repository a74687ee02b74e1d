// Shared helpers of the workload benchmarks: order-independent checksums, a lazy word
// splitter, peak memory, timing and percentiles. Nothing here knows about streams.
#pragma once

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string_view>
#include <vector>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#include "dstream/detail/large_pages.h"

namespace dstream::bench {

inline std::uint64_t hashBytes(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// A transparent string hash (XXH3, as the engine's): maps keyed by std::string find
// std::string_view keys without a copy. (Debian's abseil has its own string_view type, so
// absl's default hash does not accept std::string_view lookups.)
struct StrHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return hashBytes(s); }
};
struct StrEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

inline std::uint64_t mixValue(std::uint64_t h, std::int64_t v) {
  std::uint64_t x = h ^ (static_cast<std::uint64_t>(v) * 0x9E3779B97F4A7C15ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}

// A checksum over a sequence of batch outputs. Within a batch the elements are summed, so
// partition order does not matter; batches are chained in order, so a missing, extra or
// shifted batch changes the result. dstream and the loops both feed one of these.
class Checksum {
 public:
  void beginBatch(std::int64_t batchIndex) { batch_ = mixValue(0x51ED27ull, batchIndex); }
  void addPair(std::string_view key, std::int64_t value) {
    if (dump_) std::fprintf(stderr, "%s %lld %.*s %lld\n", dump_, static_cast<long long>(batches_),
                            static_cast<int>(key.size()), key.data(), static_cast<long long>(value));
    batch_ += mixValue(hashBytes(key), value);
  }
  void addValue(std::int64_t value) { addPair("", value); }
  // With BENCH_DUMP set, every item goes to stderr tagged `tag` (to find a mismatch).
  void dumpAs(const char* tag) { dump_ = std::getenv("BENCH_DUMP") ? tag : nullptr; }
  // Ordered items (e.g. a top-10 list): position matters.
  void addRanked(std::size_t rank, std::string_view key, std::int64_t value) {
    batch_ += mixValue(hashBytes(key) + rank * 0x100000001B3ull, value);
  }
  void endBatch() {
    total_ = mixValue(total_ ^ batch_, static_cast<std::int64_t>(++batches_));
  }
  std::uint64_t value() const { return total_; }
  std::uint64_t batches() const { return batches_; }

 private:
  std::uint64_t batch_ = 0;
  std::uint64_t total_ = 0x12345678ull;
  std::uint64_t batches_ = 0;
  const char* dump_ = nullptr;
};

// Calls f(word) for each space-separated word of `line`: the loops' splitter, a memchr for
// the next space as a hand-written C++ loop would do. (The engine's workloads use
// dstream::words(), the lazy range users are told to use in flatMap.)
template <class F>
inline void forEachWord(std::string_view line, F&& f) {
  const char* p = line.data();
  const char* const end = p + line.size();
  while (p != end) {
    while (p != end && (*p == ' ' || *p == '\n')) ++p;
    if (p == end) return;
    const void* space = std::memchr(p, ' ', static_cast<std::size_t>(end - p));
    const char* next = space ? static_cast<const char*>(space) : end;
    const char* wordEnd = next[-1] == '\n' ? next - 1 : next;
    f(std::string_view(p, static_cast<std::size_t>(wordEnd - p)));
    p = next;
  }
}

// Peak resident set size of this process so far, in MiB.
inline double peakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Resident set size of this process now, in bytes (/proc/self/statm; 0 if unreadable).
inline std::size_t currentRssBytes() {
  unsigned long long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu %llu", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Bytes of heap in use: what malloc handed out and did not get back (all arenas, its mmapped
// chunks too; unlike RSS not raised by freed memory malloc keeps), plus the engine's large
// hash-table arrays, which are mapped outside malloc (detail/large_pages.h). mallinfo2()
// walks malloc's free lists: call it between batches, not per record.
inline std::size_t heapInUseBytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd + dstream::detail::largeArrayBytes().load(std::memory_order_relaxed);
}

inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The q-quantile (0..1) of `values` by nearest rank; 0 for an empty vector.
inline double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

inline double median(std::vector<double> values) { return percentile(std::move(values), 0.5); }

}  // namespace dstream::bench
