// dstream-kafka-mock: runs librdkafka's mock Kafka cluster (rdkafka_mock.h) in its own process
// and prints its bootstrap address, so that tests, demos and users without a broker can run
// dstream's Kafka source and sink against it exactly as against a real cluster: through the
// address only. The brokers listen on 127.0.0.1, on ports the kernel picks.
//
// Standard output, line by line: first "bootstrap.servers=<host:port,...>" (also written to
// --bootstrap-file, atomically), then one "ok ..." or "error ..." line per command read from
// standard input, so a test can drive the cluster (create topics, take brokers down, inject
// errors) from another process. Ends on SIGINT or SIGTERM, or when standard input closes with
// --exit-on-eof.
//
// Commands (one per line; '#' starts a comment):
//   topic NAME PARTITIONS [REPLICATION]   create a topic
//   down BROKER_ID | up BROKER_ID         take a broker down or bring it back (ids 1..N)
//   rtt BROKER_ID MILLISECONDS            delay a broker's responses
//   errors APIKEY ERROR_CODE COUNT        the next COUNT requests of Kafka API APIKEY (e.g. 1 =
//                                         Fetch, 0 = Produce) fail with ERROR_CODE (Kafka's
//                                         numeric codes, e.g. 6 = NOT_LEADER_OR_FOLLOWER)
//   topic-error NAME ERROR_CODE           metadata requests for NAME fail with ERROR_CODE
//                                         (0 clears it)
//   clear-errors APIKEY                   forget the queued errors of an API
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.h"
#include "dstream/error.h"
#include "util/file_io.h"

namespace {

volatile std::sig_atomic_t gSignal = 0;
void onSignal(int sig) { gSignal = sig; }

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* mc) const { rd_kafka_mock_cluster_destroy(mc); }
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

// "NAME:PARTITIONS" or "NAME" (one partition).
TopicSpec parseTopicSpec(const std::string& text) {
  TopicSpec spec;
  auto colon = text.rfind(':');
  spec.name = text.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      std::size_t used = 0;
      spec.partitions = std::stoi(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      spec.partitions = 0;
    }
  }
  if (spec.name.empty() || spec.partitions < 1 || spec.partitions > 10000) {
    throw dstream::Error(dstream::ErrorCode::kInvalidArgument,
                         "--topic '" + text + "': expected NAME:PARTITIONS with 1..10000 partitions, e.g. orders:6");
  }
  return spec;
}

std::string describe(rd_kafka_resp_err_t err) { return rd_kafka_err2name(err); }

