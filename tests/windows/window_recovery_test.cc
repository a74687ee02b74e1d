// Windows after a restart, in-process (issue 10): one program holds every window shape of
// the matrix (slides of 1, 2, 3 and 5 batches, windows of 2 to 30 batches, tumbling, a slide
// longer than the window) with every window operation (reduceByKeyAndWindow with and
// without an inverse, countByWindow, reduceByWindow, window().count()), plus running totals.
// It is stopped after every batch and restarted from its checkpoint with getOrCreate, so
// recovery starts from every possible point relative to the slides and the state snapshots
// (every batch, and the default interval). Every output of every life must equal the
// uninterrupted run's at the same batch time, and every batch and slide must be produced.
//
// Manual clock, 100 ms batches; the directories are on tmpfs when there is one (/dev/shm),
// where fsync is free, so the ~300 restarts take seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/files.h"

namespace dstream {
namespace {
namespace fs = std::filesystem;

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * kBatchMs
constexpr long kBatchMs = 100;
constexpr int kBatches = 52;     // longer than the longest window + slide + default interval

struct Shape {
  int window, slide;  // in batches
};
// Slides of 1, 2, 3 and 5 batches; windows of 2 to 30; tumbling (W = S); S > W (Spark's
// inverse semantics, see window_nodes.h).
constexpr Shape kShapes[] = {{2, 1},  {3, 1}, {10, 1}, {30, 1}, {2, 2},  {4, 2},  {10, 2}, {30, 2},
                             {3, 3},  {6, 3}, {9, 3},  {30, 3}, {5, 5},  {10, 5}, {30, 5}, {2, 3}};

// What the outputs produced: (output, batch ms) -> every value seen (one per life that ran it).
struct Seen {
  std::mutex mu;
  std::map<std::pair<std::string, long>, std::vector<std::string>> values;
  void add(const std::string& name, Time t, std::string value) {
    std::lock_guard lock(mu);
    values[{name, toMillis(t)}].push_back(std::move(value));
  }
};

template <class T>
std::string sortedText(const RDD<T>& rdd) {
  std::vector<std::string> items;
  for (const auto& x : rdd.collect()) {
    std::string s;
    formatTo(s, x);
    items.push_back(std::move(s));
  }
  std::sort(items.begin(), items.end());
  std::string text;
  for (const auto& s : items) text += s + " ";
  return text;
}

template <class Stream>
void record(const Stream& stream, const std::string& name, Seen& seen) {
  using T = typename Stream::value_type;
  stream.foreachRDD([&seen, name](const RDD<T>& rdd, Time t) { seen.add(name, t, sortedText(rdd)); });
}

std::string shapeName(const Shape& s) { return std::string("W") + std::to_string(s.window) + "S" + std::to_string(s.slide); }

std::unique_ptr<StreamingContext> build(const fs::path& in, const fs::path& ckpt, int interval,
                                        std::shared_ptr<ManualClock> clock, Seen& seen) {
  const Duration batch = Milliseconds(kBatchMs);
  auto ctx = std::make_unique<StreamingContext>("local[2]", batch, ContextOptions{.clock = clock});
  ctx->checkpoint(ckpt.string());
  if (interval > 0) ctx->setStateCheckpointInterval(interval * batch);
  // Each operation reads its own source: a window that makes its source remember (and
  // record) more batches must not cover for one that does not.
  auto wordsOf = [&] {
    return ctx->textFileStream(in.string())
        .flatMap([](std::string_view l) { return splitWords(l); })
        .map([](std::string_view w) { return std::string(w); });
  };
  auto pairsOf = [&] {
    return wordsOf().map([](const std::string& w) { return std::pair<std::string, long>(w, 1L); });
  };
  auto lengthsOf = [&] { return wordsOf().map([](const std::string& w) { return static_cast<long>(w.size()); }); };
  record(pairsOf().updateStateByKey<long>([](std::span<const long> ones, std::optional<long> total) {
           return std::optional<long>(total.value_or(0) + static_cast<long>(ones.size()));
         }),
         "totals", seen);
  auto plus = [](long a, long b) { return a + b; };
  auto minus = [](long a, long b) { return a - b; };
  for (const Shape& s : kShapes) {
    Duration w = s.window * batch, sl = s.slide * batch;
    std::string name = shapeName(s);
    record(pairsOf().reduceByKeyAndWindow(plus, minus, w, sl), "inverse " + name, seen);
    record(pairsOf().reduceByKeyAndWindow(plus, minus, w, sl, 0,
                                          [](const std::pair<std::string, long>& kv) { return kv.second != 0; }),
           "inverse-filtered " + name, seen);
    record(wordsOf().countByWindow(w, sl), "countByWindow " + name, seen);
    record(lengthsOf().reduceByWindow(plus, minus, w, sl), "reduceByWindow-inverse " + name, seen);
    record(pairsOf().reduceByKeyAndWindow(plus, w, sl), "reduce " + name, seen);
    record(lengthsOf().reduceByWindow(plus, w, sl), "reduceByWindow " + name, seen);
    record(wordsOf().window(w, sl).count(), "window " + name, seen);
  }
  return ctx;
}

// Batch i's input: a few words, the same in every run; every 7th batch has none, so keys
// leave windows and windows empty out.
void writeInput(const fs::path& in, int i) {
  if (i % 7 == 4) return;
  static const char* kWords[] = {"apple", "fig", "kiwi", "lime", "pear"};
  std::string text;
  for (int j = 0; j < 1 + (i * 5) % 4; ++j) text += std::string(kWords[(i * 3 + j * (i % 4 + 1)) % 5]) + " ";
  testing::writeFileAt(in, "part-" + std::to_string(i), text + "\n", timeFromMillis(kBase + i * kBatchMs - kBatchMs / 2));
}

Time batchTime(int i) { return timeFromMillis(kBase + i * kBatchMs); }

// A directory on tmpfs when there is one (~150 restarts write many files), removed at scope exit.
struct FastDir {
  FastDir() { fs::create_directories(in()); }
  fs::path in() const { return root / "in"; }
  fs::path ckpt() const { return root / "ckpt"; }

