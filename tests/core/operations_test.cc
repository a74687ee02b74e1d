// Stateless operations, batches in and batches out (Spark's BasicOperationsSuite).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>
#include <span>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/errors.h"
#include "testing/layouts.h"

namespace dstream {
namespace {

using namespace testing;  // runStream, sorted, WordCounts, LayoutTest, expectInvalid (tests/testing/)
using Batches = std::vector<std::vector<std::string>>;

// Every operation must give the same result whatever the parallelism and partitioning.
DSTREAM_LAYOUT_SUITE(OperationsTest);

TEST_P(OperationsTest, MapUpperCasesEveryElement) {
  auto out = runStream<std::string>({{"hej", "kalle"}, {}, {"Hello"}},
                                    [](auto s) { return s.map([](const std::string& w) { return toUpper(w); }); }, opts());
  EXPECT_EQ(out, (Batches{{"HEJ", "KALLE"}, {}, {"HELLO"}}));
}

TEST_P(OperationsTest, FlatMapAcceptsRangesAndOptionals) {
  auto words = runStream<std::string>({{"a b", "c"}, {}},
                                      [](auto s) { return s.flatMap([](const std::string& l) { return splitWords(l); }); }, opts());
  EXPECT_EQ(words, (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {}}));
  auto evens = runStream<int>({{1, 2, 3, 4}}, [](auto s) {
    return s.flatMap([](int x) { return x % 2 == 0 ? std::optional<int>(x * 10) : std::nullopt; });
  }, opts());
  EXPECT_EQ(evens, (std::vector<std::vector<int>>{{20, 40}}));
}

TEST_P(OperationsTest, FilterKeepsLongWords) {  // the lab's Submission 1
  auto out = runStream<std::string>(
      {{"hej", "kalle", "coloraDO", "DOrado", "eldorade"}},
      [](auto s) { return s.filter([](const std::string& w) { return w.size() > 5; }); }, opts());
  EXPECT_EQ(out, (Batches{{"coloraDO", "DOrado", "eldorade"}}));
}

TEST_P(OperationsTest, ChainedNarrowOperationsFuse) {
  auto out = runStream<int>({{1, 2, 3, 4, 5, 6}}, [](auto s) {
    return s.map([](int x) { return x * 3; }).filter([](int x) { return x % 2 == 0; }).map([](int x) { return x + 1; });
  }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<int>>{{7, 13, 19}}));
}

TEST_P(OperationsTest, CountGivesZeroForEmptyBatches) {
  auto out = runStream<int>({{1, 2, 3}, {}, {4}}, [](auto s) { return s.count(); }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<long>>{{3}, {0}, {1}}));
}

TEST_P(OperationsTest, CountOfAFilteredStream) {
  auto out = runStream<int>({{1, 2, 3, 4}, {}}, [](auto s) { return s.filter([](int x) { return x > 1; }).count(); }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<long>>{{3}, {0}}));
}

TEST_P(OperationsTest, ReduceLeavesEmptyBatchesEmpty) {
  auto out = runStream<int>({{1, 2, 3}, {}, {10}}, [](auto s) { return s.reduce([](int a, int b) { return a + b; }); }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<int>>{{6}, {}, {10}}));
}

TEST_P(OperationsTest, CountByValue) {
  auto out = runStream<std::string>({{"a", "b", "a"}, {}}, [](auto s) { return s.countByValue(); }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 2}, {"b", 1}}, {}}));
}

TEST_P(OperationsTest, WordCountReducesByKey) {
  auto out = runStream<std::string>({{"a b a", "c a"}, {"b"}, {}}, [](auto s) {
    return s.flatMap([](const std::string& l) { return split(l, ' '); })
        .map([](std::string_view w) { return std::pair<std::string, long>(std::string(w), 1L); })
        .reduceByKey([](long a, long b) { return a + b; });
  }, opts());
  EXPECT_EQ(sorted(out), (WordCounts{{{"a", 3}, {"b", 1}, {"c", 1}}, {{"b", 1}}, {}}));
}

