// textFileStream end to end: real files in a temporary directory, a manual clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "api/test_util.h"
#include "dstream/dstream.h"
#include "dstream/json.h"

namespace dstream {
namespace {

using test::TempDir;
using test::writeFileAt;

// Runs a context over `dir` whose batches are driven by hand; collects the lines per batch.
class FileStreamRun {
 public:
  explicit FileStreamRun(const std::string& dir, const char* master = "local[2]")
      : clock_(std::make_shared<ManualClock>(timeFromMillis(100'000))),
        ssc_(master, Seconds(1), {.clock = clock_}) {
    auto lines = ssc_.textFileStream(dir);
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
    clock_->setTime(timeFromMillis(ms));
    EXPECT_TRUE(ssc_.core()->awaitBatchCompleted(timeFromMillis(ms), Seconds(30)));
    std::lock_guard lock(mu_);
    return batches_[ms];
  }
  StreamingContext& context() { return ssc_; }

 private:
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
  clock->setTime(timeFromMillis(101'000));
  ASSERT_TRUE(ssc.core()->awaitBatchCompleted(timeFromMillis(101'000), Seconds(30)));
  ssc.stop();
  EXPECT_EQ(partitions, 2u);  // the file is over 2 MiB: one split per worker
  EXPECT_EQ(count, 300'000);
  EXPECT_EQ(sum, expectedSum);
}

TEST(TextFileStreamTest, MissingDirectoryIsAnErrorAtStart) {
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  ssc.textFileStream("/tmp/dstream-no-such-directory-for-tests").pprint();
  try {
    ssc.start();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/tmp/dstream-no-such-directory-for-tests"), std::string::npos) << e.what();
  }
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
    clock->setTime(timeFromMillis(t));
    ASSERT_TRUE(ssc.core()->awaitBatchCompleted(timeFromMillis(t), Seconds(30)));
    t += 10'000;
  }
  ssc.stop();
  EXPECT_EQ(lineCounts, (std::vector<long>{200, 200, 200, 200, 200, 162}));
  EXPECT_EQ(venueCounts, (std::vector<long>{165, 169, 157, 163, 170, 134}));
}

}  // namespace
}  // namespace dstream
