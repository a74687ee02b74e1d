// Windows keep only the batches they still need, and keyed windows copy string_view keys
// so that freed input batches never leave them dangling (run under ASan).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "windows/window_test_util.h"

namespace dstream {
namespace {

using windowtest::sorted;
using Counts = std::vector<std::vector<std::pair<std::string, long>>>;

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

// The largest numRemembered() seen on each node of `watch` after each of `batches` batches.
template <class Build>
std::vector<std::size_t> peakRemembered(int batches, Build build) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string>>();
  for (int b = 0; b < batches; ++b) queue->push({"a b c", "b c " + std::to_string(b)});
  auto source = ssc.queueStream(queue);
  std::vector<std::function<std::size_t()>> watch = build(source);
  std::vector<std::size_t> peak(watch.size(), 0);
  ssc.start();
  Time first = ssc.core()->firstBatchTime();
  for (int b = 0; b < batches; ++b) {
    Time t = first + Seconds(b);
    clock->setTime(t);
    EXPECT_TRUE(ssc.core()->awaitBatchCompleted(t, Seconds(60)));
    for (std::size_t i = 0; i < watch.size(); ++i) peak[i] = std::max(peak[i], watch[i]());
  }
  ssc.stop();
  ssc.awaitTermination();
  return peak;
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

TEST(WindowMemoryTest, InverseWindowKeepsOnlyTheReducedBatchesOfTheWindow) {
  using KV = std::pair<std::string, long>;
  auto peak = peakRemembered(40, [](DStream<std::string> s) {
    auto counts = wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 2);
    counts.foreachRDD([](const RDD<KV>&) {});
    detail::Node* detached = counts.node()->parents()[0];
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get()),
                                                     remembered<KV>(detached), remembered<KV>(counts.node().get())};
  });
  EXPECT_LE(peak[0], 1u);  // the raw input: only the current batch
  EXPECT_LE(peak[1], 4u);  // reduced batches: the window (3) plus the one leaving
  EXPECT_LE(peak[2], 1u);  // the window's result: only the current one
}

TEST(WindowMemoryTest, FullWindowKeepsOnlyTheReducedBatchesOfTheWindow) {
  using KV = std::pair<std::string, long>;
  auto peak = peakRemembered(40, [](DStream<std::string> s) {
    auto counts = wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(5), Seconds(1));
    counts.foreachRDD([](const RDD<KV>&) {});
    detail::Node* window = counts.node()->parents()[0];
    detail::Node* detached = window->parents()[0];
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get()),
                                                     remembered<KV>(detached)};
  });
  EXPECT_LE(peak[0], 1u);
  EXPECT_LE(peak[1], 6u);
}

TEST(WindowMemoryTest, CountByWindowKeepsBoundedBatches) {
  auto peak = peakRemembered(40, [](DStream<std::string> s) {
    auto counts = s.countByWindow(Seconds(30), Seconds(10));
    counts.foreachRDD([](const RDD<long>&) {});
    return std::vector<std::function<std::size_t()>>{remembered<std::string>(s.node().get())};
  });
  EXPECT_LE(peak[0], 1u);
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
