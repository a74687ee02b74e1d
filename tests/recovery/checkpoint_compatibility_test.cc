// Checkpoints written by the previous graph layout: it named every fused narrow chain's node
// "map"; this one names it after its steps ("flatMap.map", "filter"). Only sources and
// stateful streams are matched by kind when a checkpoint loads, so such a checkpoint still
// loads and the state continues exactly; a stateful stream whose kind changed is refused,
// naming the stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "checkpoint/checkpoint_store.h"
#include "checkpoint/record_file.h"
#include "core/checkpoint_codec.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/files.h"

namespace dstream {
namespace {
namespace fs = std::filesystem;

constexpr long kBase = 100'000;  // the clock starts here; batch i is at kBase + i * 1000
using KV = std::pair<std::string, long>;

struct Outputs {
  std::mutex mu;
  std::map<long, std::string> totals;    // batch ms -> running counts (updateStateByKey)
  std::map<long, std::string> windowed;  // batch ms -> counts of the last 3 batches (inverse window)
};

void record(Outputs& out, std::map<long, std::string> Outputs::*field, const RDD<KV>& rdd, Time t) {
  auto kvs = rdd.collect();
  std::sort(kvs.begin(), kvs.end());
  std::string text;
  for (const auto& kv : kvs) formatTo(text, kv), text += ' ';
  std::lock_guard lock(out.mu);
  (out.*field)[toMillis(t)] = text;
}

struct Program {
  fs::path in, ckpt;
  std::string uid;                // of the running counts; empty: matched by position
  bool countsWithMapWithState = false;  // a different kind of stateful stream at the same place
};

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

// Two fused chains that become nodes (assigned to DStreams): "filter" and "flatMap.map".
std::unique_ptr<StreamingContext> build(const Program& p, std::shared_ptr<ManualClock> clock, Outputs& out) {
  auto ctx = std::make_unique<StreamingContext>("local[2]", Seconds(1), ContextOptions{.clock = clock});
  ctx->checkpoint(p.ckpt.string());
  ctx->setStateCheckpointInterval(Seconds(2));
  DStream<std::string_view> lines = ctx->textFileStream(p.in.string()).filter([](std::string_view l) {
    return !l.empty() && l.front() != '#';
  });
  DStream<KV> pairs = lines.flatMap([](std::string_view l) { return splitWords(l); }).map([](std::string_view w) {
    return KV(std::string(w), 1L);
  });
  DStream<KV> totals = p.countsWithMapWithState
                           ? DStream<KV>(pairs.mapWithState(StateSpec::function(
                                 [](const std::string& key, std::optional<long> v, State<long>& state) {
                                   long n = (state.exists() ? state.get() : 0) + v.value_or(0);
                                   state.update(n);
                                   return KV(key, n);
                                 })))
                           : DStream<KV>(pairs.updateStateByKey([](std::span<const long> vs, std::optional<long> s) {
                               return std::optional<long>(s.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L));
                             }));
  if (!p.uid.empty()) totals = totals.uid(p.uid);
  totals.foreachRDD([&out](const RDD<KV>& rdd, Time t) { record(out, &Outputs::totals, rdd, t); });
  pairs.reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1)).foreachRDD([&out](const RDD<KV>& rdd, Time t) {
    record(out, &Outputs::windowed, rdd, t);
  });
  return ctx;
}

// Batch i's lines: a comment and an empty line, which the filter drops, and words.
std::string inputOf(int i) {
  return "# batch " + std::to_string(i) + "\nw" + std::to_string(i % 3) + " v" + std::to_string(i % 4) +
         "\n\ncommon w" + std::to_string(i % 2) + "\n";
}

// Writes the input of batches from..to and runs them.
void runBatches(StreamingContext& ctx, ManualClock& clock, int from, int to, const fs::path& in) {
  ASSERT_TRUE(testing::runFileBatches(ctx, clock, in, timeFromMillis(kBase), from, to, inputOf));
}

// A fresh program's directories under one temp dir.
struct Dirs {
  testing::TempDir root;
  Program program() {
    fs::create_directories(root / "in");
    return Program{.in = root / "in", .ckpt = root / "ckpt", .uid = "", .countsWithMapWithState = false};
  }
};

// Runs batches 1..n of `p` with getOrCreate over its (empty) checkpoint directory.
void runFresh(const Program& p, int n, Outputs& out) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase));
  auto ctx = StreamingContext::getOrCreate(p.ckpt.string(), [&] { return build(p, clock, out); });
  ASSERT_FALSE(ctx->isRecovering());
  ctx->start();
  runBatches(*ctx, *clock, 1, n, p.in);
  ctx->stop();
}

