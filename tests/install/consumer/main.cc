// A user's program built against an installed dstream. It includes every installed header
// (every_header.h, generated from what the package installed) and uses hashing, JSON, a
// stream with pprint(), print() and foreachRDD(), and a context driven by hand with
// checkpoints, a listener, windows, state and saveAsTextFiles. It is linked twice, with the
// static and the shared library, and both must print the same lines (run_consumer.cmake
// checks them). Usage: consumer <empty work directory>.
#include "every_header.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, std::string_view what) {
  if (!ok) {
    std::cout << "FAILED: " << what << "\n";
    ++failures;
  }
}

// Hashing is inline in this program (xxhash.h with XXH_INLINE_ALL, found through the
// package): it must be the XXH3-64 the library partitions with, or a key would land in
// different partitions in user code and in the engine.
void useHashing() {
  check(dstream::hashBytes("dstream", 7) == 0xf21f59add91009a4ULL, "hashBytes is XXH3-64");
  check(dstream::Hasher<std::string>{}(std::string("key")) == dstream::Hasher<std::string_view>{}("key"),
        "std::string and std::string_view keys hash alike");
  char hex[17];
  std::uint64_t h = dstream::Hasher<std::pair<std::string, long>>{}({"a", 1});
  for (int i = 15; i >= 0; --i, h >>= 4) hex[i] = "0123456789abcdef"[h & 15];
  hex[16] = '\0';
  std::cout << "hash: " << hex << "\n";
}

// The JSON helpers are out of line in the library (simdjson behind them).
void useJson() {
  std::string_view line = R"({"venue":{"venue_name":"Hall 1","lat":52.5},"guests":3})";
  auto name = dstream::json::getString(line, "venue.venue_name");
  auto raw = dstream::json::field(line, "venue.venue_name");
  auto record = dstream::json::Record::parse(line);
  check(record && record->getInt64("guests") == 3 && record->getDouble("venue.lat") == 52.5,
        "Record reads typed fields");
  std::int64_t badBefore = dstream::totalBadRecords();
  check(!dstream::json::has("HTTP/1.1 200 OK", "venue"), "a malformed line has no field");
  check(dstream::totalBadRecords() == badBefore + 1, "a malformed line is counted");
  try {
    dstream::json::field("{", "venue", dstream::OnBadRecord::kFail);
    check(false, "kFail throws on a malformed line");
  } catch (const dstream::Error& e) {  // thrown inside the library, caught here
    check(e.code() == dstream::ErrorCode::kInvalidArgument, "the error is kInvalidArgument");
  }
  std::cout << "json: " << name.value_or("?") << " " << raw.value_or("?") << "\n";
}

// A word count over two batches: pprint() and print() write each batch to stdout, and
// runStream collects the output with foreachRDD().
void useStream() {
  auto out = dstream::testing::runStream<std::string>({{"a b a"}, {"b"}}, [](auto lines) {
    auto counts = lines.flatMap([](const std::string& l) { return dstream::split(l, ' '); })
                      .map([](std::string_view w) { return std::pair<std::string, long>(w, 1L); })
                      .reduceByKey([](long a, long b) { return a + b; });
    counts.pprint();
    counts.print();
    return counts;
  });
  std::cout << "counts:";
  for (auto& batch : out) {
    std::sort(batch.begin(), batch.end());
    for (const auto& kv : batch) std::cout << " " << dstream::toText(kv);
    std::cout << " |";
  }
  std::cout << "\n";
  std::cout << "duration: " << dstream::formatDuration(dstream::Seconds(90)) << "\n";
}

class CountingListener final : public dstream::StreamingListener {
 public:
  void onBatchCompleted(const dstream::BatchInfo& info) override {
    ++batches;
    records += info.numInputRecords;
  }
  std::atomic<int> batches{0};
  std::atomic<std::int64_t> records{0};
};

// The context driven by hand on a manual clock, as a program or a binding drives it: three
// one-second batches of numbers, each number and ten times it (union_), summed by parity per
// batch, over a two-second window and as state, the state saved as text files.
void useContext(const std::filesystem::path& dir) {
  using dstream::Seconds;
  using Sum = std::pair<std::string, long>;
  auto clock = std::make_shared<dstream::ManualClock>();
  dstream::StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  ssc.checkpoint((dir / "checkpoint").string());
  auto listener = std::make_shared<CountingListener>();
  ssc.addStreamingListener(listener);
  auto queue = std::make_shared<dstream::RDDQueue<int>>();
  for (std::vector<int> batch : {std::vector{1, 2}, {3}, {4, 5, 6}}) queue->push(std::move(batch), 2);

  auto numbers = ssc.queueStream(queue);
  auto both = numbers.union_(numbers.map([](int x) { return 10 * x; }))
                  .transform([](const dstream::RDD<int>& rdd) { return rdd.repartition(1); });
  auto byParity = both.map([](int x) { return Sum(x % 2 ? "odd" : "even", x); });
  auto add = [](long a, long b) { return a + b; };
  auto windowed = byParity.reduceByKeyAndWindow(add, Seconds(2), Seconds(1));
  auto totals = byParity.updateStateByKey([](std::span<const long> values, std::optional<long> state) {
    long sum = state.value_or(0);
    for (long v : values) sum += v;
    return std::optional<long>(sum);
  });
  totals.saveAsTextFiles((dir / "totals").string(), "txt");
  std::mutex mu;
  std::map<std::string, long> lastWindow, lastTotals;  // guarded by mu
  auto keepLast = [&mu](std::map<std::string, long>& last) {
    return [&mu, &last](const dstream::RDD<Sum>& rdd) {
      std::lock_guard lock(mu);
      last.clear();
      for (const auto& [k, v] : rdd.collect()) last[k] = v;
    };
  };
  windowed.foreachRDD(keepLast(lastWindow));
  totals.foreachRDD(keepLast(lastTotals));

  ssc.start();
  dstream::Time first = dstream::testing::firstBatchTime(ssc);
  for (int i = 0; i < 3; ++i) {
    dstream::Time t = first + Seconds(i);
    clock->setTime(t);
    check(dstream::testing::awaitBatchCompleted(ssc, t, Seconds(60)), "a batch completes");
  }
  ssc.stop();
  ssc.awaitTermination();

  int saved = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    saved += entry.path().filename().string().starts_with("totals-") && entry.is_directory();
  }
  std::lock_guard lock(mu);
  std::cout << "window: " << dstream::toText(lastWindow) << " state: " << dstream::toText(lastTotals)
            << " listener: " << listener->batches << " batches, " << listener->records << " records"
            << " saved: " << saved << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer <empty work directory>\n";
    return 2;
  }
  useHashing();
  useJson();
  useStream();
  useContext(argv[1]);
  std::cout << (failures == 0 ? "consumer: ok" : "consumer: FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}
