// FileStreamOptions.maxFilesPerBatch and maxBytesPerBatch: a batch takes at most that many of
// the files found, oldest first (modification time, then name); the rest wait for the next
// batches in order, even past the remember window, and across a restart from a checkpoint,
// where re-run batches read exactly the files they read before. Real files, ManualClock.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "recovery/running_count.h"
#include "testing/batches.h"
#include "testing/errors.h"
#include "testing/files.h"

namespace dstream {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Names = std::vector<std::string>;

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * batch

std::string name(int i) {
  std::string n(i < 10 ? "f0" : "f");  // appended to, not "f" + ...: GCC 12's false -Wrestrict
  n += std::to_string(i);
  return n;
}

// Each file holds one line: its name, padded to `bytes` bytes with the '\n'.
void writeNamed(const fs::path& dir, const std::string& n, long mtimeMs, std::size_t bytes = 0) {
  std::string line = n;
  if (bytes > n.size() + 1) line.resize(bytes - 1, '.');
  testing::writeFileAt(dir, n, line + "\n", timeFromMillis(mtimeMs));
}

// batch ms -> the file names its lines came from, in order.
struct Seen {
  std::mutex mu;
  std::map<long, Names> batches;
  Names at(long ms) {
    std::lock_guard lock(mu);
    return batches.count(ms) ? batches[ms] : Names{};
  }
};

void collectNames(DStream<std::string_view> lines, Seen& seen) {
  lines.foreachRDD([&seen](const RDD<std::string_view>& rdd, Time t) {
    Names names;
    for (auto l : rdd.collect()) names.emplace_back(l.substr(0, l.find('.')));
    std::lock_guard lock(seen.mu);
    seen.batches[toMillis(t)] = names;
  });
}

TEST(FileCapsTest, MaxFilesPerBatchTakesTheOldestAndKeepsTheRestInOrder) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
  StreamingContext ssc("local[2]", Seconds(1), testing::withoutUi({.clock = clock}));
  Seen seen;
  collectNames(ssc.textFileStream(dir.path().string(), {.maxFilesPerBatch = 3}), seen);
  // Eight files for batch 1; f05 and f06 share a modification time (name order decides).
  for (int i = 0; i < 8; ++i) writeNamed(dir.path(), name(i), kBase + 100 + (i == 6 ? 5 : i));
  ssc.start();
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(kBase + 1000)));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(kBase + 2000)));
  // A file that arrives later, dated after the waiting ones, queues behind them.
  writeNamed(dir.path(), "a-late", kBase + 2500);
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(kBase + 3000)));
  ASSERT_TRUE(testing::runBatchAt(ssc, *clock, timeFromMillis(kBase + 4000)));
  ssc.stop();
  EXPECT_EQ(seen.at(kBase + 1000), (Names{"f00", "f01", "f02"}));
  EXPECT_EQ(seen.at(kBase + 2000), (Names{"f03", "f04", "f05"}));
  EXPECT_EQ(seen.at(kBase + 3000), (Names{"f06", "f07", "a-late"}));
  EXPECT_EQ(seen.at(kBase + 4000), Names{});
}

TEST(FileCapsTest, MaxBytesPerBatchTakesAnOversizedFileWholeAndAlone) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
  StreamingContext ssc("local[2]", Seconds(1), testing::withoutUi({.clock = clock}));
  Seen seen;
  collectNames(ssc.textFileStream(dir.path().string(), {.maxBytesPerBatch = 250}), seen);
  std::size_t sizes[] = {100, 100, 100, 400, 50, 100};
  for (int i = 0; i < 6; ++i) writeNamed(dir.path(), name(i), kBase + 100 + i, sizes[i]);
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 5));
  ssc.stop();
  EXPECT_EQ(seen.at(kBase + 1000), (Names{"f00", "f01"}));  // 200 bytes; a third would be 300
  EXPECT_EQ(seen.at(kBase + 2000), (Names{"f02"}));         // 100 + 400 > 250
  EXPECT_EQ(seen.at(kBase + 3000), (Names{"f03"}));         // 400 bytes, whole
  EXPECT_EQ(seen.at(kBase + 4000), (Names{"f04", "f05"}));
  EXPECT_EQ(seen.at(kBase + 5000), Names{});
}

TEST(FileCapsTest, BothCapsTogether) {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
  StreamingContext ssc("local[1]", Seconds(1), testing::withoutUi({.clock = clock}));
  Seen seen;
  collectNames(
      ssc.textFileStream(dir.path().string(), {.maxFilesPerBatch = 2, .maxBytesPerBatch = 1000}),
      seen);
  for (int i = 0; i < 5; ++i) writeNamed(dir.path(), name(i), kBase + 100 + i, i == 1 ? 2000 : 10);
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, 4));
  ssc.stop();
  EXPECT_EQ(seen.at(kBase + 1000), (Names{"f00"}));  // f01 alone is over the bytes
  EXPECT_EQ(seen.at(kBase + 2000), (Names{"f01"}));
  EXPECT_EQ(seen.at(kBase + 3000), (Names{"f02", "f03"}));  // the file cap
  EXPECT_EQ(seen.at(kBase + 4000), (Names{"f04"}));
}

