// countByWindow and reduceByWindow, with and without an inverse function (Spark's
// WindowOperationsSuite): batches in, windows out, under a manual clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)
using Longs = std::vector<std::vector<long>>;
using Ints = std::vector<std::vector<int>>;

DSTREAM_LAYOUT_SUITE(CountAndReduceWindowTest);

// The lab's Submission 4a: countByWindow(30s, 10s) over 10 s batches is the sum of the
// three latest batch counts.
TEST_P(CountAndReduceWindowTest, CountByWindowSumsTheLastThreeBatches) {
  auto out = runStream<std::string>({{"a", "b"}, {"c"}, {}, {"d", "e", "f"}},
                                    [](auto s) { return s.countByWindow(Seconds(30), Seconds(10)); },
                                    opts(Seconds(10)));
  EXPECT_EQ(out, (Longs{{2}, {3}, {3}, {4}}));
}

TEST_P(CountAndReduceWindowTest, CountByWindowMatchesTheSumOfBatchCountsOverALongRun) {
  std::vector<std::vector<int>> input;
  for (int b = 0; b < 12; ++b) input.push_back(std::vector<int>(static_cast<std::size_t>((b * 7) % 5), b));
  auto out = runStream<int>(input, [](auto s) { return s.countByWindow(Seconds(30), Seconds(10)); }, opts(Seconds(10)));
  ASSERT_EQ(out.size(), input.size());
  bool seen = false;  // the first batch is empty: no output until data arrives
  for (std::size_t i = 0; i < input.size(); ++i) {
    long expected = 0;
    for (std::size_t j = i >= 2 ? i - 2 : 0; j <= i; ++j) expected += static_cast<long>(input[j].size());
    seen = seen || !input[i].empty();
    EXPECT_EQ(out[i], seen ? std::vector<long>{expected} : std::vector<long>{}) << "batch " << i;
  }
}

// Spark's suite: Seq(1), Seq(1), Seq(1, 2), Seq(0), Seq(), Seq() with a 2 s window.
TEST_P(CountAndReduceWindowTest, CountByWindowFollowsSparkSuite) {
  auto out = runStream<int>({{1}, {1}, {1, 2}, {0}, {}, {}},
                            [](auto s) { return s.countByWindow(Seconds(2), Seconds(1)); }, opts());
  EXPECT_EQ(out, (Longs{{1}, {2}, {3}, {3}, {1}, {0}}));
}

// Spark builds countByWindow on an inverse reduce over one key: nothing before any data,
// 0 once the data has left.
TEST_P(CountAndReduceWindowTest, CountByWindowIsEmptyBeforeDataAndZeroAfterIt) {
  auto out = runStream<int>({{}, {}, {7}}, [](auto s) { return s.countByWindow(Seconds(2), Seconds(1)); },
                            opts(Seconds(1), 6));
  EXPECT_EQ(out, (Longs{{}, {}, {1}, {1}, {0}, {0}}));
}

TEST_P(CountAndReduceWindowTest, CountByWindowWithWindowEqualToSlide) {
  auto out = runStream<int>({{1}, {2, 3}, {4}, {}, {}, {5, 6, 7}},
                            [](auto s) { return s.countByWindow(Seconds(2), Seconds(2)); }, opts());
  EXPECT_EQ(out, (Longs{{3}, {1}, {3}}));
}

TEST_P(CountAndReduceWindowTest, CountByWindowSeveralTimesTheSlide) {
  // Window 4 batches sliding by 2: (t-4, t] at t = 2, 4, 6.
  auto out = runStream<int>({{1}, {2, 3}, {4}, {}, {5}, {6, 7}},
                            [](auto s) { return s.countByWindow(Seconds(4), Seconds(2)); }, opts());
  EXPECT_EQ(out, (Longs{{3}, {4}, {4}}));
}

TEST_P(CountAndReduceWindowTest, ReduceByWindowHoldsPartialWindowsThenSlides) {
  auto sum = [](int a, int b) { return a + b; };
  auto out = runStream<int>({{1}, {2}, {}, {4}, {5}},
                            [&](auto s) { return s.reduceByWindow(sum, Seconds(3), Seconds(1)); }, opts());
  EXPECT_EQ(out, (Ints{{1}, {3}, {3}, {6}, {9}}));
}

TEST_P(CountAndReduceWindowTest, ReduceByWindowWithoutInverseEmitsNothingForAnEmptyWindow) {
  auto sum = [](int a, int b) { return a + b; };
  auto out = runStream<int>({{}, {1}, {}, {}, {}},
                            [&](auto s) { return s.reduceByWindow(sum, Seconds(2), Seconds(1)); }, opts());
  EXPECT_EQ(out, (Ints{{}, {1}, {1}, {}, {}}));
}

