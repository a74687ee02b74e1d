// The program the crash test kills: a word count over a watched directory (or a socket with
// the write-ahead log) with updateStateByKey, recovered with getOrCreate on every start. Outputs, all with
// saveAsTextFiles under <out>: totals-<t> (running counts per word), batch-<t> (words in the
// batch), window-<t> (words in the last 3 batches). It stops gracefully once the file
// <out>/../stop exists and the batches after it have run.
//
//   crash_program file <in dir> <out dir> <checkpoint dir>
//   crash_program socket <port> <out dir> <checkpoint dir>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <thread>

#include "dstream/dstream.h"
#include "recovery/running_count.h"

using namespace dstream;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: crash_program file|socket <in dir|port> <out dir> <checkpoint dir>\n");
    return 2;
  }
  std::string mode = argv[1], source = argv[2], out = argv[3], ckpt = argv[4];
  const Duration batch = Milliseconds(100);
  auto ssc = StreamingContext::getOrCreate(ckpt, [&] {
    auto ctx = std::make_unique<StreamingContext>("local[2]", batch);
    ctx->checkpoint(ckpt);
    ctx->setStateCheckpointInterval(Milliseconds(500));
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
    words.window(Milliseconds(300), batch).count().saveAsTextFiles(out + "/window");
    return ctx;
  });
  ssc->start();
  std::filesystem::path stop = std::filesystem::path(out).parent_path() / "stop";
  while (!std::filesystem::exists(stop)) {
    if (ssc->awaitTerminationOrTimeout(Milliseconds(20))) return 1;  // a batch failed
  }
  // Everything written before the stop file has a modification time before now.
  Time until = floorTo(ssc->clock().now(), batch) + 2 * batch;
  ssc->core()->awaitBatchCompleted(until, Seconds(60));
  ssc->stop(true);
  ssc->awaitTermination();
  return 0;
}
