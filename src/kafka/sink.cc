// writeToKafka's producer: one idempotent librdkafka producer per sink, shared by the workers
// of a batch; a batch waits in flush() for Kafka to acknowledge every record it sent.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <utility>
#include <mutex>
#include <string>

#include "dstream/error.h"
#include "dstream/kafka.h"
#include "kafka/kafka_config.h"

namespace dstream::kafka::detail {

struct KafkaWriter::Impl {
  SinkOptions options;
  rd_kafka_t* producer = nullptr;
  std::mutex mu;
  std::int64_t failed = 0;  // since the last flush; guarded by mu
  std::string firstError;   // guarded by mu

  void fail(const std::string& error) {
    std::lock_guard lock(mu);
    if (failed++ == 0) firstError = error;
  }
};

KafkaWriter::KafkaWriter(SinkOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const auto& o = impl_->options;
  if (o.topic.empty()) throw Error(ErrorCode::kInvalidArgument, "writeToKafka: SinkOptions.topic is empty");
  auto bootstrap = o.kafkaParams.find("bootstrap.servers");
  if (bootstrap == o.kafkaParams.end() || bootstrap->second.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "writeToKafka: kafkaParams must set bootstrap.servers");
  }
  if (o.flushTimeout <= Duration(0)) throw Error(ErrorCode::kInvalidArgument, "writeToKafka: flushTimeout must be positive");
  KafkaConfig conf("writeToKafka");
  if (!o.kafkaParams.contains("enable.idempotence")) conf.set("enable.idempotence", "true");
  for (const auto& [k, v] : o.kafkaParams) conf.set(k, v);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) static_cast<Impl*>(opaque)->fail(rd_kafka_err2str(m->err));
  });
  impl_->producer = conf.newClient(RD_KAFKA_PRODUCER);
}

KafkaWriter::~KafkaWriter() {
  if (impl_->producer) {
    rd_kafka_flush(impl_->producer, 10000);
    rd_kafka_destroy(impl_->producer);
  }
}

void KafkaWriter::send(std::string_view key, bool hasKey, std::string_view value, std::int32_t partition) {
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_producev(impl_->producer, RD_KAFKA_V_TOPIC(impl_->options.topic.c_str()),
                                  RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                                  RD_KAFKA_V_KEY(hasKey ? key.data() : nullptr, hasKey ? key.size() : 0),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
         RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    rd_kafka_poll(impl_->producer, 10);  // serves delivery reports, which free the queue
  }
  if (err) impl_->fail(rd_kafka_err2str(err));
}

void KafkaWriter::flush() {
  const auto& o = impl_->options;
  auto timeoutMs = std::chrono::duration_cast<std::chrono::milliseconds>(o.flushTimeout).count();
  rd_kafka_resp_err_t err = rd_kafka_flush(impl_->producer, static_cast<int>(std::min<std::int64_t>(timeoutMs, INT32_MAX)));
  std::int64_t failed = 0;
  std::string first;
  {
    std::lock_guard lock(impl_->mu);
    std::swap(failed, impl_->failed);
    first.swap(impl_->firstError);
  }
  if (failed > 0) {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: " + std::to_string(failed) + " record(s) could not be written to topic " +
                                             o.topic + ": " + first);
  }
  if (err) {
    throw Error(ErrorCode::kUnavailable, "writeToKafka: topic " + o.topic + ": " +
                                             std::to_string(rd_kafka_outq_len(impl_->producer)) +
                                             " record(s) not acknowledged within " + formatDuration(o.flushTimeout));
  }
}

}  // namespace dstream::kafka::detail
