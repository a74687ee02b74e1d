// reduceByKeyAndWindow(f, W, S) and reduceByWindow(f, W, S) without an inverse function
// (PaneWindowNode in window_nodes.h) give exactly Spark's definition: each output is checked
// against the window re-reduced by brute force from the input. Random batches with empty
// ones and keys that come and go; slides of 1 to 5 batches, tumbling windows, windows that
// are not a multiple of the slide and slides longer than the window; a non-commutative f
// (concatenation), which must see the batches in time order; a downstream window that skips
// slides; values that point into the input (under ASan); what the node holds; restarts in
// the middle of windows, also from a checkpoint the previous layout (window + reduceByKey)
// wrote; and every bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/errors.h"
#include "testing/files.h"
#include "testing/layouts.h"

namespace dstream {
namespace {
namespace fs = std::filesystem;

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)
using KV = std::pair<std::string, long>;
using KS = std::pair<std::string, std::string>;

const auto kAdd = [](long a, long b) { return a + b; };
// Associative, not commutative: the result shows the order in which values were merged.
const auto kConcat = [](std::string a, const std::string& b) {
  a += b;
  return a;
};

struct Shape {
  int window, slide;  // in batches
};
// Slides of 1 to 5 batches; tumbling (W = S); W not a multiple of S; S > W; long windows.
const std::vector<Shape> kShapes = {{1, 1}, {2, 1}, {5, 1}, {12, 1}, {2, 2}, {4, 2}, {5, 2}, {3, 3},
                                    {7, 3}, {6, 3}, {10, 4}, {9, 5}, {2, 3}, {1, 4}};

std::string shapeName(const Shape& s) { return std::string("window ") + std::to_string(s.window) + " slide " + std::to_string(s.slide); }

// `n` batches of (key, value): every 6th batch empty, keys drawn from a vocabulary that moves
// with time (keys leave windows, some come back), values of both signs.
std::vector<std::vector<KV>> randomBatches(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<KV>> batches(n);
  for (int b = 0; b < n; ++b) {
    if (b % 6 == 4) continue;
    int records = static_cast<int>(rng() % 12);
    for (int r = 0; r < records; ++r) {
      std::string key = "k";  // appended, not "k" + ...: GCC 12's -Wrestrict misfires on that here
      key += std::to_string((b / 4) * 3 + static_cast<int>(rng() % 8));
      batches[b].emplace_back(std::move(key), static_cast<long>(rng() % 100) - 30);
    }
  }
  return batches;
}

// The same keys, each at most once per batch, with a unique tag "<batch>.<record>;" as its
// value. Once per batch: reduceByKey promises no order among a batch's values of one key
// (neither does Spark's), only the window's merges of whole batches are in time order.
std::vector<std::vector<KS>> taggedBatches(int n, std::uint64_t seed) {
  auto numbers = randomBatches(n, seed);
  std::vector<std::vector<KS>> tagged(n);
  for (int b = 0; b < n; ++b) {
    for (std::size_t r = 0; r < numbers[b].size(); ++r) {
      const std::string& key = numbers[b][r].first;
      if (std::none_of(tagged[b].begin(), tagged[b].end(), [&](const KS& kv) { return kv.first == key; })) {
        tagged[b].emplace_back(key, std::to_string(b) + "." + std::to_string(r) + ";");
      }
    }
  }
  return tagged;
}

// Spark's definition by brute force: at every slide (batch index i = k * S - 1), the values
// of the batches in (i - W, i] reduced per key with f, in batch order then record order.
template <class V, class F>
std::vector<std::vector<std::pair<std::string, V>>> bruteForce(const std::vector<std::vector<std::pair<std::string, V>>>& in,
                                                               Shape shape, F f) {
  std::vector<std::vector<std::pair<std::string, V>>> out;
  for (int i = shape.slide - 1; i < static_cast<int>(in.size()); i += shape.slide) {
    std::map<std::string, V> window;
    for (int j = std::max(0, i - shape.window + 1); j <= i; ++j) {
      for (const auto& [k, v] : in[j]) {
        auto [it, inserted] = window.try_emplace(k, v);
        if (!inserted) it->second = f(std::move(it->second), v);
      }
    }
    out.emplace_back(window.begin(), window.end());
  }
  return out;
}

// The same for reduceByWindow: an empty window emits nothing.
template <class T, class F>
std::vector<std::vector<T>> bruteForceWindow(const std::vector<std::vector<T>>& in, Shape shape, F f) {
  std::vector<std::vector<T>> out;
  for (int i = shape.slide - 1; i < static_cast<int>(in.size()); i += shape.slide) {
    std::vector<T> result;
    for (int j = std::max(0, i - shape.window + 1); j <= i; ++j) {
      for (const auto& x : in[j]) result = result.empty() ? std::vector<T>{x} : std::vector<T>{f(result[0], x)};
    }
    out.push_back(std::move(result));
  }
  return out;
}

DSTREAM_LAYOUT_SUITE(PaneWindowTest);

TEST_P(PaneWindowTest, SumsEqualTheDefinitionForEveryShape) {
  auto input = randomBatches(40, 7);
  std::size_t partitions[] = {0, 1, 3};
  for (std::size_t i = 0; i < kShapes.size(); ++i) {
    const Shape shape = kShapes[i];
    const std::size_t n = partitions[i % 3];
    SCOPED_TRACE(shapeName(shape) + ", numPartitions " + std::to_string(n));
    auto out = runStream<KV>(input, [&](auto s) {
      return s.reduceByKeyAndWindow(kAdd, Seconds(shape.window), Seconds(shape.slide), n);
    }, opts());
    auto expected = bruteForce(input, shape, kAdd);
    ASSERT_EQ(out.size(), expected.size());
    EXPECT_EQ(sorted(out), expected);
    // And Spark's definition spelled out with the public API (f commutative: its order of
    // merging is unspecified).
    auto definition = runStream<KV>(input, [&](auto s) {
      return s.reduceByKey(kAdd, n).window(Seconds(shape.window), Seconds(shape.slide)).reduceByKey(kAdd, n);
    }, opts());
    EXPECT_EQ(sorted(out), sorted(definition));
  }
}

TEST_P(PaneWindowTest, ANonCommutativeFSeesTheBatchesInTimeOrder) {
  auto input = taggedBatches(40, 11);
  for (std::size_t i = 0; i < kShapes.size(); ++i) {
    const Shape shape = kShapes[i];
    const std::size_t n = i % 2 == 0 ? 0 : 3;
    SCOPED_TRACE(shapeName(shape));
    auto out = runStream<KS>(input, [&](auto s) {
      return s.reduceByKeyAndWindow(kConcat, Seconds(shape.window), Seconds(shape.slide), n);
    }, opts());
    EXPECT_EQ(sorted(out), bruteForce(input, shape, kConcat));
  }
}

TEST_P(PaneWindowTest, ReduceByWindowEqualsTheDefinition) {
  auto tagged = taggedBatches(30, 5);
  std::vector<std::vector<std::string>> strings(tagged.size());
  std::vector<std::vector<long>> numbers(tagged.size());
  for (std::size_t b = 0; b < tagged.size(); ++b) {
    for (const auto& [k, v] : tagged[b]) {
      if (strings[b].empty()) strings[b].push_back(v);  // one per batch: no order among a batch's values
      numbers[b].push_back(static_cast<long>(v.size()) * (k.size() % 2 == 0 ? 1 : -1));
    }
  }
  for (const Shape& shape : kShapes) {
    SCOPED_TRACE(shapeName(shape));
    auto concatenated = runStream<std::string>(strings, [&](auto s) {
      return s.reduceByWindow(kConcat, Seconds(shape.window), Seconds(shape.slide));
    }, opts());
    EXPECT_EQ(concatenated, bruteForceWindow(strings, shape, kConcat));
    auto definition = runStream<std::string>(strings, [&](auto s) {
      return s.reduce(kConcat).window(Seconds(shape.window), Seconds(shape.slide)).reduce(kConcat);
    }, opts());
    EXPECT_EQ(concatenated, definition);
    auto sums = runStream<long>(numbers, [&](auto s) {
      return s.reduceByWindow(kAdd, Seconds(shape.window), Seconds(shape.slide));
    }, opts());
    EXPECT_EQ(sums, bruteForceWindow(numbers, shape, kAdd));
  }
}

TEST_P(PaneWindowTest, KeysLeaveAndWindowsEmptyOut) {
  // Keys a and b, then nothing: every key leaves, and the last windows are empty.
  std::vector<std::vector<KV>> input = {{{"a", 1}, {"b", 2}}, {{"a", 3}}, {}, {{"b", 4}}, {}, {}, {}, {}};
  auto out = runStream<KV>(input, [](auto s) { return s.reduceByKeyAndWindow(kAdd, Seconds(3), Seconds(1)); }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 1}, {"b", 2}},
                                     {{"a", 4}, {"b", 2}},
                                     {{"a", 4}, {"b", 2}},
                                     {{"a", 3}, {"b", 4}},
                                     {{"b", 4}},
                                     {{"b", 4}},
                                     {},
                                     {}}));
  auto sums = runStream<long>({{1, 2}, {}, {}, {3}, {}, {}, {}}, [](auto s) {
    return s.reduceByWindow(kAdd, Seconds(2), Seconds(1));
  }, opts());
  EXPECT_EQ(sums, (std::vector<std::vector<long>>{{3}, {3}, {}, {3}, {3}, {}, {}}));
}