  testing::TempDir root{"dstream-window-recovery", fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp"};
};

// Runs batches 1..kBatches without a stop; returns output -> batch ms -> value.
std::map<std::pair<std::string, long>, std::string> uninterrupted() {
  FastDir dir;
  Seen seen;
  auto clock = std::make_shared<ManualClock>(batchTime(0));
  auto ctx = build(dir.in(), dir.ckpt(), 1, clock, seen);
  ctx->start();
  EXPECT_TRUE(testing::runNumberedBatches(*ctx, *clock, batchTime(0), 1, kBatches, [&](int i) { writeInput(dir.in(), i); }));
  ctx->stop();
  std::map<std::pair<std::string, long>, std::string> out;
  for (auto& [key, values] : seen.values) {
    EXPECT_EQ(values.size(), 1u) << key.first << " at " << key.second;
    out[key] = values.front();
  }
  return out;
}

// Each life runs one new batch (and re-runs those after the snapshot), then stops; the next
// starts from the checkpoint. `stride` batches per life.
void restartEveryBatch(int interval, int stride) {
  static const auto expected = uninterrupted();
  // The uninterrupted run saw the input: its last totals count every word.
  ASSERT_EQ(expected.count({"totals", kBase + kBatches * kBatchMs}), 1u);
  EXPECT_EQ(expected.at({"totals", kBase + kBatches * kBatchMs}),
            "(apple, 21) (fig, 23) (kiwi, 21) (lime, 24) (pear, 23) ");
  FastDir dir;
  Seen seen;
  int done = 0;
  int lives = 0;
  while (done < kBatches) {
    auto clock = std::make_shared<ManualClock>(batchTime(done));
    auto ctx = StreamingContext::getOrCreate(dir.ckpt().string(), [&] { return build(dir.in(), dir.ckpt(), interval, clock, seen); });
    ASSERT_EQ(ctx->isRecovering(), done > 0) << "life " << lives;
    ctx->start();
    // Batches after the snapshot, up to `done`, are re-run at once, before the next one.
    ASSERT_TRUE(testing::runNumberedBatches(*ctx, *clock, batchTime(0), done + 1, std::min(kBatches, done + stride),
                                            [&](int i) { writeInput(dir.in(), i); }));
    ctx->stop();
    done = std::min(kBatches, done + stride);
    ++lives;
  }
  int wrong = 0;
  for (const auto& [key, values] : seen.values) {
    auto it = expected.find(key);
    ASSERT_NE(it, expected.end()) << key.first << " at " << key.second << " is not in the uninterrupted run";
    for (const auto& v : values) {
      if (v != it->second && ++wrong <= 20) {
        ADD_FAILURE() << key.first << " at batch " << (key.second - kBase) / kBatchMs << " after restarts: got \"" << v
                      << "\", uninterrupted: \"" << it->second << "\"";
      }
    }
  }
  EXPECT_EQ(wrong, 0) << "outputs differ from the uninterrupted run";
  for (const auto& [key, value] : expected) {
    EXPECT_TRUE(seen.values.count(key)) << key.first << " at " << key.second << " was never produced";
  }
}

TEST(WindowRecoveryTest, RestartedAfterEveryBatchWithASnapshotEveryBatchEveryWindowIsExact) { restartEveryBatch(1, 1); }

TEST(WindowRecoveryTest, RestartedAfterEveryBatchWithTheDefaultSnapshotIntervalEveryWindowIsExact) {
  restartEveryBatch(0, 1);
}

// Longer lives: several windows slide between restarts, and restarts fall at other phases
// of the default snapshot interval.
TEST(WindowRecoveryTest, RestartedEveryFewBatchesEveryWindowIsExact) {
  restartEveryBatch(0, 3);
  restartEveryBatch(4, 7);
}

}  // namespace
}  // namespace dstream