TEST_P(CountAndReduceWindowTest, ReduceByWindowWithInverseMatchesWithoutWhileDataIsInTheWindow) {
  auto sum = [](int a, int b) { return a + b; };
  auto diff = [](int a, int b) { return a - b; };
  auto out = runStream<int>({{1}, {2}, {}, {4}, {5, 6}},
                            [&](auto s) { return s.reduceByWindow(sum, diff, Seconds(3), Seconds(1)); }, opts());
  EXPECT_EQ(out, (Ints{{1}, {3}, {3}, {6}, {15}}));
  auto sliding = runStream<int>({{1}, {2}, {3}, {4}, {5}, {6}},
                                [&](auto s) { return s.reduceByWindow(sum, diff, Seconds(4), Seconds(2)); }, opts());
  EXPECT_EQ(sliding, (Ints{{3}, {10}, {18}}));
}

TEST_P(CountAndReduceWindowTest, ReduceByWindowWithInverseKeepsTheEmptyValueAfterDataLeaves) {
  auto sum = [](int a, int b) { return a + b; };
  auto diff = [](int a, int b) { return a - b; };
  auto out = runStream<int>({{}, {1}, {}, {}, {}},
                            [&](auto s) { return s.reduceByWindow(sum, diff, Seconds(2), Seconds(1)); }, opts());
  EXPECT_EQ(out, (Ints{{}, {1}, {1}, {0}, {0}}));
}

TEST_P(CountAndReduceWindowTest, CountByWindowOfAFusedPipeline) {
  auto out = runStream<std::string>({{"a b", "c"}, {"d"}, {""}}, [](auto s) {
    return s.flatMap([](const std::string& l) { return splitWords(l); }).countByWindow(Seconds(2), Seconds(1));
  }, opts());
  EXPECT_EQ(out, (Longs{{3}, {4}, {1}}));
}

}  // namespace
}  // namespace dstream

namespace dstream {
namespace {

// Regression (found by the benchmarks): windows sliding slower than the batch, built on
// per-batch reduced batches, read batches that no output had asked for, after their input
// was forgotten. 30 one-element 1 s batches, a 10 s window sliding every 10 s.
DSTREAM_LAYOUT_SUITE(SlowSlideWindowTest);

std::vector<std::vector<std::string>> oneWordPerBatch(int n) {
  std::vector<std::vector<std::string>> in;
  for (int b = 0; b < n; ++b) in.push_back({std::string("w") + std::to_string(b % 2)});
  return in;
}

TEST_P(SlowSlideWindowTest, CountByWindowCountsEveryBatchOfTheWindow) {
  auto out = testing::runStream<std::string>(oneWordPerBatch(30),
                                             [](auto s) { return s.countByWindow(Seconds(30), Seconds(10)); }, opts(Seconds(1)));
  EXPECT_EQ(out, (std::vector<std::vector<long>>{{10}, {20}, {30}}));
}

TEST_P(SlowSlideWindowTest, KeyedWindowsWithAndWithoutInverseCountEveryBatch) {
  auto pairs = [](auto s) { return s.map([](const std::string& w) { return std::pair<std::string, long>(w, 1L); }); };
  auto add = [](long a, long b) { return a + b; };
  auto sub = [](long a, long b) { return a - b; };
    const WordCounts expected{{{"w0", 5}, {"w1", 5}}, {{"w0", 5}, {"w1", 5}}, {{"w0", 5}, {"w1", 5}}};
  auto tumbling = testing::runStream<std::string>(oneWordPerBatch(30), [&](auto s) {
    return pairs(s).reduceByKeyAndWindow(add, Seconds(10), Seconds(10));
  }, opts(Seconds(1)));
  EXPECT_EQ(testing::sortedWithinBatches(tumbling), expected);
  auto inverse = testing::runStream<std::string>(oneWordPerBatch(30), [&](auto s) {
    return pairs(s).reduceByKeyAndWindow(add, sub, Seconds(10), Seconds(10));
  }, opts(Seconds(1)));
  EXPECT_EQ(testing::sortedWithinBatches(inverse), expected);
  auto byValue = testing::runStream<std::string>(oneWordPerBatch(30), [](auto s) {
    return s.countByValueAndWindow(Seconds(20), Seconds(10));
  }, opts(Seconds(1)));
  EXPECT_EQ(testing::sortedWithinBatches(byValue),
            (WordCounts{{{"w0", 5}, {"w1", 5}}, {{"w0", 10}, {"w1", 10}}, {{"w0", 10}, {"w1", 10}}}));
}

}  // namespace
}  // namespace dstream
