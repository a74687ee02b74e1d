// Context-level operations, queueStream's options, text formatting and saveAsTextFiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/files.h"

namespace dstream {
namespace {

// Runs `n` batches of a context on a manual clock.
void runBatches(StreamingContext& ssc, ManualClock& clock, int n) {
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, clock, n));
  ssc.stop();
}

TEST(ContextOperationsTest, UnionOfSeveralStreamsAndTransformOverThem) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto q1 = std::make_shared<RDDQueue<int>>(), q2 = std::make_shared<RDDQueue<int>>(), q3 = std::make_shared<RDDQueue<int>>();
  auto qs = std::make_shared<RDDQueue<std::string>>();
  q1->push({1});
  q2->push({2, 3});
  q3->push(std::vector<int>{});
  qs->push({"x", "y"});
  auto a = ssc.queueStream(q1), b = ssc.queueStream(q2), c = ssc.queueStream(q3);
  auto words = ssc.queueStream(qs);
  std::vector<int> unioned;
  std::vector<std::string> combined;
  ssc.union_<int>({a, b, c}).foreachRDD([&](const RDD<int>& r) { unioned = r.collect(); });
  ssc.transform([](const RDD<int>& x, const RDD<std::string>& w, Time t) {
          std::vector<std::string> out;
          for (int v : x.collect())
            for (const auto& s : w.collect()) out.push_back(s + std::to_string(v) + "@" + std::to_string(toMillis(t)));
          return RDD<std::string>::fromPartitions({out});
        }, b, words)
      .foreachRDD([&](const RDD<std::string>& r) { combined = r.collect(); });
  runBatches(ssc, *clock, 1);
  std::sort(unioned.begin(), unioned.end());
  EXPECT_EQ(unioned, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(combined, (std::vector<std::string>{"x2@1000", "y2@1000", "x3@1000", "y3@1000"}));
}

TEST(ContextOperationsTest, UnionOfNoStreamsIsAnError) {
  StreamingContext ssc("local", Seconds(1));
  EXPECT_THROW(ssc.union_<int>({}), Error);
}

TEST(ContextOperationsTest, UnionOfDifferentSlidesIsAnError) {
  StreamingContext ssc("local", Seconds(1));
  auto s = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  EXPECT_THROW(s.union_(s.window(Seconds(2), Seconds(2))), Error);
}

TEST(ContextOperationsTest, TransformWithPairsBatchesOfTwoStreams) {
  auto out = testing::runStream<int>({{1, 2}, {}, {3}}, [](auto s) {
    auto tens = s.map([](int x) { return x * 10; });
    return s.transformWith(tens, [](const RDD<int>& a, const RDD<int>& b) {
      return RDD<long>::fromPartitions({{a.count() * 100 + b.count()}});
    });
  });
  EXPECT_EQ(out, (std::vector<std::vector<long>>{{202}, {0}, {101}}));
}

TEST(QueueStreamTest, AllQueuedBatchesAtOnceAndTheDefaultWhenEmpty) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<int>>();
  q->push({1});
  q->push({2, 3});
  std::vector<std::vector<int>> seen;
  ssc.queueStream(q, /*oneAtATime=*/false, RDD<int>::fromPartitions({{-1}})).foreachRDD([&](const RDD<int>& r) {
    auto v = r.collect();
    std::sort(v.begin(), v.end());
    seen.push_back(v);
  });
  runBatches(ssc, *clock, 2);
  EXPECT_EQ(seen, (std::vector<std::vector<int>>{{1, 2, 3}, {-1}}));
}

TEST(FormatTest, BuiltInTextForms) {
  EXPECT_EQ(toText(std::pair<std::string, long>("a", 1)), "(a, 1)");
  EXPECT_EQ(toText(std::tuple<int, std::string, double>(1, "b", 2.5)), "(1, b, 2.5)");
  EXPECT_EQ(toText(std::optional<int>()), "None");
  EXPECT_EQ(toText(std::optional<int>(3)), "3");
  EXPECT_EQ(toText(std::vector<int>{1, 2}), "[1, 2]");
  EXPECT_EQ(toText(std::map<std::string, int>{{"k", 1}, {"l", 2}}), "{k: 1, l: 2}");
  EXPECT_EQ(toText(2.0), "2.0");
  EXPECT_EQ(toText(0.1), "0.1");
  EXPECT_EQ(toText(true), "true");
  EXPECT_EQ(toText(std::string_view("view")), "view");
}

