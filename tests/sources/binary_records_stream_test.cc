// binaryRecordsStream end to end: real files in a temporary directory, a manual clock; records
// of binary bytes, several files, empty files, a partial trailing record, bad record lengths,
// large files split across partitions, and recovery from a checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "recovery/running_count.h"
#include "sources/file_reader.h"
#include "testing/batches.h"
#include "testing/errors.h"
#include "testing/files.h"

namespace dstream {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::writeFileAt;
using Records = std::vector<std::string>;

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * 1000

// Runs a binaryRecordsStream over `dir` whose batches are driven by hand; collects the records
// per batch and the context's log lines about bad records.
class BinaryRun {
 public:
  BinaryRun(const std::string& dir, int recordLength, const char* master = "local[2]")
      : clock_(std::make_shared<ManualClock>(timeFromMillis(kBase))),
        ssc_(master, Seconds(1), {.clock = clock_, .log = [this](LogLevel, std::string_view line) {
                                   if (line.find("bad record") == std::string_view::npos) return;
                                   std::lock_guard lock(mu_);
                                   badRecordLog_.emplace_back(line);
                                 }}) {
    auto records = ssc_.binaryRecordsStream(dir, recordLength);
    records.foreachRDD([this](const RDD<std::string_view>& rdd, Time t) {
      Records got;
      for (auto r : rdd.collect()) got.emplace_back(r);
      std::lock_guard lock(mu_);
      batches_[toMillis(t)] = got;
      partitions_[toMillis(t)] = rdd.numPartitions();
    });
  }
  ~BinaryRun() { ssc_.stop(); }
  void start() { ssc_.start(); }
  // Runs the batch at `ms` and returns its records.
  Records batch(long ms) {
    EXPECT_TRUE(testing::runBatchAt(ssc_, *clock_, timeFromMillis(ms)));
    std::lock_guard lock(mu_);
    return batches_[ms];
  }
  std::size_t partitions(long ms) {
    std::lock_guard lock(mu_);
    return partitions_[ms];
  }
  // The bad records and input records counted for the batch at `ms` (after batch(ms)).
  BatchInfo info(long ms) {
    for (const auto& i : dstream::testing::completedBatches(ssc_)) {
      if (i.batchTime == timeFromMillis(ms)) return i;
    }
    ADD_FAILURE() << "no completed batch at " << ms;
    return {};
  }
  // The context's log lines about bad records.
  std::vector<std::string> badRecordLog() {
    std::lock_guard lock(mu_);
    return badRecordLog_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> badRecordLog_;  // guarded by mu_
  std::shared_ptr<ManualClock> clock_;
  StreamingContext ssc_;
  std::map<long, Records> batches_;         // guarded by mu_
  std::map<long, std::size_t> partitions_;  // guarded by mu_
};

// The reader alone: whatever the split count, the splits together hold every whole record once,
// in file order, and only the last one reports the bytes left over.
TEST(BinaryRecordsStreamTest, RecordSplitsCoverEveryWholeRecordOnceAndReportTheTailOnce) {
  TempDir dir;
  std::mt19937 rng(20260101);
  for (int round = 0; round < 40; ++round) {
    const int length = std::uniform_int_distribution<int>(1, 9)(rng);
    std::string content(std::uniform_int_distribution<std::size_t>(0, 200)(rng), '\0');
    for (auto& c : content) c = static_cast<char>(rng());
    const int splits = std::uniform_int_distribution<int>(1, 7)(rng);
    SCOPED_TRACE(::testing::Message() << content.size() << " bytes, records of " << length << ", " << splits << " splits");
    testing::writeFile(dir / "f", content);
    std::int64_t badBefore = totalBadRecords();
    std::string joined;
    for (int i = 0; i < splits; ++i) {
      auto block = detail::readRecordSplit(dir / "f", length, i, splits);
      ASSERT_TRUE(block.has_value());
      for (std::string_view r : (*block)->lines) {
        EXPECT_EQ(r.size(), static_cast<std::size_t>(length));
        joined.append(r);
      }
    }
    const std::size_t whole = content.size() / static_cast<std::size_t>(length) * static_cast<std::size_t>(length);
    EXPECT_EQ(joined, content.substr(0, whole));
    EXPECT_EQ(totalBadRecords() - badBefore, whole < content.size() ? 1 : 0);
  }
}

TEST(BinaryRecordsStreamTest, FilesAreCutIntoRecordsInFileOrderAcrossSeveralFiles) {
  TempDir dir;
  BinaryRun run(dir.path().string(), 4);
  run.start();
  writeFileAt(dir.path(), "a", "aaaabbbb", timeFromMillis(kBase + 200));
  writeFileAt(dir.path(), "b", "ccccddddeeee", timeFromMillis(kBase + 600));
  EXPECT_EQ(run.batch(kBase + 1000), (Records{"aaaa", "bbbb", "cccc", "dddd", "eeee"}));
  EXPECT_EQ(run.info(kBase + 1000).numInputRecords, 5);
  EXPECT_EQ(run.batch(kBase + 2000), Records{});
  writeFileAt(dir.path(), "c", "ffff", timeFromMillis(kBase + 2500));
  EXPECT_EQ(run.batch(kBase + 3000), Records{"ffff"});
  EXPECT_TRUE(run.badRecordLog().empty());
}

TEST(BinaryRecordsStreamTest, RecordsAreBytesAsTheyAreNewlinesNulsAndCarriageReturnsIncluded) {
  TempDir dir;
  BinaryRun run("file://" + dir.path().string(), 3);
  run.start();
  const std::string content("\n\0\r" "a\r\n" "\0\0\0" "\xff\xfe\n", 12);
  writeFileAt(dir.path(), "bin", content, timeFromMillis(kBase + 500));
  EXPECT_EQ(run.batch(kBase + 1000), (Records{std::string("\n\0\r", 3), "a\r\n", std::string(3, '\0'),
                                              "\xff\xfe\n"}));
  EXPECT_TRUE(run.badRecordLog().empty());
}

TEST(BinaryRecordsStreamTest, AnEmptyFileYieldsNoRecordsAndIsNotAnError) {
  TempDir dir;
  BinaryRun run(dir.path().string(), 8);
  run.start();
  writeFileAt(dir.path(), "empty", "", timeFromMillis(kBase + 500));
  EXPECT_EQ(run.batch(kBase + 1000), Records{});
  EXPECT_EQ(run.info(kBase + 1000).numBadRecords, 0);
  // A file shorter than one record is all partial record.
  writeFileAt(dir.path(), "short", "abc", timeFromMillis(kBase + 1500));
  EXPECT_EQ(run.batch(kBase + 2000), Records{});
  EXPECT_EQ(run.info(kBase + 2000).numBadRecords, 1);
}

TEST(BinaryRecordsStreamTest, APartialTrailingRecordIsCountedAndLoggedWithTheFileAndOffset) {
  TempDir dir;
  BinaryRun run(dir.path().string(), 4);
  run.start();
  writeFileAt(dir.path(), "cut.bin", "1111222233", timeFromMillis(kBase + 300));
  writeFileAt(dir.path(), "whole.bin", "4444", timeFromMillis(kBase + 400));
  EXPECT_EQ(run.batch(kBase + 1000), (Records{"1111", "2222", "4444"}));
  EXPECT_EQ(run.info(kBase + 1000).numBadRecords, 1);
  auto log = run.badRecordLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("binaryRecordsStream " + (dir / "cut.bin").string()), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("a partial record of 2 bytes at byte offset 8"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("records are 4 bytes; the file has 10 bytes"), std::string::npos) << log[0];
  EXPECT_EQ(run.batch(kBase + 2000), Records{});
  EXPECT_EQ(run.info(kBase + 2000).numBadRecords, 0);  // reported once, with its batch
}

TEST(BinaryRecordsStreamTest, ANonPositiveRecordLengthIsAnInvalidArgumentNamingIt) {
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  for (int bad : {0, -1, -4096}) {
    SCOPED_TRACE(bad);
    testing::expectInvalid([&] { ssc.binaryRecordsStream("/tmp", bad); },
                           "dstream: binaryRecordsStream: recordLength must be positive (the bytes in each "
                           "record), got " + std::to_string(bad));
  }
}

TEST(BinaryRecordsStreamTest, DirectoryErrorsNameTheStream) {
  TempDir root;
  std::string missing = (root / "no-such-directory").string();
  StreamingContext ssc("local", Seconds(1), {.clock = std::make_shared<ManualClock>()});
  ssc.binaryRecordsStream(missing, 4).pprint();
  testing::expectErrorContaining([&] { ssc.start(); }, ErrorCode::kNotFound, "binaryRecordsStream: directory " + missing);
  testing::expectErrorContaining([&] { ssc.binaryRecordsStream("hdfs://namenode/in", 4); },
                                 ErrorCode::kInvalidArgument, "binaryRecordsStream directory");
}

// Over 2 MiB with local[2]: two splits, cut on record boundaries (7 bytes does not divide
// the split size), so every record arrives whole and once, and the tail is reported once.
TEST(BinaryRecordsStreamTest, LargeFilesAreSplitAcrossPartitionsOnRecordBoundaries) {
  TempDir dir;
  BinaryRun run(dir.path().string(), 7);
  run.start();
  constexpr int kRecords = 400'000;
  std::string content;
  content.reserve(kRecords * 7 + 3);
  for (int i = 0; i < kRecords; ++i) {
    char rec[8];
    std::snprintf(rec, sizeof rec, "%07d", i);
    content.append(rec, 7);
  }
  content += "xyz";
  writeFileAt(dir.path(), "big", content, timeFromMillis(kBase + 100));
  Records got = run.batch(kBase + 1000);
  EXPECT_EQ(run.partitions(kBase + 1000), 2u);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    char rec[8];
    std::snprintf(rec, sizeof rec, "%07d", i);
    if (got[static_cast<std::size_t>(i)] != rec) {
      ADD_FAILURE() << "record " << i << " is " << got[static_cast<std::size_t>(i)];
      break;
    }
  }
  EXPECT_EQ(run.info(kBase + 1000).numBadRecords, 1);
  auto log = run.badRecordLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("3 bytes at byte offset " + std::to_string(kRecords * 7)), std::string::npos) << log[0];
}

