// The victim of eos_crash_test: a direct stream over the partitions of topic --input (from
// where the sink's commits say, else from 0), each record's value
// written as "out-<value>" to topic --output by the exactly-once sink, with a checkpoint
// directory and getOrCreate, on the real clock. It runs until it is killed; after a kill -9 a
// new process with the same arguments resumes from the checkpoint. --record-delay-us slows
// the sink's value function so that kills often land inside a transaction;
// --after-write-delay-ms delays the end of each batch after its transaction committed, so that
// kills often land there too (the restart then re-runs a batch that had committed).
// --totals TOPIC also writes the running count of all records read (updateStateByKey), as
// "<count>@<batch ms>" under the key "total", exactly once with the id "<id>-totals";
// --crash-at POINT:N kills the process at the N-th pass through a crash point
// (src/core/crash_point.h).
//
//   eos_crash_program --bootstrap ADDR --checkpoint DIR --input in --output out --id eos-out-0
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "testing/crash_at.h"

int main(int argc, char** argv) {
  CLI::App app{"eos_crash_program: a direct stream written exactly-once to Kafka, for the crash test"};
  std::string bootstrap, checkpoint, input, output, id, totals, crashAt;
  int partitions = 2;
  long rate = 80, batchMs = 250, recordDelayUs = 0, afterWriteDelayMs = 0;
  app.add_option("--bootstrap", bootstrap)->required();
  app.add_option("--checkpoint", checkpoint)->required();
  app.add_option("--input", input)->required();
  app.add_option("--output", output)->required();
  app.add_option("--id", id, "the sink's transactionalId")->required();
  app.add_option("--partitions", partitions, "partitions of --input");
  app.add_option("--rate", rate, "maxRatePerPartition");
  app.add_option("--batch-ms", batchMs);
  app.add_option("--record-delay-us", recordDelayUs);
  app.add_option("--after-write-delay-ms", afterWriteDelayMs);
  app.add_option("--totals", totals, "topic for the running count of the records read");
  app.add_option("--crash-at", crashAt, "POINT:N, a crash point and the pass that kills the process");
  CLI11_PARSE(app, argc, argv);
  if (!crashAt.empty()) dstream::testing::crashAtNthPass(crashAt);

  auto build = [&] {
    dstream::ContextOptions options;
    options.ui.enabled = false;
    auto ssc = std::make_unique<dstream::StreamingContext>("local[2]", dstream::Duration(batchMs), options);
    ssc->checkpoint(checkpoint);
    dstream::kafka::DirectStreamOptions in;
    in.kafkaParams = {{"bootstrap.servers", bootstrap}, {"auto.offset.reset", "earliest"}};
    // Without a checkpoint yet, start where the committed batches ended.
    in.fromOffsets = dstream::kafka::committedInputOffsets(in.kafkaParams, output + ".dstream-commits", id);
    for (int p = 0; p < partitions; ++p) in.fromOffsets.try_emplace({input, p}, 0);
    in.maxRatePerPartition = rate;
    auto records = dstream::kafka::createDirectStream(*ssc, in);
    dstream::kafka::SinkOptions out;
    out.kafkaParams = {{"bootstrap.servers", bootstrap}};
    out.topic = output;
    out.transactionalId = id;
    out.offsetsOf = records;
    out.consumerGroupId = id + "-group";
    dstream::DStream<std::pair<std::string, std::string>> pairs = records.map([](const dstream::kafka::ConsumerRecord& r) {
      return std::pair<std::string, std::string>(r.key, "out-" + std::string(r.value));
    });
    dstream::kafka::writeToKafka(
        pairs, out, [](const std::pair<std::string, std::string>& kv) { return kv.first; },
        [recordDelayUs](const std::pair<std::string, std::string>& kv) {
          if (recordDelayUs > 0) std::this_thread::sleep_for(std::chrono::microseconds(recordDelayUs));
          return kv.second;
        });
    if (!totals.empty()) {
      auto count = records.map([](const dstream::kafka::ConsumerRecord&) { return std::pair<std::string, long>("total", 1L); })
                       .updateStateByKey<long>([](std::span<const long> ones, std::optional<long> n) {
                         return std::optional<long>(n.value_or(0) + static_cast<long>(ones.size()));
                       })
                       .uid("total");
      auto stamped = count.transform([](const dstream::RDD<std::pair<std::string, long>>& rdd, dstream::Time t) {
        return rdd.map([ms = dstream::toMillis(t)](const std::pair<std::string, long>& kv) {
          return std::pair<std::string, std::string>(kv.first, std::to_string(kv.second) + "@" + std::to_string(ms));
        });
      });
      dstream::kafka::SinkOptions totalsOut = out;
      totalsOut.topic = totals;
      totalsOut.transactionalId = id + "-totals";
      dstream::kafka::writeToKafka(
          stamped, totalsOut, [](const std::pair<std::string, std::string>& kv) { return kv.first; },
          [](const std::pair<std::string, std::string>& kv) { return kv.second; });
    }
    pairs.foreachRDD([afterWriteDelayMs](const dstream::RDD<std::pair<std::string, std::string>>&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(afterWriteDelayMs));
    });
    return ssc;
  };
  try {
    auto ssc = dstream::StreamingContext::getOrCreate(checkpoint, build);
    ssc->start();
    std::printf("started%s\n", ssc->isRecovering() ? " (recovering)" : "");
    std::fflush(stdout);
    ssc->awaitTermination();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eos_crash_program: %s\n", e.what());
    return 1;
  }
}
