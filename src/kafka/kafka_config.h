// A librdkafka configuration built from a user's properties, shared by the direct stream and
// the sink: a property librdkafka rejects throws Error(kInvalidArgument) naming the operation
// ("createDirectStream"), the property and librdkafka's reason. Internal to src/kafka.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>

#include "dstream/error.h"
#include "dstream/kafka.h"
#include "dstream/log.h"

namespace dstream::kafka::detail {

// "topic-partition", as errors and log lines name a partition.
inline std::string nameOf(const TopicPartition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

// A partition list that librdkafka frees when it goes.
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// librdkafka's log levels (syslog's) as dstream's, for the lines its log callback passes on.
inline LogLevel logLevelOf(int syslogLevel) {
  return syslogLevel <= 3 ? LogLevel::kError : syslogLevel == 4 ? LogLevel::kWarning : syslogLevel <= 6 ? LogLevel::kInfo : LogLevel::kDebug;
}

class KafkaConfig {
 public:
  explicit KafkaConfig(std::string operation) : operation_(std::move(operation)), conf_(rd_kafka_conf_new()) {}
  ~KafkaConfig() {
    if (conf_) rd_kafka_conf_destroy(conf_);
  }
  KafkaConfig(const KafkaConfig&) = delete;
  KafkaConfig& operator=(const KafkaConfig&) = delete;

  void set(const std::string& key, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf_, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      throw Error(ErrorCode::kInvalidArgument, operation_ + ": kafkaParams " + key + "=" + value + ": " + err);
    }
  }
  rd_kafka_conf_t* get() { return conf_; }

  // The client; the configuration belongs to it from now on.
  rd_kafka_t* newClient(rd_kafka_type_t type) {
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf_, err, sizeof err);
    if (!rk) {
      throw Error(ErrorCode::kInvalidArgument, operation_ + ": cannot create a Kafka " +
                                                   (type == RD_KAFKA_CONSUMER ? "consumer" : "producer") + ": " + err);
    }
    conf_ = nullptr;
    return rk;
  }

 private:
  std::string operation_;
  rd_kafka_conf_t* conf_;
};

}  // namespace dstream::kafka::detail
