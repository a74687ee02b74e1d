// Windows keep only the batches they still need, and keyed windows copy string_view keys
// so that freed input batches never leave them dangling (run under ASan).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

// numRemembered() of each node of `watch` after each of `batches` batches: [node][batch].
// Old batches are cleared before a batch counts as completed, so the counts are exact.
template <class Build>
std::vector<std::vector<std::size_t>> rememberedPerBatch(int batches, Build build) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string>>();
  for (int b = 0; b < batches; ++b) queue->push({"a b c", "b c " + std::to_string(b)});
  auto source = ssc.queueStream(queue);
  std::vector<std::function<std::size_t()>> watch = build(source);
  std::vector<std::vector<std::size_t>> counts(watch.size());
  ssc.start();
  for (int b = 0; b < batches; ++b) {
    auto done = testing::runBatchAt(ssc, *clock, dstream::testing::firstBatchTime(ssc) + Seconds(b));
    if (!done) {
      ADD_FAILURE() << done.message();
      break;
    }
    for (std::size_t i = 0; i < watch.size(); ++i) counts[i].push_back(watch[i]());
  }
  ssc.stop();
  ssc.awaitTermination();
  return counts;
}

// Every count from batch `from` on (the window has filled) is within [low, high]: above, the
// window leaks batches; below, it dropped batches it still needs (or counts nothing at all).
void expectBetween(const std::vector<std::size_t>& counts, std::size_t from, std::size_t low, std::size_t high,
                   const char* what) {
  ASSERT_GT(counts.size(), from) << what;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    EXPECT_LE(counts[b], high) << what << " after batch " << b;
    if (b >= from) {
      EXPECT_GE(counts[b], low) << what << " after batch " << b;
    }
  }
}

template <class T>
std::function<std::size_t()> remembered(detail::Node* node) {
  auto* typed = dynamic_cast<detail::TypedNode<T>*>(node);
  EXPECT_NE(typed, nullptr);
  return [typed] { return typed ? typed->numRemembered() : 0; };
}

auto wordPairs(DStream<std::string> s) {
  return s.flatMap([](const std::string& l) { return split(l, ' '); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); });
}

// A window of w seconds sliding by s keeps the reduced batches of (t - w - s, t]: at most
// (w + s) / batch, and at least the w / batch batches its next slide still subtracts or sums.
TEST(WindowMemoryTest, InverseWindowKeepsOnlyTheReducedBatchesOfTheWindow) {
  using KV = std::pair<std::string, long>;
  auto counts = rememberedPerBatch(40, [](DStream<std::string> s) {
    auto counts = wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 2);
    counts.foreachRDD([](const RDD<KV>&) {});
    detail::Node* detached = counts.node()->parents()[0];
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get()),
                                                     remembered<KV>(detached), remembered<KV>(counts.node().get())};
  });
  expectBetween(counts[0], 0, 0, 1, "raw input");  // only the current batch
  expectBetween(counts[1], 3, 3, 4, "reduced batches");  // the window (3) plus the one leaving
  // The window's result: the previous one, which the next slide updates.
  expectBetween(counts[2], 0, 1, 1, "window results");
}

TEST(WindowMemoryTest, FullWindowKeepsOnlyTheReducedBatchesOfTheWindow) {
  using KV = std::pair<std::string, long>;
  auto counts = rememberedPerBatch(40, [](DStream<std::string> s) {
    auto counts = wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(5), Seconds(1));
    counts.foreachRDD([](const RDD<KV>&) {});
    detail::Node* detached = counts.node()->parents()[0];
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get()),
                                                     remembered<KV>(detached)};
  });
  expectBetween(counts[0], 0, 0, 1, "raw input");
  expectBetween(counts[1], 5, 5, 6, "reduced batches");
}

// A window sliding slower than the batch (the lab's countByWindow(30, 10) on 1 s batches)
// keeps every batch of the window between slides, and no more once it is full.
TEST(WindowMemoryTest, CountByWindowKeepsBoundedBatches) {
  using KV = std::pair<int, long>;
  auto counts = rememberedPerBatch(100, [](DStream<std::string> s) {
    DStream<long> counts = s.countByWindow(Seconds(30), Seconds(10)).toDStream();
    counts.foreachRDD([](const RDD<long>&) {});
    detail::Node* window = counts.node()->parents()[0];
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get()),
                                                     remembered<KV>(window->parents()[0]), remembered<KV>(window)};
  });
  expectBetween(counts[0], 0, 0, 1, "raw input");
  expectBetween(counts[1], 30, 30, 40, "reduced batches");
  expectBetween(counts[2], 9, 1, 1, "window results");  // from the first slide, at 10 s
}

// The views point into the input lines; by the last batches those lines are freed, while
// the window's state still holds the words (as std::string).
TEST(WindowMemoryTest, StringViewKeysSurviveTheirBatches) {
  std::vector<std::vector<std::string>> input;
  for (int b = 0; b < 10; ++b) input.push_back({b < 2 ? std::string("longer-than-sso-word-") + "x early" : "late"});
  auto inverse = testing::runStream<std::string>(input, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(5), Seconds(1));
  });
  EXPECT_EQ(sorted(inverse).back(),
            (std::vector<std::pair<std::string, long>>{{"early", 0}, {"late", 5}, {"longer-than-sso-word-x", 0}}));
  auto full = testing::runStream<std::string>(input, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(20), Seconds(1));
  });
  EXPECT_EQ(sorted(full).back(), (std::vector<std::pair<std::string, long>>{{"early", 2}, {"late", 8}, {"longer-than-sso-word-x", 2}}));
}

}  // namespace
}  // namespace dstream