// Whether `kind` is a fused narrow chain's, as the current layout names them.
bool isChainKind(const std::string& kind) {
  static const std::set<std::string> kSteps = {"map", "flatMap", "filter", "mapValues", "flatMapValues"};
  std::size_t from = 0;
  while (true) {
    std::size_t dot = kind.find('.', from);
    if (!kSteps.count(kind.substr(from, dot - from))) return false;
    if (dot == std::string::npos) return true;
    from = dot + 1;
  }
}

// Rewrites every graph checkpoint in `dir` as the previous layout wrote it: each fused chain's
// node of kind "map". Returns the chain kinds it replaced.
std::set<std::string> rewriteChainKindsAsMap(const fs::path& dir) {
  std::set<std::string> replaced;
  detail::CheckpointStore store(dir.string());
  auto files = store.listCheckpoints();
  EXPECT_FALSE(files.empty()) << "no checkpoint in " << dir;
  for (const auto& f : files) {
    auto read = detail::readVerified(f.path);
    if (!read.ok()) {
      ADD_FAILURE() << read.reason;
      continue;
    }
    auto graph = detail::decodeGraphCheckpoint(*read.payload, f.path.string());
    for (auto& node : graph.nodes) {
      if (node.hasState || node.isInput || !isChainKind(node.kind)) continue;
      replaced.insert(node.kind);
      node.kind = "map";
    }
    detail::writeAtomically(dir, f.path.filename().string(), detail::encodeGraphCheckpoint(graph));
  }
  return replaced;
}

TEST(CheckpointCompatibilityTest, ACheckpointThatNamesEveryChainMapStillLoadsAndTheStateContinuesExactly) {
  Outputs expected;
  {
    Dirs dirs;
    runFresh(dirs.program(), 9, expected);
  }
  Dirs dirs;
  Program p = dirs.program();
  {
    Outputs before;
    runFresh(p, 5, before);
    for (const auto& [t, text] : before.totals) EXPECT_EQ(text, expected.totals.at(t)) << t;
  }
  EXPECT_EQ(rewriteChainKindsAsMap(p.ckpt), (std::set<std::string>{"filter", "flatMap.map"}));
  for (const auto& f : detail::CheckpointStore(p.ckpt.string()).listCheckpoints()) {
    auto g = detail::decodeGraphCheckpoint(*detail::readVerified(f.path).payload, f.path.string());
    for (const auto& n : g.nodes) EXPECT_FALSE(isChainKind(n.kind) && n.kind != "map") << f.path << ": " << n.kind;
  }

  // Restarted at batch 5: the batches after the last state snapshot re-run at once, then 6..9.
  Outputs got;
  auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase + 5000));
  auto ctx = StreamingContext::getOrCreate(p.ckpt.string(), [&] { return build(p, clock, got); });
  ASSERT_TRUE(ctx->isRecovering());
  ctx->start();
  ASSERT_TRUE(dstream::testing::awaitBatchCompleted(*ctx, timeFromMillis(kBase + 5000), testing::kWaitTimeout));
  runBatches(*ctx, *clock, 6, 9, p.in);
  ctx->stop();
  EXPECT_NO_THROW(ctx->awaitTermination());

  // The snapshot is at batch 4 (interval 2 s): batch 5 re-runs from it.
  ASSERT_FALSE(got.totals.empty());
  EXPECT_EQ(got.totals.begin()->first, kBase + 5000);
  EXPECT_EQ(got.totals.rbegin()->first, kBase + 9000);
  EXPECT_EQ(got.windowed.begin()->first, kBase + 5000);
  EXPECT_EQ(got.windowed.rbegin()->first, kBase + 9000);
  for (const auto& [t, text] : got.totals) EXPECT_EQ(text, expected.totals.at(t)) << t;
  for (const auto& [t, text] : got.windowed) EXPECT_EQ(text, expected.windowed.at(t)) << t;
}

TEST(CheckpointCompatibilityTest, AStatefulStreamOfAnotherKindIsRefusedNamingTheStream) {
  for (std::string uid : {"", "totals"}) {
    SCOPED_TRACE("uid \"" + uid + "\"");
    Dirs dirs;
    Program p = dirs.program();
    p.uid = uid;
    Outputs out;
    runFresh(p, 2, out);
    rewriteChainKindsAsMap(p.ckpt);  // as the previous layout wrote it: refused for the state, not the chains
    Program changed = p;
    changed.countsWithMapWithState = true;
    auto clock = std::make_shared<ManualClock>(timeFromMillis(kBase + 2000));
    auto ctx = StreamingContext::getOrCreate(p.ckpt.string(), [&] { return build(changed, clock, out); });
    ASSERT_TRUE(ctx->isRecovering());
    try {
      ctx->start();
      ADD_FAILURE() << "start() accepted a checkpoint whose stateful stream is now another kind";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
      std::string named = uid.empty() ? "stream \"updateStateByKey #" : "stream \"totals\" is missing";
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.ckpt.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dstream