// Recovery, as tests/recovery/recovery_test.cc does for textFileStream: a context restored from
// its checkpoint re-runs the batches after its last state snapshot on exactly the files they
// read, then reads the files that arrived while it was down, and its outputs equal those of an
// uninterrupted run.
struct Outputs {
  std::mutex mu;
  std::map<long, std::string> records;  // batch ms -> the batch's records, joined by '|'
  std::map<long, std::string> totals;   // batch ms -> each record's count so far (state)
  std::map<long, long> windows;         // batch ms -> records in the last 3 batches
};

std::unique_ptr<StreamingContext> buildRecoverable(const fs::path& in, const fs::path& ckpt,
                                                   std::shared_ptr<ManualClock> clock, Outputs& out) {
  auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1), ContextOptions{.clock = clock});
  ctx->checkpoint(ckpt.string());
  ctx->setStateCheckpointInterval(Seconds(4));
  auto records = ctx->binaryRecordsStream(in.string(), 5);
  records.foreachRDD([&out](const RDD<std::string_view>& rdd, Time t) {
    std::string text;
    for (auto r : rdd.collect()) text.append(r).append("|");
    std::lock_guard lock(out.mu);
    out.records[toMillis(t)] = text;
  });
  // A stateful stream: recovery starts from its last snapshot, so batches re-run.
  test::runningCount(records, "record-count")
      .foreachRDD([&out](const RDD<std::pair<std::string, long>>& rdd, Time t) {
        std::string text;
        for (const auto& [record, n] : rdd.collect()) text += record + "=" + std::to_string(n) + " ";
        std::lock_guard lock(out.mu);
        out.totals[toMillis(t)] = text;
      });
  records.window(Seconds(3), Seconds(1)).count().foreachRDD([&out](const RDD<long>& rdd, Time t) {
    std::lock_guard lock(out.mu);
    out.windows[toMillis(t)] = rdd.collect().at(0);
  });
  return ctx;
}

