// bench_keymem: the memory one key of state costs, in dstream and in the hand-written loop
// (its absl::flat_hash_map), each in its own process (run it twice, --impl dstream / loop).
//
//   bench_keymem --impl dstream --kind running --keys 1000000
//
// The input is --keys distinct words (datagen::vocabWord(i), 9 letters: short-string keys)
// as (word, 1) pairs, key i in batch i % B of B batches, all generated before measuring.
// Then the state is built by those B batches and E = 3 empty ones (so a batch's temporaries
// are forgotten before the measurement), and the heap in use is read before and after with
// heapInUseBytes() (mallinfo2: every arena's allocated bytes, malloc's chunk headers included,
// plus mmapped chunks; and the hash tables' large arrays mapped outside malloc): what the state
// costs, whatever malloc keeps free. RSS before/after is reported too
// (it also counts freed memory malloc did not return). Kinds:
//   running       updateStateByKey(sum)                    loop: flat_hash_map<string, long>
//   mapwithstate  mapWithState(total += count)             loop: the same map
//   window        reduceByKeyAndWindow(+, -, B + E batches, 1 batch, drop zeros), the window
//                 holding every key when measured          loop: the window's map plus each
//                 batch's (key, count) pairs, kept to subtract when the batch leaves
// dstream's figure is everything the running context holds for it: state, remembered batches,
// the last output. Prints one JSON object; exits 1 if the state does not hold every key.

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <absl/container/flat_hash_map.h>

#include "bench_util.h"
#include "datagen/datagen.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"

namespace {

using namespace dstream;
using namespace dstream::bench;
using Pair = std::pair<std::string_view, long>;
using OwnedCountMap = absl::flat_hash_map<std::string, long, StrHash, StrEq>;
constexpr int kEmptyBatches = 3;


struct Input {
  std::vector<std::string> bytes;          // batch b's words, back to back
  std::vector<std::vector<Pair>> batches;  // views into `bytes`
};

Input makeKeys(long keys, int batches) {
  Input in;
  in.bytes.resize(static_cast<std::size_t>(batches));
  in.batches.resize(static_cast<std::size_t>(batches));
  for (long i = 0; i < keys; ++i) in.bytes[static_cast<std::size_t>(i % batches)] += datagen::vocabWord(static_cast<std::uint64_t>(i));
  for (int b = 0; b < batches; ++b) {
    const std::string& s = in.bytes[static_cast<std::size_t>(b)];
    auto& v = in.batches[static_cast<std::size_t>(b)];
    v.reserve(s.size() / 9);
    for (std::size_t p = 0; p + 9 <= s.size(); p += 9) v.emplace_back(std::string_view(s).substr(p, 9), 1L);
  }
  return in;
}

struct Measured {
  long long heap = 0;  // growth; signed, as RSS may shrink
  long long rss = 0;
  long keys = 0;  // keys the state holds (checked against --keys)
};

Measured runDstream(const std::string& kind, const Input& in, int threads) {
  const int batches = static_cast<int>(in.batches.size());
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[" + std::to_string(threads) + "]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<Pair>>();
  auto pairs = ssc.queueStream(queue);
  // Written by the output operation, read by this thread after awaitBatchCompleted.
  auto lastKeys = std::make_shared<long>(0), emitted = std::make_shared<long>(0);
  auto count = [lastKeys, emitted](const auto& rdd) {
    *lastKeys = static_cast<long>(rdd.count());
    *emitted += *lastKeys;
  };
  const auto add = [](long a, long b) { return a + b; };
  if (kind == "running") {
    pairs.updateStateByKey([](std::span<const long> vs, std::optional<long> old) -> std::optional<long> {
      long total = old.value_or(0);
      for (long v : vs) total += v;
      return total;
    }).foreachRDD(count);
  } else if (kind == "mapwithstate") {
    pairs.mapWithState(StateSpec::function([](const std::string& k, std::optional<long> v, State<long>& st) {
      long total = st.getOption().value_or(0) + v.value_or(0);
      st.update(total);
      return std::pair<std::string, long>(k, total);
    })).foreachRDD(count);
  } else if (kind == "window") {
    pairs.reduceByKeyAndWindow(add, [](long a, long b) { return a - b; }, Seconds(batches + kEmptyBatches), Seconds(1), 0,
                               [](const auto& kv) { return kv.second != 0; })
        .foreachRDD(count);
  } else {
    throw std::invalid_argument("unknown --kind '" + kind + "'; use running, mapwithstate or window");
  }
  std::vector<RDD<Pair>> rdds;
  for (const auto& b : in.batches) rdds.push_back(RDD<Pair>::parallelize(b, static_cast<std::size_t>(threads)));
  ssc.start();
  const Time first = dstream::testing::firstBatchTime(ssc);
  Measured m;
  const std::size_t heap0 = heapInUseBytes(), rss0 = currentRssBytes();
  for (int b = 0; b < batches + kEmptyBatches; ++b) {
    if (b < batches) queue->push(rdds[static_cast<std::size_t>(b)]);
    Time t = first + Seconds(b);
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, Seconds(3600))) {
      throw std::runtime_error("batch " + std::to_string(b) + " did not complete");
    }
  }
  m.heap = static_cast<long long>(heapInUseBytes()) - static_cast<long long>(heap0);
  m.rss = static_cast<long long>(currentRssBytes()) - static_cast<long long>(rss0);
  m.keys = kind == "mapwithstate" ? *emitted : *lastKeys;
  ssc.stop();
  ssc.awaitTermination();
  return m;
}