TEST_P(PaneWindowTest, ADownstreamWindowThatSkipsSlidesGetsWholeWindows) {
  // The window over it asks only for every other slide, so each of its windows starts anew.
  auto input = randomBatches(24, 3);
  auto out = runStream<KV>(input, [](auto s) {
    return s.reduceByKeyAndWindow(kAdd, Seconds(5), Seconds(1), 2).window(Seconds(1), Seconds(2));
  }, opts());
  auto every = bruteForce(input, Shape{5, 1}, kAdd);
  std::vector<std::vector<KV>> expected;
  for (std::size_t i = 1; i < every.size(); i += 2) expected.push_back(every[i]);
  EXPECT_EQ(sorted(out), expected);
}

TEST(PaneWindowFailureTest, AnExceptionFromFFailsTheBatchAndReachesAwaitTermination) {
  auto input = randomBatches(8, 1);
  input[5].emplace_back("boom", 1);
  input[5].emplace_back("boom", 1);  // two values: f runs on this key at this batch
  auto throwing = [](long a, long b) {
    if (a == 1 && b == 1) throw Error(ErrorCode::kInvalidArgument, "f refused");
    return a + b;
  };
  for (const char* master : {"local", "local[2]"}) {
    SCOPED_TRACE(master);
    expectErrorContaining([&] {
      runStream<KV>(input, [&](auto s) {
        return s.filter([](const KV& kv) { return kv.first == "boom"; })
            .reduceByKeyAndWindow(throwing, Seconds(3), Seconds(1));
      }, {.master = master});
    }, ErrorCode::kInternal, "batch at 6000 ms failed: dstream: f refused");
  }
}