TEST_P(OperationsTest, GroupByKeyCollectsAllValues) {
  using KV = std::pair<std::string, int>;
  auto out = runStream<KV>({{{"a", 1}, {"b", 2}, {"a", 3}}}, [](auto s) {
    return s.groupByKey().mapValues([](std::vector<int> v) { std::sort(v.begin(), v.end()); return v; });
  }, opts());
  ASSERT_EQ(out.size(), 1u);
  auto b = out[0];
  std::sort(b.begin(), b.end());
  EXPECT_EQ(b, (std::vector<std::pair<std::string, std::vector<int>>>{{"a", {1, 3}}, {"b", {2}}}));
}

TEST_P(OperationsTest, CombineByKeyComputesAverages) {
  using KV = std::pair<std::string, double>;
  auto out = runStream<KV>({{{"a", 1}, {"a", 3}, {"b", 5}}}, [](auto s) {
    return s.combineByKey([](double v) { return std::pair<double, int>(v, 1); },
                          [](std::pair<double, int> c, double v) { return std::pair<double, int>(c.first + v, c.second + 1); },
                          [](std::pair<double, int> a, std::pair<double, int> b) {
                            return std::pair<double, int>(a.first + b.first, a.second + b.second);
                          })
        .mapValues([](const std::pair<double, int>& c) { return c.first / c.second; });
  }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<KV>>{{{"a", 2.0}, {"b", 5.0}}}));
}

TEST_P(OperationsTest, MapValuesAndFlatMapValuesKeepKeys) {
  using KV = std::pair<std::string, int>;
  auto out = runStream<KV>({{{"a", 1}, {"b", 2}}}, [](auto s) {
    return s.mapValues([](int v) { return v * 10; }).flatMapValues([](int v) { return std::vector<int>{v, v + 1}; });
  }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<KV>>{{{"a", 10}, {"a", 11}, {"b", 20}, {"b", 21}}}));
}

TEST_P(OperationsTest, RepartitionKeepsElementsAndSetsPartitions) {
  auto out = runStream<int>({{1, 2, 3, 4, 5}, {}}, [](auto s) { return s.repartition(3).glom(); }, opts());
  ASSERT_EQ(out.size(), 2u);
  std::vector<std::size_t> sizes;
  std::vector<int> elements;
  for (const auto& p : out[0]) {
    sizes.push_back(p.size());
    elements.insert(elements.end(), p.begin(), p.end());
  }
  std::sort(elements.begin(), elements.end());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2, 2}));
  EXPECT_EQ(elements, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(out[1], (std::vector<std::vector<int>>{{}, {}, {}}));
}

TEST_P(OperationsTest, GlomGivesOneArrayPerPartition) {
  auto out = runStream<int>({{1, 2, 3, 4}}, [](auto s) { return s.glom(); }, opts());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), GetParam().partitions);
  std::vector<int> flat;
  for (auto& p : out[0]) flat.insert(flat.end(), p.begin(), p.end());
  EXPECT_EQ(flat, (std::vector<int>{1, 2, 3, 4}));
}

TEST_P(OperationsTest, MapPartitionsRunsOncePerPartition) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto out = runStream<int>({{1, 2, 3, 4}, {5}}, [&](auto s) {
    return s.mapPartitions([calls](std::span<const int> p) {
      calls->fetch_add(1);
      return std::vector<long>{static_cast<long>(p.size()), std::accumulate(p.begin(), p.end(), 0L) * 100};
    });
  }, opts());
  // One call per partition of each of the two batches; sizes and sums cover every element.
  EXPECT_EQ(calls->load(), static_cast<int>(2 * GetParam().partitions));
  ASSERT_EQ(out.size(), 2u);
  for (std::size_t b = 0; b < 2; ++b) {
    ASSERT_EQ(out[b].size(), 2 * GetParam().partitions);
    long size = 0, sum = 0;
    for (std::size_t i = 0; i < out[b].size(); i += 2) size += out[b][i], sum += out[b][i + 1];
    EXPECT_EQ(size, b == 0 ? 4 : 1);
    EXPECT_EQ(sum, b == 0 ? 1000 : 500);
  }
}

TEST_P(OperationsTest, UnionOfTwoStreams) {
  auto out = runStream<int>({{1, 2}, {}, {3}}, [](auto s) {
    return s.union_(s.map([](int x) { return x * 100; }));
  }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<int>>{{1, 2, 100, 200}, {}, {3, 300}}));
}

