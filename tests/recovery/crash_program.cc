// The program the crash test kills: a word count over a watched directory (or a socket with
// the write-ahead log) with updateStateByKey, recovered with getOrCreate on every start. Outputs, all with
// saveAsTextFiles under <out>: totals-<t> (running counts per word), batch-<t> (words in the
// batch), window-<t> (countByWindow: words in the last W batches, every S batches, the
// incremental window) and plainwindow-<t> (the same with window().count(), recomputed from
// the batches). It stops gracefully once the file <out>/../stop exists and the batches after
// it have run.
//
//   crash_program file <in dir> <out dir> <checkpoint dir> [W S [state interval]]
//   crash_program socket <port> <out dir> <checkpoint dir> [W S [state interval]]
//
// W, S: the window and slide in batches (default 3 and 1); state interval: in batches, or
// "default" for the engine's default (default 5). Batches are 100 ms, or the environment's
// DSTREAM_CRASH_BATCH_MS.
//
// Test hooks: DSTREAM_CRASH_POINT=<name>:<n> SIGKILLs the process at the n-th pass through
// a named crash point (src/core/crash_point.h). The log gets "started <wall ms>" first, then
// "completed <batch ms> <wall ms>" per batch, which the crash test reads for recovery times.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <thread>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "recovery/running_count.h"
#include "testing/crash_at.h"

using namespace dstream;

namespace {

long wallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ProgressLog final : public StreamingListener {
 public:
  void onBatchCompleted(const BatchInfo& info) override {
    if (!info.failureReason) std::printf("completed %ld %ld\n", static_cast<long>(toMillis(info.batchTime)), wallMillis());
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::printf("started %ld\n", wallMillis());
  std::fflush(stdout);
  if (argc != 5 && argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: crash_program file|socket <in dir|port> <out dir> <checkpoint dir> [W S [interval]]\n");
    return 2;
  }
  if (const char* point = std::getenv("DSTREAM_CRASH_POINT")) testing::crashAtNthPass(point);
  std::string mode = argv[1], source = argv[2], out = argv[3], ckpt = argv[4];
  const char* batchMs = std::getenv("DSTREAM_CRASH_BATCH_MS");
  const Duration batch = Milliseconds(batchMs ? std::atol(batchMs) : 100);
  const int windowBatches = argc >= 7 ? std::atoi(argv[5]) : 3;
  const int slideBatches = argc >= 7 ? std::atoi(argv[6]) : 1;
  const std::string interval = argc == 8 ? argv[7] : "5";
  auto ssc = StreamingContext::getOrCreate(ckpt, [&] {
    auto ctx = std::make_unique<StreamingContext>("local[2]", batch);
    ctx->checkpoint(ckpt);
    if (interval != "default") ctx->setStateCheckpointInterval(std::stoi(interval) * batch);
    DStream<std::string_view> lines =
        mode == "file" ? ctx->textFileStream(source, {.newFilesOnly = false})  // input written before the first start counts
                       : ctx->socketTextStream("127.0.0.1", std::stoi(source),
                                               {.retryInterval = Milliseconds(50), .blockInterval = Milliseconds(50),
                                                .writeAheadLog = true});
    auto words = test::wordsOf(lines);
    words.map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); })
        .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> total) {
          return std::optional<long>(total.value_or(0) + static_cast<long>(ones.size()));
        })
        .uid("running-count")
        .saveAsTextFiles(out + "/totals");
    words.count().saveAsTextFiles(out + "/batch");
    words.countByWindow(windowBatches * batch, slideBatches * batch).saveAsTextFiles(out + "/window");
    words.window(windowBatches * batch, slideBatches * batch).count().saveAsTextFiles(out + "/plainwindow");
    return ctx;
  });
  ssc->addStreamingListener(std::make_shared<ProgressLog>());
  ssc->start();
  std::filesystem::path stop = std::filesystem::path(out).parent_path() / "stop";
  while (!std::filesystem::exists(stop)) {
    if (ssc->awaitTerminationOrTimeout(Milliseconds(20))) return 1;  // a batch failed
  }
  // Everything written before the stop file has a modification time before now.
  Time until = floorTo(ssc->clock().now(), batch) + 2 * batch;
  dstream::testing::awaitBatchCompleted(*ssc, until, Seconds(60));
  ssc->stop(true);
  ssc->awaitTermination();
  return 0;
}
