// Checkpoint overhead: a windowed word count plus a running count (state snapshotted every
// 10 batches) over pre-generated in-memory batches, driven by a ManualClock as fast as the
// batches finish, once without and once with ssc.checkpoint(dir) (a checkpoint file per
// batch, fsynced). Prints records/s for both and the ratio.
//
//   bench_checkpoint_overhead [batches=60] [lines per batch=20000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "recovery/running_count.h"

using namespace dstream;

namespace {

double run(const std::vector<std::vector<std::string>>& batches, const std::string& checkpointDir, long& checksum) {
  auto clock = std::make_shared<ManualClock>(timeFromMillis(1'000'000));
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  if (!checkpointDir.empty()) ssc.checkpoint(checkpointDir);
  auto queue = std::make_shared<RDDQueue<std::string_view>>();
  for (const auto& b : batches) queue->push(std::vector<std::string_view>(b.begin(), b.end()), 2);
  auto words = test::wordsOf(ssc.queueStream(queue));
  std::atomic<long> seen{0};
  words.map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
      .reduceByKey([](long a, long b) { return a + b; })
      .map([](const std::pair<std::string_view, long>& kv) { return std::pair<std::string, long>(std::string(kv.first), kv.second); })
      .window(Seconds(10), Seconds(1))
      .reduceByKey([](long a, long b) { return a + b; })
      .foreachRDD([&seen](const RDD<std::pair<std::string, long>>& rdd) { seen += rdd.count(); });
  test::runningCount(words, "totals").foreachRDD([&seen](const RDD<std::pair<std::string, long>>& rdd) { seen += rdd.count(); });
  ssc.start();
  auto begin = std::chrono::steady_clock::now();
  Time first = dstream::testing::firstBatchTime(ssc);
  for (std::size_t i = 0; i < batches.size(); ++i) {
    Time t = first + Seconds(1) * static_cast<long>(i);
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, Seconds(120))) {
      std::fprintf(stderr, "batch %zu did not complete\n", i);
      std::exit(1);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ssc.stop();
  checksum += seen.load();
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int numBatches = argc > 1 ? std::atoi(argv[1]) : 60;
  int linesPerBatch = argc > 2 ? std::atoi(argv[2]) : 20000;
  std::mt19937 rng(42);
  std::vector<std::vector<std::string>> batches(numBatches);
  for (auto& b : batches) {
    for (int i = 0; i < linesPerBatch; ++i) {
      std::string line;
      for (int w = 0; w < 8; ++w) line += "word" + std::to_string(std::uniform_int_distribution(0, 9999)(rng)) + " ";
      b.push_back(std::move(line));
    }
  }
  auto dir = std::filesystem::temp_directory_path() / ("dstream-bench-ckpt-" + std::to_string(::getpid()));
  double records = static_cast<double>(numBatches) * linesPerBatch;
  long a = 0, b = 0;
  run(batches, "", a);  // warm-up
  double plain = run(batches, "", a);
  double checkpointed = run(batches, dir.string(), b);
  std::filesystem::remove_all(dir);
  std::printf("batches=%d lines/batch=%d words/line=8 window=10 batches state snapshot every 10 batches\n", numBatches,
              linesPerBatch);
  std::printf("without checkpoint: %.0f lines/s (%.3f s)\n", records / plain, plain);
  std::printf("with checkpoint:    %.0f lines/s (%.3f s)\n", records / checkpointed, checkpointed);
  std::printf("ratio (with/without): %.3f%s\n", plain / checkpointed, a / 2 == b ? "" : "  (outputs differ!)");
  return 0;
}
