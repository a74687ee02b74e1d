// Views into a source's lines kept past their batch: windows over pairs whose values are
// string_views into textFileStream's blocks. The blocks go back to a pool and are refilled by
// later batches, so the views stay right only if every RDD derived from the lines keeps the
// blocks alive (the source's batch names them as owners, and derived RDDs pass owners on).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "testing/batches.h"
#include "testing/files.h"

namespace dstream {
namespace {

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * 1000
constexpr int kLines = 4000;     // ~400 KB a batch: the blocks are big enough to be pooled

std::string lineOf(int batch, int j) {
  std::string line = "batch " + std::to_string(batch) + " line " + std::to_string(j) + " ";
  line.resize(99, static_cast<char>('a' + batch % 26));  // every batch's bytes differ
  return line;
}

std::string contentOf(int batch) {
  std::string out;
  for (int j = 0; j < kLines; ++j) out.append(lineOf(batch, j)).push_back('\n');
  return out;
}

// The batch number a line of lineOf() belongs to.
int batchOfLine(std::string_view line) {
  return std::stoi(std::string(line.substr(6, line.find(' ', 6) - 6)));
}

// Windows over a shuffle's output: the reduced batches are kept for the whole window while
// the source forgets each batch at once, so only the owners keep the lines' bytes.
TEST(SourceViewsTest, KeyedWindowsOfViewsIntoTheLinesStillReadEachBatchsOwnBytes) {
  for (const char* master : {"local[1]", "local[2]"}) {
    testing::TempDir dir("dstream-views");
    auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
    StreamingContext ssc(master, Seconds(1), {.clock = clock});
    std::mutex mu;
    std::map<long, std::map<int, std::string>> largest;     // batch time -> batch -> its largest line
    std::map<long, std::map<int, std::size_t>> groupSizes;  // batch time -> batch -> lines seen intact
    auto pairs = ssc.textFileStream(dir.path().string()).map([](std::string_view l) {
      return std::pair<int, std::string_view>(batchOfLine(l), l);
    });
    pairs
        .reduceByKeyAndWindow([](std::string_view a, std::string_view b) { return std::max(a, b); }, Seconds(3),
                              Seconds(1))
        .foreachRDD([&](const RDD<std::pair<int, std::string_view>>& rdd, Time t) {
          std::lock_guard lock(mu);
          for (const auto& [batch, line] : rdd.collect()) largest[toMillis(t)][batch] = std::string(line);
        });
    pairs.groupByKeyAndWindow(Seconds(3), Seconds(1))
        .foreachRDD([&](const RDD<std::pair<int, std::vector<std::string_view>>>& rdd, Time t) {
          std::lock_guard lock(mu);
          for (const auto& [batch, lines] : rdd.collect()) {
            std::size_t intact = 0;
            for (auto l : lines) intact += batchOfLine(l) == batch && l.back() == static_cast<char>('a' + batch % 26);
            groupSizes[toMillis(t)][batch] = intact;
          }
        });
    ssc.start();
    ASSERT_TRUE(testing::runFileBatches(ssc, *clock, dir.path(), timeFromMillis(kBase), 1, 6, contentOf));
    ssc.stop();

    std::lock_guard lock(mu);
    for (int i = 3; i <= 6; ++i) {
      const long t = kBase + i * 1000;
      std::map<int, std::string> expected;
      std::map<int, std::size_t> expectedSizes;
      for (int b = i - 2; b <= i; ++b) {
        for (int j = 0; j < kLines; ++j) expected[b] = std::max(expected[b], lineOf(b, j));
        expectedSizes[b] = kLines;
      }
      EXPECT_EQ(largest[t], expected) << master << ", reduceByKeyAndWindow at batch " << i;
      EXPECT_EQ(groupSizes[t], expectedSizes) << master << ", groupByKeyAndWindow at batch " << i;
    }
  }
}

}  // namespace
}  // namespace dstream
