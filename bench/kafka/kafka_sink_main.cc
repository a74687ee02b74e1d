// bench_kafka_sink: what exactly-once costs in writeToKafka. The same in-memory batches are
// written to dstream-kafka-mock by the idempotent (at-least-once) sink and by the exactly-once
// sink (a transaction per batch, its commit record), alternately, in the same run; prints one
// JSON line per measurement with records/s, ms per batch, the ratio of exactly-once to
// idempotent, and the load average.
//
//   bench_kafka_sink --records 200000 --batches 20 --partitions 6 --value-bytes 100
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "dstream/testing.h"
#include "kafka_bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double seconds = 0;                // every timed batch
  std::vector<double> batchMillis;   // each timed batch, from its clock tick to its completion
};

// A warm-up batch (connections, metadata, init_transactions), then `batches` timed batches of
// `perBatch` records each, one ManualClock tick at a time.
Result writeBatches(const std::string& bootstrap, const std::string& topic, const std::string& transactionalId,
                    const std::vector<std::string>& values, int batches, int threads) {
  auto clock = std::make_shared<dstream::ManualClock>(dstream::timeFromMillis(1'000'000));
  dstream::ContextOptions options;
  options.clock = clock;
  options.ui.enabled = false;
  dstream::StreamingContext ssc("local[" + std::to_string(threads) + "]", dstream::Seconds(1), options);
  auto queue = std::make_shared<dstream::RDDQueue<std::string>>();
  queue->push(std::vector<std::string>(values.begin(), values.begin() + std::min<std::size_t>(100, values.size())), threads);
  for (int b = 0; b < batches; ++b) queue->push(values, threads);
  dstream::kafka::SinkOptions o;
  o.kafkaParams = {{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}};
  o.topic = topic;
  o.transactionalId = transactionalId;
  dstream::kafka::writeToKafka(
      ssc.queueStream(queue), o, [](const std::string& v) { return std::string_view(v).substr(0, 8); },
      [](const std::string& v) { return std::string_view(v); });
  ssc.start();
  dstream::Time t = dstream::testing::firstBatchTime(ssc);
  auto run = [&](dstream::Time at) {
    clock->setTime(at);
    if (!dstream::testing::awaitBatchCompleted(ssc, at, dstream::Seconds(300))) throw std::runtime_error("a batch did not complete in 300 s");
  };
  run(t);
  Result result;
  auto start = Clock::now();
  for (int b = 1; b <= batches; ++b) {
    auto batchStart = Clock::now();
    run(t + dstream::Seconds(b));
    result.batchMillis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - batchStart).count());
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ssc.stop();
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_kafka_sink: the exactly-once Kafka sink next to the idempotent one, same batches, same run"};
  long records = 200'000;
  int batches = 20, partitions = 6, valueBytes = 100, threads = 2, rounds = 2;
  app.add_option("--records", records, "records written by each sink (over all timed batches)")->check(CLI::Range(1000L, 100'000'000L));
  app.add_option("--batches", batches, "timed batches")->check(CLI::Range(1, 10000));
  app.add_option("--partitions", partitions, "partitions of the output topics")->check(CLI::Range(1, 64));
  app.add_option("--value-bytes", valueBytes, "bytes per value")->check(CLI::Range(8, 1'000'000));
  app.add_option("--threads", threads, "local[N]")->check(CLI::Range(1, 64));
  app.add_option("--rounds", rounds, "runs of each sink, alternating; the best is shown")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string load = dstream::bench::loadAverage();
    std::vector<std::string> values;
    const long perBatch = std::max(1L, records / batches);
    for (long i = 0; i < perBatch; ++i) {
      std::string v = std::to_string(i);
      v.resize(static_cast<std::size_t>(valueBytes), 'x');
      values.push_back(std::move(v));
    }
    std::vector<std::string> topics;
    for (int r = 0; r < rounds; ++r) {
      for (const char* kind : {"idem", "eos"}) topics.push_back(std::string(kind) + std::to_string(r) + ":" + std::to_string(partitions));
    }
    topics.push_back("eos.dstream-commits:1");
    dstream::bench::MockProcess mock(topics);
    Result best[2];
    for (int r = 0; r < rounds; ++r) {
      for (int exactlyOnce : {0, 1}) {
        std::string topic = (exactlyOnce ? "eos" : "idem") + std::to_string(r);
        Result got = writeBatches(mock.bootstrap(), topic, exactlyOnce ? "bench-" + topic : "", values, batches, threads);
        if (r == 0 || got.seconds < best[exactlyOnce].seconds) best[exactlyOnce] = got;
      }
    }
    const double total = static_cast<double>(perBatch) * batches;
    const char* names[2] = {"idempotent sink (at-least-once)", "exactly-once sink (a transaction per batch)"};
    for (int exactlyOnce : {0, 1}) {
      const Result& res = best[exactlyOnce];
      std::printf("{\"measure\":\"%s\",\"records\":%.0f,\"batches\":%d,\"rps\":%.0f,\"ms_per_batch_median\":%.1f,"
                  "\"ms_per_batch_max\":%.1f,\"ratio_to_idempotent\":%.2f}\n",
                  names[exactlyOnce], total, batches, total / res.seconds, median(res.batchMillis),
                  *std::max_element(res.batchMillis.begin(), res.batchMillis.end()), best[0].seconds / res.seconds);
    }
    std::printf("{\"threads\":%d,\"partitions\":%d,\"value_bytes\":%d,\"rounds\":%d,\"load_average_before\":\"%s\","
                "\"load_average_after\":\"%s\"}\n",
                threads, partitions, valueBytes, rounds, load.c_str(), dstream::bench::loadAverage().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kafka_sink: %s\n", e.what());
    return 1;
  }
}