TEST_P(OperationsTest, TransformSeesTheBatchTime) {
  auto out = runStream<int>({{5}, {6}}, [](auto s) {
    return s.transform([](const RDD<int>& rdd, Time t) {
      return rdd.map([t](int x) { return std::pair<int, long>(x, toMillis(t) / 1000); });
    });
  }, opts());
  EXPECT_EQ(out, (std::vector<std::vector<std::pair<int, long>>>{{{5, 1}}, {{6, 2}}}));
}

TEST_P(OperationsTest, JoinsMatchSparkSemantics) {
  using KV = std::pair<std::string, int>;
  auto run = [&](auto joinFn) {
    return runStream<KV>({{{"a", 1}, {"b", 2}, {"a", 3}}, {}}, [&](auto s) {
      auto left = s.filter([](const KV& kv) { return kv.first == "a" || kv.second == 2; });
      auto right = s.filter([](const KV& kv) { return kv.first == "a" && kv.second == 1; })
                       .map([](const KV& kv) { return std::pair<std::string, std::string>(kv.first, "x"); });
      return joinFn(left, right);
    }, opts());
  };
  auto inner = run([](auto l, auto r) { return l.join(r); });
  EXPECT_EQ(sorted(inner), (std::vector<std::vector<std::pair<std::string, std::pair<int, std::string>>>>{
                               {{"a", {1, "x"}}, {"a", {3, "x"}}}, {}}));
  auto left = run([](auto l, auto r) { return l.leftOuterJoin(r); });
  using LO = std::pair<std::string, std::pair<int, std::optional<std::string>>>;
  EXPECT_EQ(sorted(left), (std::vector<std::vector<LO>>{{{"a", {1, "x"}}, {"a", {3, "x"}}, {"b", {2, std::nullopt}}}, {}}));
  auto right = run([](auto l, auto r) { return r.rightOuterJoin(l); });
  using RO = std::pair<std::string, std::pair<std::optional<std::string>, int>>;
  EXPECT_EQ(sorted(right), (std::vector<std::vector<RO>>{{{"a", {"x", 1}}, {"a", {"x", 3}}, {"b", {std::nullopt, 2}}}, {}}));
  auto full = run([](auto l, auto r) { return r.fullOuterJoin(l); });
  using FO = std::pair<std::string, std::pair<std::optional<std::string>, std::optional<int>>>;
  EXPECT_EQ(sorted(full), (std::vector<std::vector<FO>>{{{"a", {"x", 1}}, {"a", {"x", 3}}, {"b", {std::nullopt, 2}}}, {}}));
}

TEST_P(OperationsTest, CogroupGroupsBothSides) {
  using KV = std::pair<int, int>;
  auto out = runStream<KV>({{{1, 10}, {2, 20}, {1, 11}}}, [](auto s) {
    return s.cogroup(s.filter([](const KV& kv) { return kv.first == 1; })).map([](const auto& kg) {
      auto a = kg.second.first, b = kg.second.second;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      return std::tuple<int, std::vector<int>, std::vector<int>>(kg.first, a, b);
    });
  }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<std::tuple<int, std::vector<int>, std::vector<int>>>>{
                             {{1, {10, 11}, {10, 11}}, {2, {20}, {}}}}));
}

TEST_P(OperationsTest, WindowHoldsPartialThenFullWindows) {
  auto out = runStream<int>({{1}, {2}, {}, {4}, {5}}, [](auto s) { return s.window(Seconds(3), Seconds(1)); }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<int>>{{1}, {1, 2}, {1, 2}, {2, 4}, {4, 5}}));
}

TEST_P(OperationsTest, WindowWithSlideEmitsOnSlideTimes) {
  auto out = runStream<int>({{1}, {2}, {3}, {4}}, [](auto s) { return s.window(Seconds(2), Seconds(2)); }, opts());
  EXPECT_EQ(sorted(out), (std::vector<std::vector<int>>{{1, 2}, {3, 4}}));
}

TEST(OperationsValidationTest, WindowNotMultipleOfSlideIsAClearError) {
  StreamingContext ssc("local", Seconds(10));
  auto s = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  expectInvalid([&] { s.window(Seconds(25), Seconds(10)); },
                "dstream: window: window 25s is not a multiple of the parent's slide 10s; use 20s or 30s");
}

}  // namespace
}  // namespace dstream