// What the node holds stays within the window: the reduced batches of (t - W, t], at most one
// suffix per slide left in the window, and the parent remembers the window (plus the slide).
TEST(PaneWindowMemoryTest, HoldsOnlyTheWindowsBatchesAndOneSuffixPerSlide) {
  for (Shape shape : {Shape{6, 1}, Shape{10, 3}, Shape{4, 4}, Shape{2, 3}}) {
    SCOPED_TRACE(shapeName(shape));
    auto clock = std::make_shared<ManualClock>();
    StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
    auto queue = std::make_shared<RDDQueue<KV>>();
    for (int b = 0; b < 30; ++b) queue->push({{"a", 1}, {std::string("k") + std::to_string(b), 1}});
    auto counts = ssc.queueStream(queue).reduceByKeyAndWindow(kAdd, Seconds(shape.window), Seconds(shape.slide));
    counts.foreachRDD([](const RDD<KV>&) {});
    using Node = detail::PaneWindowNode<std::string, long, std::decay_t<decltype(kAdd)>>;
    auto* node = dynamic_cast<Node*>(counts.node().get());
    ASSERT_NE(node, nullptr);
    auto* reduced = dynamic_cast<detail::TypedNode<KV>*>(node->parents()[0]);
    ASSERT_NE(reduced, nullptr);
    ssc.start();
    std::size_t maxSuffixes = 0;
    for (int b = 0; b < 30; ++b) {
      ASSERT_TRUE(runBatchAt(ssc, *clock, firstBatchTime(ssc) + Seconds(b)));
      EXPECT_LE(node->numLiveBatches(), static_cast<std::size_t>(shape.window)) << "after batch " << b;
      EXPECT_LE(node->numSuffixes(), static_cast<std::size_t>((shape.window + shape.slide - 1) / shape.slide))
          << "after batch " << b;
      EXPECT_LE(reduced->numRemembered(), static_cast<std::size_t>(shape.window + shape.slide)) << "after batch " << b;
      if (b >= shape.window + shape.slide) {
        EXPECT_GE(reduced->numRemembered(), static_cast<std::size_t>(shape.window)) << "after batch " << b;
      }
      maxSuffixes = std::max(maxSuffixes, node->numSuffixes());
    }
    // Suffixes are what makes a slide cheap: a window longer than twice the slide uses them.
    if (shape.window >= 2 * shape.slide) {
      EXPECT_GT(maxSuffixes, 0u);
    }
    ssc.stop();
  }
}

