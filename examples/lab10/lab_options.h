// Command-line options shared by the lab's programs: the lab's values are the defaults, and
// --scale shrinks every duration so that a demo shows several windows in seconds.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "dstream/dstream.h"
#ifdef DSTREAM_LAB_KAFKA
#include "dstream/kafka.h"
#endif

namespace lab {

struct Options {
  std::string master = "local[2]";
  double batchSeconds;            // the lab's StreamingContext(sc, N)
  double windowSeconds = 30;      // Step 6: countByWindow(30, 10)
  double slideSeconds = 10;
  double scale = 1;               // multiplies every duration (0.1: 10 s batches become 1 s)
  double runForSeconds = 0;       // stop gracefully after this long; 0 = until interrupted
  std::string host = "localhost";
  int port = 9999;
  std::string directory = "/tmp/datastreams";
  std::string outputPrefix = "/tmp/venues/venues";
  std::string checkpointDirectory = "/tmp/checkpointing";
  // --kafka: read the lines from a Kafka topic instead of the socket (one record per line).
  std::string kafkaBootstrap;
  std::string kafkaTopic = "meetups";
  std::string kafkaOffsetReset = "earliest";  // the lab replays files: read the topic from its start
  // Ctrl-C or SIGTERM stop the context gracefully (the received data is printed first), a
  // second one at once: Spark's spark.streaming.stopGracefullyOnShutdown.
  bool gracefulShutdown = true;

  explicit Options(double defaultBatchSeconds) : batchSeconds(defaultBatchSeconds) {}

  dstream::Duration scaled(double seconds) const {
    return dstream::Milliseconds(std::llround(seconds * scale * 1000));
  }
  dstream::Duration batch() const { return scaled(batchSeconds); }
  dstream::Duration window() const { return scaled(windowSeconds); }
  dstream::Duration slide() const { return scaled(slideSeconds); }
  dstream::ContextOptions context() const { return {.stopGracefullyOnShutdown = gracefulShutdown}; }
};

enum Needs : unsigned { kDirectory = 1, kSocket = 2, kWindow = 4, kOutput = 8, kCheckpoint = 16, kKafka = 32 };

inline void addOptions(CLI::App& app, Options& o, unsigned needs) {
  app.add_option("--master", o.master, "local, local[N] or local[*]")->capture_default_str();
  app.add_option("--batch", o.batchSeconds, "batch duration in seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--scale", o.scale, "multiply every duration by this factor (0.1 for a quick demo)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--run-for", o.runForSeconds, "stop gracefully after this many seconds (0: run until killed)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--graceful-shutdown,!--no-graceful-shutdown", o.gracefulShutdown,
               "Ctrl-C/SIGTERM stop gracefully, a second one at once (default on)");
  if (needs & kDirectory) app.add_option("--dir", o.directory, "directory to watch for new files")->capture_default_str();
  if (needs & kSocket) {
    app.add_option("--host", o.host, "host of the line server")->capture_default_str();
    app.add_option("--port", o.port, "port of the line server")->capture_default_str()->check(CLI::Range(1, 65535));
  }
  if (needs & kWindow) {
    app.add_option("--window", o.windowSeconds, "window length in seconds")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--slide", o.slideSeconds, "slide interval in seconds")->capture_default_str()->check(CLI::PositiveNumber);
  }
  if (needs & kOutput) app.add_option("--output", o.outputPrefix, "saveAsTextFiles prefix")->capture_default_str();
  if (needs & kCheckpoint) app.add_option("--checkpoint", o.checkpointDirectory, "checkpoint directory")->capture_default_str();
#ifdef DSTREAM_LAB_KAFKA
  if (needs & kKafka) {
    auto* kafka = app.add_option("--kafka", o.kafkaBootstrap,
                                 "read the lines from Kafka at these bootstrap servers (host:port,...) instead of the socket");
    app.add_option("--topic", o.kafkaTopic, "with --kafka: the topic, one line per record")->capture_default_str()->needs(kafka);
    app.add_option("--kafka-offset-reset", o.kafkaOffsetReset, "with --kafka: where a fresh start reads the topic from")
        ->capture_default_str()->check(CLI::IsMember({"earliest", "latest"}))->needs(kafka);
  }
#endif
}

// The lab's input lines: a Kafka topic's record values with --kafka (Spark's
// KafkaUtils.createDirectStream), else the socket (the lab's nc -lk 9999).
inline dstream::DStream<std::string_view> inputLines(dstream::StreamingContext& ssc, const Options& o) {
#ifdef DSTREAM_LAB_KAFKA
  if (!o.kafkaBootstrap.empty()) {
    dstream::kafka::DirectStreamOptions kafka;
    kafka.kafkaParams = {{"bootstrap.servers", o.kafkaBootstrap}, {"auto.offset.reset", o.kafkaOffsetReset}};
    kafka.topics = {o.kafkaTopic};
    return dstream::kafka::createDirectStream(ssc, kafka).map([](const dstream::kafka::ConsumerRecord& r) { return r.value; });
  }
#endif
  return ssc.socketTextStream(o.host, o.port);
}

// Starts the context and waits: until it stops, or for --run-for seconds and then stops it
// gracefully. Returns the process exit code; errors are printed, not thrown.
inline int runUntilDone(dstream::StreamingContext& ssc, const Options& o) {
  try {
    ssc.start();
    if (o.runForSeconds > 0) {
      auto limit = dstream::Milliseconds(std::llround(o.runForSeconds * 1000));
      if (!ssc.awaitTerminationOrTimeout(limit)) ssc.stop(/*stopGracefully=*/true);
    }
    ssc.awaitTermination();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace lab

namespace lab {

// The shared main(): parses the options (CLI11 prints help and errors), then runs `program`;
// a dstream::Error thrown while defining streams is printed, not left uncaught.
template <class Program>
int labMain(int argc, char** argv, const char* description, double defaultBatchSeconds, unsigned needs,
            Program program) {
  CLI::App app{description};
  Options o(defaultBatchSeconds);
  addOptions(app, o, needs);
  CLI11_PARSE(app, argc, argv);
  try {
    return program(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace lab
