// reduceByKeyAndWindow (with and without an inverse), groupByKeyAndWindow and
// countByValueAndWindow: partial windows, slides, keys appearing and vanishing, filterFunc,
// and the incremental and full computations agreeing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest (tests/testing/layouts.h)

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };
const auto kNonZero = [](const std::pair<std::string, long>& kv) { return kv.second != 0; };

DSTREAM_LAYOUT_SUITE(KeyedWindowTest);

// Words as string_view into the input lines, paired with 1: the keys must outlive the lines.
auto wordPairs(auto s) {
  return s.flatMap([](const std::string& l) { return split(l, ' '); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); });
}

const std::vector<std::vector<std::string>> kWords = {{"a b a"}, {"b"}, {}, {"c"}, {}};

TEST_P(KeyedWindowTest, ReduceByKeyAndWindowWithoutInverse) {
  auto out = runStream<std::string>(kWords, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(2), Seconds(1));
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 2}}, {{"b", 1}}, {{"c", 1}}, {{"c", 1}}}));
}

TEST_P(KeyedWindowTest, ReduceByKeyAndWindowDefaultsTheSlideToTheBatch) {
  auto out = runStream<std::string>(kWords, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(2));
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 2}}, {{"b", 1}}, {{"c", 1}}, {{"c", 1}}}));
}

TEST_P(KeyedWindowTest, InverseWithFilterDropsKeysThatLeftTheWindow) {
  auto out = runStream<std::string>(kWords, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(1), 0, kNonZero);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 2}}, {{"b", 1}}, {{"c", 1}}, {{"c", 1}}}));
}

TEST_P(KeyedWindowTest, InverseWithoutFilterKeepsZeroCounts) {
  auto out = runStream<std::string>(kWords, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(1));
  }, opts(Seconds(1), 6));
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}},
                                 {{"a", 2}, {"b", 2}},
                                 {{"a", 0}, {"b", 1}},
                                 {{"a", 0}, {"b", 0}, {"c", 1}},
                                 {{"a", 0}, {"b", 0}, {"c", 1}},
                                 {{"a", 0}, {"b", 0}, {"c", 0}}}));
}

TEST_P(KeyedWindowTest, InverseWithWindowEqualToSlideRebuildsEachWindow) {
  auto out = runStream<std::string>({{"a"}, {"a b"}, {"b"}, {}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(2), 2, kNonZero);
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"b", 1}}}));
}

// A deterministic word stream (splitmix64), with empty batches and keys that come and go.
std::vector<std::vector<std::string>> generatedLines(int batches) {
  std::uint64_t x = 42;
  std::vector<std::vector<std::string>> input;
  for (int b = 0; b < batches; ++b) {
    std::vector<std::string> lines;
    if (b % 5 != 3) {  // every fifth batch is empty
      for (int l = 0; l < 6; ++l) {
        std::string line;
        for (int w = 0; w < 4; ++w) {
          std::uint64_t r = mix64(x++);
          line += std::string("w") + std::to_string(r % (b < 6 ? 5 : 12)) + " ";
        }
        lines.push_back(line);
      }
    }
    input.push_back(lines);
  }
  return input;
}

WordCounts withoutZeros(WordCounts batches) {
  for (auto& b : batches) b.erase(std::remove_if(b.begin(), b.end(), [](const auto& kv) { return kv.second == 0; }), b.end());
  return batches;
}

TEST_P(KeyedWindowTest, InverseAndFullComputationsAgree) {
  auto input = generatedLines(16);
  for (auto [w, sl] : std::vector<std::pair<int, int>>{{1, 1}, {3, 1}, {2, 2}, {4, 2}, {6, 3}, {6, 2}}) {
    SCOPED_TRACE("window " + std::to_string(w) + " slide " + std::to_string(sl));
    auto full = runStream<std::string>(input, [&](auto s) {
      return wordPairs(s).reduceByKeyAndWindow(kAdd, Seconds(w), Seconds(sl), 3);
    }, opts());
    auto filtered = runStream<std::string>(input, [&](auto s) {
      return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(w), Seconds(sl), 3, kNonZero);
    }, opts());
    auto unfiltered = runStream<std::string>(input, [&](auto s) {
      return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(w), Seconds(sl));
    }, opts());
    EXPECT_EQ(sorted(filtered), sorted(full));
    EXPECT_EQ(withoutZeros(sorted(unfiltered)), sorted(full));
  }
}

