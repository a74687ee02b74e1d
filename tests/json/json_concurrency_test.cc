// dstream::json from several threads at once: every thread must see its own lines' values and
// its own bad-record count, as worker threads of one batch would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "dstream/bad_records.h"
#include "dstream/json.h"

namespace dstream::json {
namespace {

using ::testing::Optional;

TEST(JsonConcurrencyTest, ThreadsParseConcurrentlyWithCorrectResultsAndCounts) {
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 20'000;
  constexpr int kBadEvery = 10;  // every 10th line is truncated
  std::int64_t totalBefore = totalBadRecords();
  std::vector<std::int64_t> sums(kThreads), badCounts(kThreads), names(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::atomic<std::int64_t> bad{0};
      detail::BadRecordScope scope(&bad);
      std::int64_t sum = 0, nameMatches = 0;
      for (int i = 0; i < kLinesPerThread; ++i) {
        std::string name = std::to_string(t) + "-" +
                           std::to_string(i);  // GCC 12 misfires -Wrestrict on "t" + string
        std::string line = R"({"venue":{"venue_name":")" + name + R"(","venue_id":)" +
                           std::to_string(t * kLinesPerThread + i) + R"(},"rsvp_id":)" +
                           std::to_string(i) + "}";
        if (i % kBadEvery == 0) line.resize(line.size() - 1);
        if (i % 2 == 0) {
          auto record = Record::parse(line);
          if (!record) continue;
          sum += *record->getInt64("venue.venue_id");
          // Half of these read the name as a view held by the thread's pooled parser.
          if (i % 4 == 0) {
            nameMatches += record->getStringView("venue.venue_name") == name;
          } else {
            nameMatches += record->getString("venue.venue_name") == name;
          }
        } else {
          sum += getInt64(line, "venue.venue_id").value_or(0);
          auto raw = field(line, "venue.venue_name");
          nameMatches += raw && *raw == "\"" + name + "\"";
        }
      }
      sums[t] = sum;
      names[t] = nameMatches;
      badCounts[t] = bad.load();
    });
  }
  for (auto& thread : threads) thread.join();

  constexpr int kBad = kLinesPerThread / kBadEvery;
  for (int t = 0; t < kThreads; ++t) {
    SCOPED_TRACE(t);
    std::int64_t expected = 0;
    for (int i = 0; i < kLinesPerThread; ++i) {
      if (i % kBadEvery != 0) expected += t * kLinesPerThread + i;
    }
    EXPECT_EQ(sums[t], expected);
    EXPECT_EQ(names[t], kLinesPerThread - kBad);
    // Odd lines are never truncated (kBadEvery is even), so each bad line is parsed once.
    EXPECT_EQ(badCounts[t], kBad);
  }
  EXPECT_EQ(totalBadRecords() - totalBefore, kThreads * kBad);
}

}  // namespace
}  // namespace dstream::json