// ---- Bad input ----

class PaneWindowValidationTest : public ::testing::Test {
 protected:
  StreamingContext ssc_{"local[2]", Seconds(10)};
  DStream<KV> pairs_ = ssc_.queueStream(std::make_shared<RDDQueue<KV>>());
  DStream<long> longs_ = ssc_.queueStream(std::make_shared<RDDQueue<long>>());
};

TEST_F(PaneWindowValidationTest, DurationsThatAreNotMultiplesOfTheBatchAreRejected) {
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(30), Seconds(15)); },
                "dstream: reduceByKeyAndWindow: slide 15s is not a multiple of the parent's slide 10s; use 10s or 20s");
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(5)); },
                "dstream: reduceByKeyAndWindow: window 5s is not a multiple of the parent's slide 10s; use 10s");
  expectInvalid([&] { longs_.reduceByWindow(kAdd, Seconds(30), Seconds(25)); },
                "dstream: reduceByWindow: slide 25s is not a multiple of the parent's slide 10s; use 20s or 30s");
}

TEST_F(PaneWindowValidationTest, NonPositiveDurationsAreRejected) {
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(0), Seconds(10)); },
                "dstream: reduceByKeyAndWindow: window 0ms must be positive");
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(-20)); },
                "dstream: reduceByKeyAndWindow: window -20s must be positive");
  expectInvalid([&] { longs_.reduceByWindow(kAdd, Seconds(20), Seconds(0)); },
                "dstream: reduceByWindow: slide 0ms must be positive");
  expectInvalid([&] { longs_.reduceByWindow(kAdd, Seconds(-10), Seconds(10)); },
                "dstream: reduceByWindow: window -10s must be positive");
}

TEST_F(PaneWindowValidationTest, DefiningAfterStartFails) {
  pairs_.reduceByKeyAndWindow(kAdd, Seconds(20), Seconds(10)).foreachRDD([](const RDD<KV>&) {});
  ssc_.start();
  const std::string after = ": streams and output operations must be defined before start(); "
                            "this context has already started";
  expectErrorMessage([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(20), Seconds(10)); },
                     ErrorCode::kFailedPrecondition, "dstream: reduceByKeyAndWindow" + after);
  expectErrorMessage([&] { longs_.reduceByWindow(kAdd, Seconds(20), Seconds(10)); }, ErrorCode::kFailedPrecondition,
                     "dstream: reduceByWindow" + after);
  ssc_.stop();
}

// ---- Restarts ----

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * kBatchMs
constexpr long kBatchMs = 100;
constexpr int kBatches = 24;

Time batchTime(int i) { return timeFromMillis(kBase + i * kBatchMs); }

// A value type without a dstream::Serializer: the window keeps no state of its own, so a
// checkpointed context accepts it and still recovers exactly (the sources replay the window).
struct Tags {
  std::string text;
  bool operator==(const Tags&) const = default;
};