TEST(KeyedWindowLayoutTest, ResultsDoNotDependOnParallelismOrPartitions) {
  auto input = generatedLines(12);
  // The expected windows, counted directly: the words of the last three batches.
  WordCounts expected;
  for (std::size_t b = 0; b < input.size(); ++b) {
    std::map<std::string, long> window;
    for (std::size_t i = b >= 2 ? b - 2 : 0; i <= b; ++i) {
      for (const auto& line : input[i]) {
        for (auto w : split(line, ' ')) ++window[std::string(w)];
      }
    }
    expected.emplace_back(window.begin(), window.end());
  }
  for (const char* master : {"local", "local[2]", "local[4]"}) {
    for (std::size_t parts : {1u, 3u}) {
      auto out = runStream<std::string>(input, [](auto s) {
        return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 0, kNonZero);
      }, {.master = master, .partitionsPerBatch = parts});
      EXPECT_EQ(sorted(out), expected) << master << " with " << parts << " partitions";
    }
  }
}

TEST_P(KeyedWindowTest, FilterFuncCanDropKeysByValue) {
  auto out = runStream<std::string>({{"a a b"}, {"a"}, {}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(2), Seconds(1), 0,
                                             [](const auto& kv) { return kv.second >= 2; });
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}}, {{"a", 3}}, {}}));
}

TEST_P(KeyedWindowTest, GroupByKeyAndWindowCollectsTheWindowsValues) {
  using KV = std::pair<std::string, int>;
  using Groups = std::vector<std::vector<std::pair<std::string, std::vector<int>>>>;
  auto out = runStream<KV>({{{"a", 1}, {"b", 2}}, {{"a", 3}}, {}, {{"b", 4}}}, [](auto s) {
    return s.groupByKeyAndWindow(Seconds(2)).mapValues([](std::vector<int> v) {
      std::sort(v.begin(), v.end());
      return v;
    });
  }, opts());
  EXPECT_EQ(sorted(out), (Groups{{{"a", {1}}, {"b", {2}}}, {{"a", {1, 3}}, {"b", {2}}}, {{"a", {3}}}, {{"b", {4}}}}));
}

TEST_P(KeyedWindowTest, GroupByKeyAndWindowWithSlide) {
  using KV = std::pair<int, int>;
  using Groups = std::vector<std::vector<std::pair<int, std::vector<int>>>>;
  auto out = runStream<KV>({{{1, 1}}, {{1, 2}}, {{2, 3}}, {}}, [](auto s) {
    return s.groupByKeyAndWindow(Seconds(4), Seconds(2), 3).mapValues([](std::vector<int> v) {
      std::sort(v.begin(), v.end());
      return v;
    });
  }, opts());
  EXPECT_EQ(sorted(out), (Groups{{{1, {1, 2}}}, {{1, {1, 2}}, {2, {3}}}}));
}

TEST_P(KeyedWindowTest, CountByValueAndWindowDropsValuesThatLeft) {
  auto out = runStream<std::string>({{"a", "b", "a"}, {"b"}, {}, {"c"}},
                                    [](auto s) { return s.countByValueAndWindow(Seconds(2), Seconds(1)); }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {{"a", 2}, {"b", 2}}, {{"b", 1}}, {{"c", 1}}}));
}

TEST_P(KeyedWindowTest, KeyedWindowsAcceptAFusedPipelineAndAUid) {
  auto out = runStream<std::string>({{"x y"}, {"y"}}, [](auto s) {
    return wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 2, kNonZero).uid("word-window");
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"x", 1}, {"y", 1}}, {{"x", 1}, {"y", 2}}}));
}

}  // namespace
}  // namespace dstream
