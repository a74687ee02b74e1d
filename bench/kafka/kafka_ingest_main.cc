// bench_kafka_ingest: how fast records come from Kafka through dstream's direct stream, next to
// a plain librdkafka consumer loop (the baseline: assign every partition, poll until the end)
// reading the same topic of the same dstream-kafka-mock in the same run. Prints one JSON line
// per measurement with records/s, MB/s, the ratio to the loop and the load average.
//
//   bench_kafka_ingest --records 2000000 --partitions 6 --value-bytes 100
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/kafka.h"
#include "dstream/testing.h"
#include "kafka_bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;
using dstream::bench::loadAverage;

rd_kafka_t* client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) throw std::runtime_error(err);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(err);
  return rk;
}

void fill(const std::string& bootstrap, const std::string& topic, long records, int valueBytes) {
  rd_kafka_t* p = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"linger.ms", "20"}});
  std::string value(static_cast<std::size_t>(valueBytes), 'x');
  for (long i = 0; i < records; ++i) {
    std::string key = std::to_string(i % 100000);
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                             RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p, 5);
    }
  }
  if (rd_kafka_flush(p, 120000)) throw std::runtime_error("the mock did not acknowledge every record within 120 s");
  rd_kafka_destroy(p);
}

// The baseline: a consumer assigned every partition from the start, polling to the end.
double loopSeconds(const std::string& bootstrap, const std::string& topic, int partitions, long records, long* bytes) {
  rd_kafka_t* c = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", "bench-loop"},
                                             {"enable.auto.commit", "false"}});
  auto start = Clock::now();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  long seen = 0;
  *bytes = 0;
  while (seen < records) {
    if (Clock::now() - start > std::chrono::minutes(5)) throw std::runtime_error("the loop read " + std::to_string(seen) + " records in 5 minutes");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (!m) continue;
    if (!m->err) {
      ++seen;
      *bytes += static_cast<long>(m->len + m->key_len);
    }
    rd_kafka_message_destroy(m);
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return s;
}

// The direct stream: batches of a ManualClock, each capped by maxRatePerPartition so that
// `batches` batches read the topic; the clock moves on as soon as a batch completes.
double engineSeconds(const std::string& bootstrap, const std::string& topic, int threads, long records, int batches,
                     long* bytes) {
  auto clock = std::make_shared<dstream::ManualClock>(dstream::timeFromMillis(1'000'000));
  dstream::ContextOptions options;
  options.clock = clock;
  options.ui.enabled = false;
  dstream::StreamingContext ssc("local[" + std::to_string(threads) + "]", dstream::Seconds(1), options);
  dstream::kafka::DirectStreamOptions o;
  o.kafkaParams = {{"bootstrap.servers", bootstrap}, {"auto.offset.reset", "earliest"}};
  o.topics = {topic};
  int partitions = 0;
  {
    rd_kafka_t* c = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}});
    const rd_kafka_metadata_t* md;
    rd_kafka_metadata(c, 1, nullptr, &md, 10000);
    for (int i = 0; i < md->topic_cnt; ++i)
      if (topic == md->topics[i].topic) partitions = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(c);
  }
  o.maxRatePerPartition = (records / partitions) / batches + 1;
  std::atomic<long> seen{0}, seenBytes{0};
  dstream::kafka::createDirectStream(ssc, o).foreachRDD([&](const dstream::RDD<dstream::kafka::ConsumerRecord>& rdd) {
    long n = 0, b = 0;
    for (const auto& part : rdd.partitions())
      for (const auto& r : *part) {
        ++n;
        b += static_cast<long>(r.key.size() + r.value.size());
      }
    seen += n;
    seenBytes += b;
  });
  auto start = Clock::now();
  ssc.start();
  dstream::Time t = dstream::testing::firstBatchTime(ssc);
  while (seen.load() < records) {
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, dstream::Seconds(120))) throw std::runtime_error("batch did not complete");
    t += dstream::Seconds(1);
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  ssc.stop();
  *bytes = seenBytes.load();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_kafka_ingest: the Kafka direct stream next to a plain librdkafka consumer loop"};
  long records = 2'000'000;
  int partitions = 6, valueBytes = 100, batches = 10;
  app.add_option("--records", records, "records in the topic")->check(CLI::Range(1000L, 100'000'000L));
  app.add_option("--partitions", partitions, "partitions of the topic")->check(CLI::Range(1, 64));
  app.add_option("--value-bytes", valueBytes, "bytes per value")->check(CLI::Range(1, 1'000'000));
  app.add_option("--batches", batches, "batches the stream reads the topic in")->check(CLI::Range(1, 10000));
  CLI11_PARSE(app, argc, argv);
  try {
    dstream::bench::MockProcess mock({"ingest:" + std::to_string(partitions)});
    std::string load = loadAverage();
    auto fillStart = Clock::now();
    fill(mock.bootstrap(), "ingest", records, valueBytes);
    double fillS = std::chrono::duration<double>(Clock::now() - fillStart).count();
    long loopBytes = 0;
    double loopS = loopSeconds(mock.bootstrap(), "ingest", partitions, records, &loopBytes);
    std::printf("{\"measure\":\"produce (linger 20 ms)\",\"records\":%ld,\"rps\":%.0f}\n", records, records / fillS);
    std::printf("{\"measure\":\"plain librdkafka consumer loop\",\"records\":%ld,\"rps\":%.0f,\"MBps\":%.1f}\n", records,
                records / loopS, loopBytes / loopS / 1e6);
    for (int threads : {1, 2}) {
      long bytes = 0;
      double s = engineSeconds(mock.bootstrap(), "ingest", threads, records, batches, &bytes);
      std::printf("{\"measure\":\"direct stream local[%d], %d batches\",\"records\":%ld,\"rps\":%.0f,\"MBps\":%.1f,"
                  "\"ratio_to_loop\":%.2f}\n",
                  threads, batches, records, records / s, bytes / s / 1e6, loopS / s);
    }
    std::printf("{\"load_average_before\":\"%s\",\"load_average_after\":\"%s\"}\n", load.c_str(), loadAverage().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kafka_ingest: %s\n", e.what());
    return 1;
  }
}