// Batch i's input: words with their batch number; every 5th batch empty.
std::string inputOf(int i) {
  if (i % 5 == 3) return "";
  static const char* kWords[] = {"apple", "fig", "kiwi", "lime"};
  std::string text;
  for (int j = 0; j < 1 + i % 3; ++j) text += std::string(kWords[(i * 3 + j) % 4]) + ":" + std::to_string(i) + " ";
  return text + "\n";
}

// Collected outputs: (output name, batch ms) -> every value seen (one per life that ran it).
struct Seen {
  std::mutex mu;
  std::map<std::pair<std::string, long>, std::vector<std::string>> values;
};

template <class Stream, class Format>
void record(const Stream& stream, const std::string& name, Seen& seen, Format format) {
  using T = typename Stream::value_type;
  stream.foreachRDD([&seen, name, format](const RDD<T>& rdd, Time t) {
    std::vector<std::string> items;
    for (const auto& x : rdd.collect()) items.push_back(format(x));
    std::sort(items.begin(), items.end());
    std::string text;
    for (const auto& s : items) text += s + " ";
    std::lock_guard lock(seen.mu);
    seen.values[{name, toMillis(t)}].push_back(text);
  });
}

enum class WindowLayout { kCurrent, kPrevious };

// Windows over a file stream: (word, tags) concatenated in time order, with and without a
// checkpointed stream after them. kPrevious builds the window as the previous binary did
// (reduced batches, window, reduceByKey), so its checkpoints are the previous binary's.
// sortTags: outputs show each key's tags sorted, for comparing with the previous layout,
// whose reduceByKey over the window merges the batches in no promised order.
std::unique_ptr<StreamingContext> build(const fs::path& in, const fs::path& ckpt, WindowLayout layout, bool withTotals,
                                        bool sortTags, std::shared_ptr<ManualClock> clock, Seen& seen) {
  const Duration batch = Milliseconds(kBatchMs);
  auto ctx = std::make_unique<StreamingContext>("local[2]", batch, ContextOptions{.clock = clock});
  ctx->checkpoint(ckpt.string());
  ctx->setStateCheckpointInterval(3 * batch);
  auto pairs = ctx->textFileStream(in.string())
                   .flatMap([](std::string_view l) { return splitWords(l); })
                   .map([](std::string_view w) {
                     auto colon = w.find(':');
                     return std::pair<std::string, Tags>(std::string(w.substr(0, colon)), Tags{std::string(w.substr(colon + 1)) + ";"});
                   });
  auto concat = [](Tags a, const Tags& b) {
    a.text += b.text;
    return a;
  };
  auto tagsText = [sortTags](std::string_view tags) {
    auto pieces = split(tags, ';');
    if (sortTags) std::sort(pieces.begin(), pieces.end());
    std::string text;
    for (auto piece : pieces) {
      if (!piece.empty()) text.append(piece).append(";");
    }
    return text;
  };
  auto format = [tagsText](const std::pair<std::string, Tags>& kv) { return kv.first + "=" + tagsText(kv.second.text); };
  for (Shape shape : {Shape{5, 2}, Shape{4, 1}, Shape{7, 3}}) {
    Duration w = shape.window * batch, s = shape.slide * batch;
    if (layout == WindowLayout::kCurrent) {
      record(pairs.reduceByKeyAndWindow(concat, w, s), shapeName(shape), seen, format);
    } else {
      std::size_t n = 0;
      auto reduced = detail::reducedBatches(pairs, "reduceByKeyAndWindow", concat, w, s, n);
      record(reduced.window(w, s).reduceByKey(concat, n), shapeName(shape), seen, format);
    }
  }
  record(pairs.map([](const std::pair<std::string, Tags>& kv) { return kv.second.text; })
             .reduceByWindow([](std::string a, const std::string& b) { return a + b; }, 6 * batch, 2 * batch),
         "reduceByWindow", seen, tagsText);
  if (withTotals) {
    record(pairs.map([](const std::pair<std::string, Tags>& kv) { return std::pair<std::string, long>(kv.first, 1L); })
               .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> total) {
                 return std::optional<long>(total.value_or(0) + static_cast<long>(ones.size()));
               }),
           "totals", seen, [](const std::pair<std::string, long>& kv) { return kv.first + "=" + std::to_string(kv.second); });
  }
  return ctx;
}