// Batch i's file: i % 3 + 1 records of 5 bytes, with a '\0' and a '\n' in each.
std::string inputOf(int i) {
  std::string content;
  for (int r = 0; r <= i % 3; ++r) {
    content += std::string("b") + static_cast<char>('0' + i) + '\0' + static_cast<char>('a' + r) + '\n';
  }
  return content;
}

TEST(BinaryRecordsStreamTest, ARecoveredRunReReadsTheSameFilesAndReproducesTheOutputs) {
  Outputs expected, got;
  {
    TempDir root;
    fs::create_directories(root / "in");
    auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
    auto ctx = buildRecoverable(root / "in", root / "ckpt", clock, expected);
    ctx->start();
    ASSERT_TRUE(testing::runFileBatches(*ctx, *clock, root / "in", timeFromMillis(kBase), 1, 10, inputOf));
    ctx->stop();
  }
  TempDir root;
  fs::path in = root / "in", ckpt = root / "ckpt";
  fs::create_directories(in);
  {
    Outputs before;
    auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
    auto ctx = StreamingContext::getOrCreate(ckpt.string(), [&] { return buildRecoverable(in, ckpt, clock, before); });
    ASSERT_FALSE(ctx->isRecovering());
    ctx->start();
    ASSERT_TRUE(testing::runFileBatches(*ctx, *clock, in, timeFromMillis(kBase), 1, 7, inputOf));
    ctx->stop();  // the "crash": batches 8 and 9's files arrive while the program is down
  }
  testing::writeBatchFile(in, 8, timeFromMillis(kBase + 8000), Seconds(1), inputOf(8));
  testing::writeBatchFile(in, 9, timeFromMillis(kBase + 9000), Seconds(1), inputOf(9));
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase + 9000));
  auto ctx = StreamingContext::getOrCreate(ckpt.string(), [&] { return buildRecoverable(in, ckpt, clock, got); });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  ASSERT_TRUE(dstream::testing::awaitBatchCompleted(*ctx, timeFromMillis(kBase + 9000), testing::kWaitTimeout));
  ASSERT_TRUE(testing::runFileBatches(*ctx, *clock, in, timeFromMillis(kBase), 10, 10, inputOf));
  ctx->stop();
  // The snapshot is at batch 4 (interval 4s): batches 5..7 re-run on their files, 8 and 9
  // read the files that arrived meanwhile.
  ASSERT_FALSE(got.records.empty());
  EXPECT_EQ(got.records.begin()->first, kBase + 5000);
  EXPECT_EQ(got.records.rbegin()->first, kBase + 10'000);
  for (const auto& [t, text] : got.records) EXPECT_EQ(text, expected.records.at(t)) << t;
  for (const auto& [t, text] : got.totals) EXPECT_EQ(text, expected.totals.at(t)) << t;
  for (const auto& [t, n] : got.windows) EXPECT_EQ(n, expected.windows.at(t)) << t;
  EXPECT_EQ(got.totals.size(), 6u);
  EXPECT_EQ(got.windows.size(), 6u);
}

}  // namespace
}  // namespace dstream