TEST(FileCapsTest, WaitingFilesAreTakenEvenOnceOlderThanTheRememberWindow) {
  // Batches of 30s remember 60s: by the third batch the files are older than that.
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
  StreamingContext ssc("local[1]", Seconds(30), testing::withoutUi({.clock = clock}));
  Seen seen;
  collectNames(ssc.textFileStream(dir.path().string(), {.maxFilesPerBatch = 1}), seen);
  ssc.start();
  Time first = testing::firstBatchTime(ssc);
  for (int i = 0; i < 4; ++i) writeNamed(dir.path(), name(i), toMillis(first) - 1000 + i);
  for (int b = 0; b < 5; ++b)
    ASSERT_TRUE(testing::runBatchAt(ssc, *clock, first + Seconds(30) * b));
  ssc.stop();
  for (int b = 0; b < 4; ++b)
    EXPECT_EQ(seen.at(toMillis(first + Seconds(30) * b)), (Names{name(b)})) << b;
  EXPECT_EQ(seen.at(toMillis(first + Seconds(120))), Names{});
}

TEST(FileCapsTest, NegativeCapsAreRefusedNamingTheSetting) {
  TempDir dir;
  StreamingContext ssc("local[1]", Seconds(1), testing::withoutUi({}));
  std::string d = dir.path().string();
  testing::expectInvalid(
      [&] { ssc.textFileStream(d, {.maxFilesPerBatch = -1}); },
      "dstream: textFileStream " + d +
          ": FileStreamOptions.maxFilesPerBatch is -1; it must be >= 0 (0: unlimited)");
  testing::expectInvalid(
      [&] { ssc.binaryRecordsStream(d, 4, {.maxBytesPerBatch = -7}); },
      "dstream: binaryRecordsStream " + d +
          ": FileStreamOptions.maxBytesPerBatch is -7; it must be >= 0 (0: unlimited)");
}

// ---- recovery with a backlog ----

struct Outputs {
  Seen names;
  std::mutex mu;
  std::map<long, std::string> totals;  // batch ms -> running counts (state)
};

std::unique_ptr<StreamingContext> buildCapped(const fs::path& in, const fs::path& ckpt,
                                              std::shared_ptr<ManualClock> clock, Outputs& out) {
  auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1), testing::withoutUi({.clock = clock}));
  ctx->checkpoint(ckpt.string());
  ctx->setStateCheckpointInterval(Seconds(4));
  auto lines = ctx->textFileStream(in.string(), {.maxFilesPerBatch = 3});
  collectNames(lines, out.names);
  // A stateful stream: recovery starts from its last snapshot, so batches re-run.
  test::runningCount(lines, "line-count")
      .foreachRDD([&out](const RDD<std::pair<std::string, long>>& rdd, Time t) {
        long total = 0;
        for (const auto& [line, n] : rdd.collect()) total += n;
        std::lock_guard lock(out.mu);
        out.totals[toMillis(t)] = std::to_string(rdd.count()) + " lines, " + std::to_string(total);
      });
  return ctx;
}

TEST(FileCapsTest, ARestartKeepsTheBacklogAndReRunsBatchesOnTheirOwnFiles) {
  TempDir root;
  fs::path in = root / "in", ckpt = root / "ckpt";
  fs::create_directories(in);
  // 30 files for batch 1: ten batches' worth at 3 a batch.
  for (int i = 0; i < 30; ++i) writeNamed(in, name(i), kBase + 100 + i);
  auto expected = [](int batch) {
    Names n;
    for (int i = 3 * (batch - 1); i < 3 * batch && i < 30; ++i) n.push_back(name(i));
    return n;
  };
  {
    Outputs before;
    auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
    auto ctx = StreamingContext::getOrCreate(ckpt.string(),
                                             [&] { return buildCapped(in, ckpt, clock, before); });
    ASSERT_FALSE(ctx->isRecovering());
    ctx->start();
    ASSERT_TRUE(testing::runBatches(*ctx, *clock, 7));
    ctx->stop();  // the "crash", with 9 files still waiting
    for (int b = 1; b <= 7; ++b) EXPECT_EQ(before.names.at(kBase + 1000 * b), expected(b)) << b;
  }
  // Down for over a minute: the waiting files are older than the remember window by now, so
  // only the checkpointed backlog still knows them.
  Outputs got;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase + 70'000));
  auto ctx = StreamingContext::getOrCreate(ckpt.string(),
                                           [&] { return buildCapped(in, ckpt, clock, got); });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  ASSERT_TRUE(dstream::testing::awaitBatchCompleted(*ctx, timeFromMillis(kBase + 70'000),
                                                    testing::kWaitTimeout));
  ctx->stop();
  // The snapshot is at batch 4: 5..7 re-run on exactly their files, 8..10 take the backlog.
  for (int b = 5; b <= 10; ++b) EXPECT_EQ(got.names.at(kBase + 1000 * b), expected(b)) << b;
  EXPECT_EQ(got.names.at(kBase + 11'000), Names{});
  std::lock_guard lock(got.mu);
  EXPECT_EQ(got.totals.at(kBase + 10'000), "30 lines, 30");  // each line counted once
}

}  // namespace
}  // namespace dstream