struct Dir {
  Dir() { fs::create_directories(in()); }
  fs::path in() const { return root / "in"; }
  fs::path ckpt() const { return root / "ckpt"; }
  TempDir root{"dstream-pane-window", fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp"};
};

// Every output of every life of `seen` equals the uninterrupted run's at the same time, and
// every output of the uninterrupted run from batch `from` on was produced.
void expectSameAsUninterrupted(Seen& seen, Seen& expected, int from) {
  int wrong = 0;
  for (const auto& [key, values] : seen.values) {
    auto it = expected.values.find(key);
    ASSERT_NE(it, expected.values.end()) << key.first << " at " << key.second << " is not in the uninterrupted run";
    for (const auto& v : values) {
      if (v != it->second.front() && ++wrong <= 10) {
        ADD_FAILURE() << key.first << " at batch " << (key.second - kBase) / kBatchMs << ": got \"" << v
                      << "\", uninterrupted: \"" << it->second.front() << "\"";
      }
    }
  }
  EXPECT_EQ(wrong, 0);
  for (const auto& [key, values] : expected.values) {
    if (key.second >= kBase + from * kBatchMs) {
      EXPECT_TRUE(seen.values.count(key)) << key.first << " at " << key.second;
    }
  }
}

// Runs batches 1..kBatches of the current layout without a stop.
void runUninterrupted(bool withTotals, bool sortTags, Seen& seen) {
  Dir dir;
  auto clock = std::make_shared<ManualClock>(batchTime(0));
  auto ctx = build(dir.in(), dir.ckpt(), WindowLayout::kCurrent, withTotals, sortTags, clock, seen);
  ctx->start();
  ASSERT_TRUE(runFileBatches(*ctx, *clock, dir.in(), batchTime(0), 1, kBatches, inputOf));
  ctx->stop();
}

TEST(PaneWindowRecoveryTest, RestartsInTheMiddleOfWindowsAreExact) {
  Seen expected;
  runUninterrupted(true, false, expected);
  for (const auto& [key, values] : expected.values) ASSERT_EQ(values.size(), 1u) << key.first;
  // The uninterrupted run is the definition: spot-check one window against the input.
  EXPECT_EQ(expected.values.at({"window 4 slide 1", kBase + 7 * kBatchMs}).front(),
            "apple=4;5; fig=4;5;7; kiwi=6;7; lime=5; ");
  Dir dir;
  Seen seen;
  int done = 0;
  for (int stop : {2, 3, 6, 7, 11, 12, 13, 17, 20, kBatches}) {  // lives end at every phase of the slides
    auto clock = std::make_shared<ManualClock>(batchTime(done));
    auto ctx = StreamingContext::getOrCreate(dir.ckpt().string(), [&] {
      return build(dir.in(), dir.ckpt(), WindowLayout::kCurrent, true, false, clock, seen);
    });
    ASSERT_EQ(ctx->isRecovering(), done > 0);
    ctx->start();
    ASSERT_TRUE(runFileBatches(*ctx, *clock, dir.in(), batchTime(0), done + 1, stop, inputOf));
    ctx->stop();
    done = stop;
  }
  expectSameAsUninterrupted(seen, expected, 1);
}

TEST(PaneWindowRecoveryTest, ACheckpointOfThePreviousLayoutRestoresWhenNoStateFollowsTheWindows) {
  Seen expected;
  runUninterrupted(false, true, expected);
  Dir dir;
  Seen seen;
  {
    auto clock = std::make_shared<ManualClock>(batchTime(0));
    auto ctx = build(dir.in(), dir.ckpt(), WindowLayout::kPrevious, false, true, clock, seen);
    ctx->start();
    ASSERT_TRUE(runFileBatches(*ctx, *clock, dir.in(), batchTime(0), 1, 9, inputOf));
    ctx->stop();
  }
  auto clock = std::make_shared<ManualClock>(batchTime(9));
  auto ctx = StreamingContext::getOrCreate(dir.ckpt().string(), [&] {
    return build(dir.in(), dir.ckpt(), WindowLayout::kCurrent, false, true, clock, seen);
  });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  ASSERT_TRUE(runFileBatches(*ctx, *clock, dir.in(), batchTime(0), 10, kBatches, inputOf));
  ctx->stop();
  expectSameAsUninterrupted(seen, expected, 1);
}

TEST(PaneWindowRecoveryTest, ACheckpointOfThePreviousLayoutWithStateAfterTheWindowsIsRefusedAsAnotherGraph) {
  Dir dir;
  Seen seen;
  {
    auto clock = std::make_shared<ManualClock>(batchTime(0));
    auto ctx = build(dir.in(), dir.ckpt(), WindowLayout::kPrevious, true, true, clock, seen);
    ctx->start();
    ASSERT_TRUE(runFileBatches(*ctx, *clock, dir.in(), batchTime(0), 1, 5, inputOf));
    ctx->stop();
  }
  auto clock = std::make_shared<ManualClock>(batchTime(5));
  auto ctx = StreamingContext::getOrCreate(dir.ckpt().string(), [&] {
    return build(dir.in(), dir.ckpt(), WindowLayout::kCurrent, true, false, clock, seen);
  });
  ASSERT_TRUE(ctx->isRecovering());
  // The windows have fewer nodes now, so the running totals defined after them moved.
  expectErrorContaining([&] { ctx->start(); }, ErrorCode::kFailedPrecondition,
                        "was written by a different graph: stream \"updateStateByKey #");
}

// Values that are views into buffers a batch owns (RDD owners, as sources' blocks are): the
// window's results keep those buffers alive. The results are kept after the context is gone,
// when nothing else holds the buffers (ASan reports a use after free if they were dropped).
TEST(PaneWindowViewsTest, ResultsKeepTheBuffersTheirValuesPointInto) {
  using Views = std::pair<std::string_view, std::string_view>;
  using Out = std::pair<std::string, std::string_view>;
  std::vector<std::vector<KS>> input(20);
  std::vector<RDD<Out>> kept;
  std::mutex mu;
  {
    auto clock = std::make_shared<ManualClock>();
    StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
    auto queue = std::make_shared<RDDQueue<Views>>();
    for (int b = 0; b < 20; ++b) {
      // One buffer per batch, the values pointing into it, owned by the batch's RDD only.
      auto buffer = std::make_shared<std::string>();
      std::vector<std::pair<std::size_t, std::size_t>> at;  // (key, value) offsets
      for (int r = 0; r < 3 && b % 5 != 2; ++r) {
        std::string key = std::string("k") + std::to_string((b + r) % 4);
        std::string value = std::string("value-longer-than-sso-") + std::to_string(b * 3 + r);
        input[b].emplace_back(key, value);
        at.emplace_back(buffer->size(), buffer->size() + key.size());
        *buffer += key + value;
      }
      std::vector<Views> views;
      for (std::size_t r = 0; r < at.size(); ++r) {
        std::string_view all(*buffer);
        views.emplace_back(all.substr(at[r].first, at[r].second - at[r].first),
                           all.substr(at[r].second, input[b][r].second.size()));
      }
      queue->push(detail::makeRDD<Views>(RDD<Views>::parallelize(std::move(views), 2).partitions(), {buffer}, nullptr));
    }
    ssc.queueStream(queue)
        .reduceByKeyAndWindow([](std::string_view a, std::string_view b) { return std::max(a, b); }, Seconds(3),
                              Seconds(1))
        .foreachRDD([&](const RDD<Out>& rdd) {
          std::lock_guard lock(mu);
          kept.push_back(rdd);
        });
    ssc.start();
    ASSERT_TRUE(runBatches(ssc, *clock, 20));
    ssc.stop();
  }
  std::vector<std::vector<KS>> got;
  for (const auto& rdd : kept) {
    got.emplace_back();
    for (const auto& [k, v] : rdd.collect()) got.back().emplace_back(k, std::string(v));
  }
  EXPECT_EQ(sorted(got), bruteForce(input, Shape{3, 1}, [](std::string a, const std::string& b) { return std::max(a, b); }));
}

}  // namespace
}  // namespace dstream