// Runs one command line; returns the reply ("ok ..." or "error ...").
std::string runCommand(rd_kafka_mock_cluster_t* mc, int brokers, const std::string& line) {
  std::istringstream in(line.substr(0, line.find('#')));
  std::string verb;
  if (!(in >> verb)) return "";
  auto brokerId = [&](long id) {
    if (id < 1 || id > brokers) {
      throw dstream::Error(dstream::ErrorCode::kInvalidArgument,
                           "broker id " + std::to_string(id) + " is not in 1.." + std::to_string(brokers));
    }
    return static_cast<int32_t>(id);
  };
  auto reply = [&](rd_kafka_resp_err_t err) {
    return err ? "error " + verb + ": " + describe(err) : "ok " + line.substr(0, line.find('#'));
  };
  long a = 0, b = 0, c = 0;
  std::string name;
  try {
    if (verb == "topic" && in >> name >> a) {
      if (!(in >> b)) b = std::min(brokers, 3);
      if (a < 1 || b < 1 || b > brokers) return "error topic: partitions must be >= 1 and replication in 1.." + std::to_string(brokers);
      return reply(rd_kafka_mock_topic_create(mc, name.c_str(), static_cast<int>(a), static_cast<int>(b)));
    }
    if (verb == "down" && in >> a) return reply(rd_kafka_mock_broker_set_down(mc, brokerId(a)));
    if (verb == "up" && in >> a) return reply(rd_kafka_mock_broker_set_up(mc, brokerId(a)));
    if (verb == "rtt" && in >> a >> b && b >= 0) return reply(rd_kafka_mock_broker_set_rtt(mc, brokerId(a), static_cast<int>(b)));
    if (verb == "errors" && in >> a >> b >> c && a >= 0 && c >= 1) {
      std::vector<rd_kafka_resp_err_t> errs(static_cast<std::size_t>(c), static_cast<rd_kafka_resp_err_t>(b));
      rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(a), errs.size(), errs.data());
      return reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (verb == "topic-error" && in >> name >> b) {
      rd_kafka_mock_topic_set_error(mc, name.c_str(), static_cast<rd_kafka_resp_err_t>(b));
      return reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (verb == "clear-errors" && in >> a && a >= 0) {
      rd_kafka_mock_clear_request_errors(mc, static_cast<int16_t>(a));
      return reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  } catch (const dstream::Error& e) {
    return "error " + verb + ": " + std::string(dstream::detail::withoutDstreamPrefix(e.what()));
  }
  return "error: cannot read '" + line + "'; commands: topic NAME PARTITIONS [REPLICATION], down ID, up ID, "
         "rtt ID MS, errors APIKEY CODE COUNT, topic-error NAME CODE, clear-errors APIKEY";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream-kafka-mock: librdkafka's mock Kafka cluster on 127.0.0.1, for tests and demos"};
  int brokers = 3;
  std::vector<std::string> topics;
  std::string bootstrapFile;
  bool exitOnEof = false;
  app.add_option("--brokers", brokers, "brokers in the cluster")->check(dstream::tools::wholeNumber(1, 16));
  app.add_option("--topic", topics, "create a topic at start: NAME:PARTITIONS (repeatable)");
  app.add_option("--bootstrap-file", bootstrapFile, "also write the bootstrap address to this file");
  app.add_flag("--exit-on-eof", exitOnEof, "end when standard input closes (a parent that dies takes the cluster with it)");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<TopicSpec> specs;
    for (const auto& t : topics) specs.push_back(parseTopicSpec(t));

    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the cluster's thread; it never connects anywhere.
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    std::unique_ptr<rd_kafka_t, KafkaHandleDeleter> host(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));
    if (!host) throw dstream::Error(dstream::ErrorCode::kInternal, std::string("cannot create a librdkafka handle: ") + errstr);
    std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter> cluster(rd_kafka_mock_cluster_new(host.get(), brokers));
    if (!cluster) throw dstream::Error(dstream::ErrorCode::kInternal, "cannot start librdkafka's mock cluster");
    for (const auto& s : specs) {
      if (auto err = rd_kafka_mock_topic_create(cluster.get(), s.name.c_str(), s.partitions, std::min(brokers, 3))) {
        throw dstream::Error(dstream::ErrorCode::kInvalidArgument, "--topic " + s.name + ": " + describe(err));
      }
    }
    std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster.get());
    if (!bootstrapFile.empty()) dstream::detail::writeFileAtomically(bootstrapFile, bootstrap + "\n");
    // Handlers first: a reader of the address may signal at once.
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    std::cout << "bootstrap.servers=" << bootstrap << std::endl;
    std::string pending;
    bool stdinOpen = true;
    while (!gSignal) {
      pollfd p{STDIN_FILENO, POLLIN, 0};
      int ready = stdinOpen ? ::poll(&p, 1, 200) : (::poll(nullptr, 0, 200), 0);
      if (ready <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        if (exitOnEof) break;
        stdinOpen = false;
        continue;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        std::string reply = runCommand(cluster.get(), brokers, pending.substr(0, nl));
        pending.erase(0, nl + 1);
        if (!reply.empty()) std::cout << reply << std::endl;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dstream-kafka-mock: %s\n", std::string(dstream::detail::withoutDstreamPrefix(e.what())).c_str());
    return 1;
  }
}
