// Checkpointing that cannot do its job says so (issue 10): a checkpoint write that fails
// stops the context with the path and the OS error; a stateful stream whose state cannot be
// serialised is refused at start(); a context started without getOrCreate over another
// run's checkpoints says so in one line and moves them aside, so that they are never taken
// for its own.
#include <fcntl.h>  // AT_FDCWD
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>  // renameat2, RENAME_EXCHANGE
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>
#include <string>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/child_process.h"
#include "testing/files.h"

namespace dstream {
namespace {
namespace fs = std::filesystem;

constexpr long kBase = 100'000;

Time batchAt(int i) { return timeFromMillis(kBase + i * 1000); }

// A word count with a checkpointed state over files written for batches 1..n.
struct WordCount {
  std::mutex mu;
  std::map<long, std::string> totals;  // batch ms -> formatted running counts

  std::unique_ptr<StreamingContext> build(const fs::path& in, const fs::path& ckpt, std::shared_ptr<ManualClock> clock) {
    ContextOptions options{.clock = clock};
    options.ui.enabled = false;  // its address line would be among the stderr lines a test counts
    auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1), options);
    ctx->checkpoint(ckpt.string());
    ctx->textFileStream(in.string())
        .flatMap([](std::string_view l) { return splitWords(l); })
        .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
        .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> n) {
          return std::optional<long>(n.value_or(0) + static_cast<long>(ones.size()));
        })
        .foreachRDD([this](const RDD<std::pair<std::string, long>>& rdd, Time t) {
          auto all = rdd.collect();
          std::sort(all.begin(), all.end());
          std::string text;
          for (const auto& kv : all) formatTo(text, kv), text += ' ';
          std::lock_guard lock(mu);
          totals[toMillis(t)] = text;
        });
    return ctx;
  }
};

void runBatches(StreamingContext& ctx, ManualClock& clock, const fs::path& in, int from, int to) {
  ASSERT_TRUE(testing::runFileBatches(ctx, clock, in, batchAt(0), from, to,
                                      [](int i) { return "w" + std::to_string(i % 3) + " common\n"; }));
}

// Root runs as root here, so permissions cannot make the directory unwritable: the directory
// is replaced by a regular file, and every write under it fails with ENOTDIR.
TEST(CheckpointFailuresTest, AFailedCheckpointWriteStopsTheContextWithThePathAndTheOsError) {
  testing::TempDir root;
  fs::path in = root / "in", ckpt = root / "ckpt";
  fs::create_directories(in);
  WordCount wc;
  auto clock = std::make_shared<ManualClock>(batchAt(0));
  auto ctx = wc.build(in, ckpt, clock);
  ctx->start();
  runBatches(*ctx, *clock, in, 1, 2);
  // Swapped in one step (RENAME_EXCHANGE): with a rename and then a write, a checkpoint write
  // in flight could fall between the two and see "No such file or directory" instead.
  testing::writeFile(root / "blocker", "not a directory");
  ASSERT_EQ(renameat2(AT_FDCWD, (root / "blocker").c_str(), AT_FDCWD, ckpt.c_str(), RENAME_EXCHANGE), 0)
      << std::strerror(errno);
  // Batch 3's checkpoint cannot be written; the context stops at the latest when batch 4 is
  // done (one checkpoint write is in flight while the next batch runs).
  (void)testing::runFileBatches(*ctx, *clock, in, batchAt(0), 3, 4, [](int) { return "x\n"; });  // ends once stopped
  std::string message;
  try {
    if (!ctx->awaitTerminationOrTimeout(Seconds(30))) ADD_FAILURE() << "the context did not stop";
    ADD_FAILURE() << "the context stopped without an error";
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(ckpt.string()), std::string::npos) << message;
  EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
  EXPECT_EQ(ctx->getState(), StreamingContext::State::kStopped);
}

struct Opaque {  // no dstream::Serializer
  int n = 0;
};

template <class Define>
std::string startError(Define define, bool withCheckpoint) {
  testing::TempDir root;
  StreamingContext ssc("local[1]", Seconds(1), {.clock = std::make_shared<ManualClock>(batchAt(0))});
  if (withCheckpoint) ssc.checkpoint((root / "ckpt").string());
  define(ssc.queueStream(std::make_shared<RDDQueue<std::string>>()));
  try {
    ssc.start();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
    return e.what();
  }
  ssc.stop();
  return "";
}

