// Windows with an inverse function whose slide is >= the window keep Spark's results
// (ReducedWindowedDStream.compute): every window goes from the previous one, so a key that
// left the window stays with its inverse-reduced value (0 with +/-) unless filterFunc drops
// it, and countByWindow(W, W) over an empty window is 0, as count() of an empty batch.
// With S > W Spark's "old" and "new" ranges both hold the batches between two windows:
// keys of the previous window come out right, a key new in a window also counts those
// batches.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)
using Longs = std::vector<std::vector<long>>;

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

auto wordPairs(auto s) {
  return s.map([](const std::string& w) { return std::pair<std::string, long>(w, 1L); });
}

DSTREAM_LAYOUT_SUITE(InverseWindowSlideTest);

TEST_P(InverseWindowSlideTest, TumblingWindowKeepsAKeyThatLeftWithItsInverseReducedValue) {
  auto out = runStream<std::string>({{"a"}, {"a", "b"}, {"b"}, {}, {}, {}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(2));
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 0}, {"b", 1}}, {{"a", 0}, {"b", 0}}}));
}

TEST_P(InverseWindowSlideTest, TumblingWindowWithFilterFuncDropsTheKeysItRejects) {
  auto out = runStream<std::string>({{"a"}, {"a", "b"}, {"b"}, {}, {}, {}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(2), 0,
                                              [](const std::pair<std::string, long>& kv) { return kv.second != 0; });
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"b", 1}}, {}}));
}

TEST_P(InverseWindowSlideTest, CountByWindowOfOneBatchOverAnEmptyBatchIsZero) {
  auto out = runStream<int>({{1}, {}, {2, 3}, {}}, [](auto s) { return s.countByWindow(Seconds(1), Seconds(1)); },
                            opts());
  EXPECT_EQ(out, (Longs{{1}, {0}, {2}, {0}}));
  auto counts = runStream<int>({{1}, {}, {2, 3}, {}}, [](auto s) { return s.count(); }, opts());
  EXPECT_EQ(counts, (Longs{{1}, {0}, {2}, {0}}));  // the same as count()
}

TEST_P(InverseWindowSlideTest, ReduceByWindowWithInverseOverAnEmptyTumblingWindowKeepsTheEmptyValue) {
  auto sum = [](int a, int b) { return a + b; };
  auto diff = [](int a, int b) { return a - b; };
  auto out = runStream<int>({{1}, {2}, {}, {}, {5}, {}},
                            [&](auto s) { return s.reduceByWindow(sum, diff, Seconds(2), Seconds(2)); }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<int>>{{3}, {0}, {5}}));
}

// Window 1 batch, slide 2, batches {a} {b} {c} {a}. At t=2 Spark's new range is batches 1-2
// (its previous window, at t=0, is empty): a 1, b 1. At t=4 its old range is batches 2-3 and
// its new range 3-4: b (in the previous window) 1 - 1 = 0; a 1 + 1 = 2; c, new, 1.
TEST_P(InverseWindowSlideTest, SlideLongerThanTheWindowGivesSparksResults) {
  auto out = runStream<std::string>({{"a"}, {"b"}, {"c"}, {"a"}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(1), Seconds(2));
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 1}, {"b", 1}}, {{"a", 2}, {"b", 0}, {"c", 1}}}));
}

}  // namespace
}  // namespace dstream
