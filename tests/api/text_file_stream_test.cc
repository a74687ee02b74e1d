// textFileStream end to end: real files in a temporary directory, a manual clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "dstream/dstream.h"
#include "dstream/json.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/errors.h"
#include "testing/files.h"

namespace dstream {
namespace {

using testing::TempDir;
using testing::writeFileAt;

// Runs a context over `dir` whose batches are driven by hand; collects the lines per batch.
class FileStreamRun {
 public:
  explicit FileStreamRun(const std::string& dir, const char* master = "local[2]", FileStreamOptions options = {})
      : clock_(std::make_shared<ManualClock>(timeFromMillis(100'000))),
        ssc_(master, Seconds(1), {.clock = clock_, .log = [this](LogLevel, std::string_view line) {
                                   std::lock_guard lock(mu_);
                                   log_.emplace_back(line);
                                 }}) {
    auto lines = ssc_.textFileStream(dir, options);
    lines.foreachRDD([this](const RDD<std::string_view>& rdd, Time t) {
      std::vector<std::string> got;
      for (auto l : rdd.collect()) got.emplace_back(l);
      std::lock_guard lock(mu_);
      batches_[toMillis(t)] = got;
    });
    lines.map([](std::string_view l) { return toUpper(l); }).count();  // a second consumer
  }
  ~FileStreamRun() { ssc_.stop(); }
  void start() { ssc_.start(); }
  // Runs the batch at `ms` and returns its lines.
  std::vector<std::string> batch(long ms) {
    EXPECT_TRUE(testing::runBatchAt(ssc_, *clock_, timeFromMillis(ms)));
    std::lock_guard lock(mu_);
    return batches_[ms];
  }
  // The bad records counted against the batch at `ms` (after batch(ms) returned; the
  // history is written before the batch counts as completed, unlike listener calls).
  std::int64_t badRecords(long ms) {
    for (const auto& info : dstream::testing::completedBatches(ssc_)) {
      if (info.batchTime == timeFromMillis(ms)) return info.numBadRecords;
    }
    ADD_FAILURE() << "no completed batch at " << ms;
    return -1;
  }
  // The log lines about bad records (the context may log other things too).
  std::vector<std::string> badRecordLog() {
    std::lock_guard lock(mu_);
    std::vector<std::string> bad;
    for (const auto& l : log_) {
      if (l.find("bad record") != std::string::npos) bad.push_back(l);
    }
    return bad;
  }
  StreamingContext& context() { return ssc_; }

 private:
  std::vector<std::string> log_;  // guarded by mu_
  std::shared_ptr<ManualClock> clock_;
  StreamingContext ssc_;
  std::mutex mu_;
  std::map<long, std::vector<std::string>> batches_;
};

TEST(TextFileStreamTest, FilesArrivingBetweenBatchesFormTheirBatch) {
  TempDir dir;
  FileStreamRun run(dir.path().string());
  run.start();
  writeFileAt(dir.path(), "words", "hej\nkalle\r\nkula", timeFromMillis(100'500));
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"hej", "kalle", "kula"}));
  EXPECT_EQ(run.batch(102'000), (std::vector<std::string>{}));
  writeFileAt(dir.path(), "more", "a\n\nb\n", timeFromMillis(102'100));
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{"a", "", "b"}));
}

TEST(TextFileStreamTest, TheLabsCopyAgainAndCopyNewExperiments) {
  TempDir dir;
  FileStreamRun run("file://" + dir.path().string());
  run.start();
  writeFileAt(dir.path(), "words", "hej\n", timeFromMillis(100'200));
  EXPECT_EQ(run.batch(101'000).size(), 1u);
  // cp words /tmp/datastreams/ again: same name, newer mtime, within the remember window.
  writeFileAt(dir.path(), "words", "hej\n", timeFromMillis(101'200));
  EXPECT_EQ(run.batch(102'000).size(), 0u);
  // cp words /tmp/datastreams/w1: a new name is processed.
  writeFileAt(dir.path(), "w1", "hej\n", timeFromMillis(102'200));
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{"hej"}));
}

TEST(TextFileStreamTest, HiddenCopyingAndSubdirectoriesAreIgnored) {
  TempDir dir;
  FileStreamRun run(dir.path().string());
  run.start();
  writeFileAt(dir.path(), ".hidden", "no\n", timeFromMillis(100'200));
  writeFileAt(dir.path(), "words._COPYING_", "no\n", timeFromMillis(100'200));
  std::filesystem::create_directory(dir.path() / "sub");
  writeFileAt(dir.path() / "sub", "inner", "no\n", timeFromMillis(100'200));
  writeFileAt(dir.path(), "yes", "yes\n", timeFromMillis(100'300));
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"yes"}));
}

TEST(TextFileStreamTest, LargeFilesAreSplitAcrossPartitionsOnLineBoundaries) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  std::string content;
  long expectedSum = 0;
  for (int i = 0; i < 300'000; ++i) {
    content += std::to_string(i) + " some padding to make lines longer\n";
    expectedSum += i;
  }
  std::size_t partitions = 0;
  long sum = 0, count = 0;
  auto lines = ssc.textFileStream(dir.path().string());
  lines.foreachRDD([&](const RDD<std::string_view>& rdd) { partitions = std::max(partitions, rdd.numPartitions()); });
  lines.map([](std::string_view l) { return std::stol(std::string(l.substr(0, l.find(' ')))); })
      .foreachRDD([&](const RDD<long>& rdd) {
        for (long v : rdd.collect()) { sum += v; ++count; }
      });
  ssc.start();
  writeFileAt(dir.path(), "big", content, timeFromMillis(100'100));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(101'000)));
  ssc.stop();
  EXPECT_EQ(partitions, 2u);  // the file is over 2 MiB: one split per worker
  EXPECT_EQ(count, 300'000);
  EXPECT_EQ(sum, expectedSum);
}

// Issue 10: a file still being copied when it was picked up lost its rest without a word.
TEST(TextFileStreamTest, AFileThatGrowsAfterItWasReadIsCountedAndLoggedWithTheBytesNotRead) {
  TempDir dir;
  FileStreamRun run(dir.path().string());
  run.start();
  writeFileAt(dir.path(), "rsvps.json", "{\"v\":1}\n", timeFromMillis(100'500));
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{"{\"v\":1}"}));
  EXPECT_EQ(run.badRecords(101'000), 0);
  testing::appendFile(dir.path() / "rsvps.json", "{\"v\":2}\n{\"v\":3}\n");  // the copy goes on
  testing::setModTime(dir.path() / "rsvps.json", timeFromMillis(101'200));
  EXPECT_EQ(run.batch(102'000), (std::vector<std::string>{}));
  EXPECT_EQ(run.badRecords(102'000), 1);
  auto log = run.badRecordLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("rsvps.json"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("16 bytes not read"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("mv"), std::string::npos) << log[0];
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{}));
  EXPECT_EQ(run.badRecords(103'000), 0);  // reported once
}

TEST(TextFileStreamTest, RequireStableSizeTakesAFileOnceItWasNotWrittenForABatch) {
  TempDir dir;
  FileStreamRun run(dir.path().string(), "local[2]", {.requireStableSize = true});
  run.start();
  writeFileAt(dir.path(), "part", "a\n", timeFromMillis(100'500));
  EXPECT_EQ(run.batch(101'000), (std::vector<std::string>{}));  // written 0.5 s ago
  testing::appendFile(dir.path() / "part", "b\n");
  testing::setModTime(dir.path() / "part", timeFromMillis(101'300));
  EXPECT_EQ(run.batch(102'000), (std::vector<std::string>{}));  // still being written
  EXPECT_EQ(run.batch(103'000), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(run.batch(104'000), (std::vector<std::string>{}));
  EXPECT_TRUE(run.badRecordLog().empty());
}

TEST(TextFileStreamTest, NewFilesOnlyFalseReadsTheFilesAlreadyThereInTheFirstBatch) {
  TempDir dir;
  writeFileAt(dir.path(), "old", "from yesterday\n", timeFromMillis(100'000 - 86'400'000));
  writeFileAt(dir.path(), "recent", "from before start\n", timeFromMillis(99'000));
  {
    FileStreamRun run(dir.path().string(), "local[2]", {.newFilesOnly = false});
    run.start();
    auto first = run.batch(101'000);
    std::sort(first.begin(), first.end());
    EXPECT_EQ(first, (std::vector<std::string>{"from before start", "from yesterday"}));
    EXPECT_EQ(run.batch(102'000), (std::vector<std::string>{}));
  }
  FileStreamRun spark(dir.path().string());  // the default, as in Spark: only new files
  spark.start();
  EXPECT_EQ(spark.batch(101'000), (std::vector<std::string>{}));
}

TEST(TextFileStreamTest, MissingDirectoryIsAnErrorAtStart) {
  TempDir root;
  std::string missing = (root / "no-such-directory").string();
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  ssc.textFileStream(missing).pprint();
  testing::expectErrorContaining([&] { ssc.start(); }, ErrorCode::kNotFound, missing);
}

TEST(TextFileStreamTest, OtherSchemesAreRejectedWithAClearMessage) {
  StreamingContext ssc("local", Seconds(1));
  try {
    ssc.textFileStream("hdfs://namenode/logs");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("hdfs"), std::string::npos) << e.what();
  }
}

TEST(TextFileStreamTest, Step3CountsVenuesOfTheRealLabData) {
  const char* shared = std::getenv("DSTREAM_SHARED_DATA");
  std::filesystem::path data = shared ? std::filesystem::path(shared) / "lab10" : "";
  if (!shared || !std::filesystem::exists(data / "meetup.data.1")) {
    GTEST_SKIP() << "the lab's Meetup data is not at " << data << " (../shared/data/lab10); skipping";
  }
  // Each file copied in its own batch: the venue count equals the records with a venue.
  const std::map<std::string, long> expectedVenues = {{"meetup.data.1", 165}, {"meetup.data.2", 169},
                                                      {"meetup.data.3", 157}, {"meetup.data.4", 163},
                                                      {"meetup.data.5", 170}, {"meetup.data.6", 134}};
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(100'000));
  StreamingContext ssc("local[2]", Seconds(10), {.clock = clock});
  auto lines = ssc.textFileStream(dir.path().string());
  std::mutex mu;
  std::vector<long> lineCounts, venueCounts;
  lines.count().foreachRDD([&](const RDD<long>& r) { std::lock_guard l(mu); lineCounts.push_back(r.collect()[0]); });
  lines.flatMap([](std::string_view l) { return json::field(l, "venue"); })
      .count()
      .foreachRDD([&](const RDD<long>& r) { std::lock_guard l(mu); venueCounts.push_back(r.collect()[0]); });
  ssc.start();
  long t = 110'000;
  for (const auto& [file, venues] : expectedVenues) {
    std::ifstream in(data / file, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), {});
    writeFileAt(dir.path(), file, content, timeFromMillis(t - 5000));
    ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(t)));
    t += 10'000;
  }
  ssc.stop();
  EXPECT_EQ(lineCounts, (std::vector<long>{200, 200, 200, 200, 200, 162}));
  EXPECT_EQ(venueCounts, (std::vector<long>{165, 169, 157, 163, 170, 134}));
}

}  // namespace
}  // namespace dstream