TEST(CheckpointFailuresTest, StateWithoutASerializerIsRefusedAtStartNamingTheStreamAndTheType) {
  auto withOpaqueState = [](DStream<std::string> words) {
    words.map([](const std::string& w) { return std::pair<std::string, int>(w, 1); })
        .updateStateByKey<Opaque>([](std::span<const int> ones, std::optional<Opaque> s) {
          Opaque o = s.value_or(Opaque{});
          o.n += static_cast<int>(ones.size());
          return std::optional<Opaque>(o);
        })
        .uid("opaque-counts")
        .foreachRDD([](const auto&) {});
  };
  std::string e = startError(withOpaqueState, true);
  EXPECT_NE(e.find("stream \"opaque-counts\""), std::string::npos) << e;
  EXPECT_NE(e.find("Opaque"), std::string::npos) << e;
  EXPECT_NE(e.find("Serializer"), std::string::npos) << e;
  EXPECT_EQ(startError(withOpaqueState, false), "") << "without a checkpoint directory nothing is checkpointed";

  auto opaqueWindow = [](DStream<std::string> words) {
    words.map([](const std::string& w) { return std::pair<std::string, Opaque>(w, Opaque{1}); })
        .reduceByKeyAndWindow([](Opaque a, const Opaque& b) { return Opaque{a.n + b.n}; },
                              [](Opaque a, const Opaque& b) { return Opaque{a.n - b.n}; }, Seconds(2), Seconds(1))
        .foreachRDD([](const auto&) {});
  };
  e = startError(opaqueWindow, true);
  EXPECT_NE(e.find("stream \"reduceByKeyAndWindow #"), std::string::npos) << e;
  EXPECT_NE(e.find("Opaque"), std::string::npos) << e;
}

TEST(CheckpointFailuresTest, AFreshContextOverAnotherRunsCheckpointsSaysSoAndNeverResumesThem) {
  testing::TempDir root;
  fs::path in = root / "in", ckpt = root / "ckpt";
  fs::create_directories(in);
  {  // the other run got further in time (batches 1..8)
    WordCount wc;
    auto clock = std::make_shared<ManualClock>(batchAt(0));
    auto ctx = wc.build(in, ckpt, clock);
    ctx->start();
    runBatches(*ctx, *clock, in, 1, 8);
    ctx->stop();
  }
  fs::path in2 = root / "in2";
  fs::create_directories(in2);
  WordCount fresh;
  {
    auto clock = std::make_shared<ManualClock>(batchAt(0));
    auto ctx = fresh.build(in2, ckpt, clock);  // no getOrCreate
    ::testing::internal::CaptureStderr();
    ctx->start();
    std::string warnings = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(std::count(warnings.begin(), warnings.end(), '\n'), 1) << warnings;
    EXPECT_NE(warnings.find(ckpt.string() + " holds another run's checkpoints"), std::string::npos) << warnings;
    EXPECT_NE(warnings.find("starting fresh"), std::string::npos) << warnings;
    EXPECT_NE(warnings.find("getOrCreate"), std::string::npos) << warnings;
    runBatches(*ctx, *clock, in2, 1, 2);
    ctx->stop();
  }
  // Only this run's checkpoints are left to resume from: a restart resumes it, at batch 3.
  EXPECT_FALSE(fs::exists(ckpt / "checkpoint-108000"));
  WordCount resumed;
  auto clock = std::make_shared<ManualClock>(batchAt(2));
  auto ctx = StreamingContext::getOrCreate(ckpt.string(), [&] { return resumed.build(in2, ckpt, clock); });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  runBatches(*ctx, *clock, in2, 3, 3);
  ctx->stop();
  ASSERT_EQ(resumed.totals.count(kBase + 3000), 1u);
  EXPECT_EQ(resumed.totals.at(kBase + 3000), "(common, 3) (w0, 1) (w1, 1) (w2, 1) ");
  // The other run's files were kept, aside.
  bool keptAside = false;
  for (const auto& e : fs::directory_iterator(ckpt)) {
    if (e.path().filename().string().rfind("previous-run-", 0) == 0) keptAside = fs::exists(e.path() / "checkpoint-108000");
  }
  EXPECT_TRUE(keptAside);
}

// The crash points (src/core/crash_point.h) are for the crash test's own program: the
// library must not kill a program that happens to run with DSTREAM_CRASH_POINT set. This
// runs the test above, which writes checkpoints, in a child with the variable set.
TEST(CheckpointFailuresTest, TheLibraryIgnoresTheCrashPointVariable) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  testing::ChildProcess child(
      {self, "--gtest_filter=CheckpointFailuresTest.AFreshContextOverAnotherRunsCheckpointsSaysSoAndNeverResumesThem"},
      {.env = {{"DSTREAM_CRASH_POINT", "checkpoint-before-write:1"}}});
  EXPECT_EQ(child.wait(), 0) << child.output();
}

}  // namespace
}  // namespace dstream