Measured runLoop(const std::string& kind, const Input& in) {
  Measured m;
  const std::size_t heap0 = heapInUseBytes(), rss0 = currentRssBytes();
  OwnedCountMap state;
  std::deque<std::vector<std::pair<std::string, long>>> recent;  // window: each batch's counts
  for (const auto& batch : in.batches) {
    for (const auto& [k, v] : batch) {
      auto it = state.find(k);
      if (it == state.end()) state.emplace(std::string(k), v); else it->second += v;
    }
    if (kind == "window") {
      auto& counts = recent.emplace_back();
      counts.reserve(batch.size());
      for (const auto& [k, v] : batch) counts.emplace_back(std::string(k), v);
    }
  }
  m.heap = static_cast<long long>(heapInUseBytes()) - static_cast<long long>(heap0);
  m.rss = static_cast<long long>(currentRssBytes()) - static_cast<long long>(rss0);
  m.keys = static_cast<long>(state.size());
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream bytes per key of state (heap growth), dstream or the hand-written loop"};
  std::string impl = "dstream", kind = "running";
  long keys = 1'000'000;
  int batches = 10, threads = 2;
  app.add_option("--impl", impl, "dstream | loop")->check(CLI::IsMember({"dstream", "loop"}));
  app.add_option("--kind", kind, "running | mapwithstate | window")->check(CLI::IsMember({"running", "mapwithstate", "window"}));
  app.add_option("--keys", keys, "distinct keys in the state")->check(CLI::PositiveNumber);
  app.add_option("--batches", batches, "batches the keys arrive in")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "local[N] (dstream)")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  Input in = makeKeys(keys, batches);
  auto start = std::chrono::steady_clock::now();
  Measured m = impl == "dstream" ? runDstream(kind, in, threads) : runLoop(kind, in);
  double seconds = secondsSince(start);
  std::printf("{\"kind\":\"%s\",\"impl\":\"%s\",\"keys\":%ld,\"batches\":%d,\"threads\":%d,\"heap_bytes\":%lld,"
              "\"bytes_per_key\":%.1f,\"rss_bytes\":%lld,\"rss_bytes_per_key\":%.1f,\"peak_rss_mib\":%.0f,"
              "\"seconds\":%.2f,\"state_keys\":%ld}\n",
              kind.c_str(), impl.c_str(), keys, batches, impl == "dstream" ? threads : 1, m.heap,
              static_cast<double>(m.heap) / static_cast<double>(keys), m.rss,
              static_cast<double>(m.rss) / static_cast<double>(keys), peakRssMiB(), seconds, m.keys);
  if (m.keys != keys) {
    std::fprintf(stderr, "bench_keymem: %s %s holds %ld keys, expected %ld\n", impl.c_str(), kind.c_str(), m.keys, keys);
    return 1;
  }
  return 0;
}