TEST(SaveAsTextFilesTest, OneCompleteDirectoryPerBatchAndAReRunReplacesIt) {
  testing::TempDir tmp("dstream-save");
  const std::filesystem::path& dir = tmp.path();
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto q = std::make_shared<RDDQueue<std::pair<std::string, int>>>();
  q->push({{"a", 1}, {"b", 2}, {"c", 3}}, 2);
  ssc.queueStream(q).saveAsTextFiles((dir / "out").string(), "txt");
  runBatches(ssc, *clock, 2);
  auto batch = dir / "out-1000.txt";
  ASSERT_TRUE(std::filesystem::exists(batch / "_SUCCESS"));
  using testing::readFile;
  EXPECT_EQ(readFile(batch / "part-00000"), "(a, 1)\n");
  EXPECT_EQ(readFile(batch / "part-00001"), "(b, 2)\n(c, 3)\n");
  EXPECT_TRUE(std::filesystem::exists(dir / "out-2000.txt" / "_SUCCESS"));  // an empty batch: a directory too
  // A re-run of batch 1000 (as after a crash) with a stale temporary directory left behind.
  std::filesystem::create_directory(dir / ".out-1000.txt.tmp-1-1");
  detail::writeBatchDirectory(batch.string(), {"(a, 1)\n", "(b, 2)\n(c, 3)\n"});
  EXPECT_EQ(readFile(batch / "part-00001"), "(b, 2)\n(c, 3)\n");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"out-1000.txt", "out-2000.txt"}));
}

TEST(SaveAsTextFilesTest, AnUnwritableLocationFailsTheBatchWithThePath) {
  testing::TempDir tmp("dstream-save");
  std::filesystem::path file = tmp / "a-file";
  testing::writeFile(file, "x");
  EXPECT_THROW(
      {
        try {
          detail::writeBatchDirectory((file / "out-1000").string(), {"x\n"});
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("a-file"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace dstream

namespace dstream {
namespace {

TEST(StreamCheckpointIntervalTest, SetsHowOftenStateIsSnapshotted) {
  testing::TempDir tmp("dstream-ckpt");
  const std::string tmpl = tmp.path().string();
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local", Seconds(1), {.clock = clock});
  ssc.checkpoint(tmpl);
  auto q = std::make_shared<RDDQueue<std::pair<std::string, long>>>();
  for (int i = 0; i < 4; ++i) q->push({{"a", 1}});
  ssc.queueStream(q)
      .updateStateByKey([](std::span<const long> vs, std::optional<long> s) {
        return std::optional<long>(s.value_or(0) + static_cast<long>(vs.size()));
      })
      .checkpoint(Seconds(2))
      .pprint();
  ::testing::internal::CaptureStdout();
  runBatches(ssc, *clock, 4);
  ::testing::internal::GetCapturedStdout();
  std::vector<std::string> states;
  for (const auto& e : std::filesystem::directory_iterator(tmpl)) {
    auto name = e.path().filename().string();
    if (name.rfind("state-", 0) == 0) states.push_back(name);
  }
  std::sort(states.begin(), states.end());
  // The start checkpoint snapshots the state as it begins; then every 2 s (the default would
  // be every 10 s).
  EXPECT_EQ(states, (std::vector<std::string>{"state-0", "state-2000", "state-4000"}));
}

TEST(StreamCheckpointIntervalTest, RejectsAnIntervalThatIsNotAMultipleOfTheSlide) {
  StreamingContext ssc("local", Seconds(1));
  auto s = ssc.queueStream(std::make_shared<RDDQueue<int>>());
  try {
    s.checkpoint(Milliseconds(1500));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "dstream: checkpoint: interval 1500ms must be a positive multiple of the stream's slide 1s");
  }
}

}  // namespace
}  // namespace dstream
