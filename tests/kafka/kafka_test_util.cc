#include "kafka/kafka_test_util.h"

#include <gtest/gtest.h>

#include "dstream/kafka.h"
#include "testing/wait.h"

namespace dstream::testing {

MockCluster::MockCluster(std::vector<std::string> args)
    : process_([&] {
        args.insert(args.begin(), DSTREAM_KAFKA_MOCK_PATH);
        return args;
      }(),
               ChildOptions{.pipeStdin = true}) {
  EXPECT_TRUE(process_.waitForOutput("\n")) << process_.output();
  const std::string& out = process_.output();
  const std::string prefix = "bootstrap.servers=";
  EXPECT_EQ(out.rfind(prefix, 0), 0u) << out;
  bootstrap_ = out.substr(prefix.size(), out.find('\n') - prefix.size());
}

std::string MockCluster::command(const std::string& line) {
  std::size_t from = process_.output().size();
  process_.writeInput(line + "\n");
  EXPECT_TRUE(process_.waitForOutput("\n", kWaitTimeout, from)) << process_.output();
  const std::string& out = process_.output();
  return out.substr(from, out.find('\n', from) - from);
}

KafkaPtr kafkaClient(rd_kafka_type_t type, const std::map<std::string, std::string>& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << k << ": " << err;
  }
  KafkaPtr rk(rd_kafka_new(type, conf, err, sizeof err));
  EXPECT_NE(rk, nullptr) << err;
  return rk;
}

void produce(const std::string& bootstrap, const std::string& topic, int n, const std::string& valuePrefix, int first,
             int partition) {
  KafkaPtr p = kafkaClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"enable.idempotence", "true"}});
  for (int i = first; i < first + n; ++i) {
    std::string key = "key-" + std::to_string(i % 10), value = valuePrefix + std::to_string(i);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(p.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                   RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                                   RD_KAFKA_V_KEY(key.data(), key.size()),
                                   RD_KAFKA_V_VALUE(value.data(), value.size()),
                                   RD_KAFKA_V_HEADER("source", "test", 4),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p.get(), 10);
    }
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  }
  ASSERT_EQ(rd_kafka_flush(p.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

Consumed consumeAll(const std::string& bootstrap, const std::string& topic, int partitions) {
  KafkaPtr c = kafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", "test"},
                                          {"enable.auto.commit", "false"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  std::map<int, int64_t> high;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(c.get(), topic.c_str(), p, &lo, &hi, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    high[p] = hi;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(c.get(), list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  Consumed got;
  std::map<int, int64_t> next;
  auto done = [&] {
    for (auto [p, hi] : high) {
      if (next[p] < hi) return false;
    }
    return true;
  };
  Deadline deadline(kWaitTimeout);
  while (!done() && !deadline.passed()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.get(), 100);
    if (!m) continue;
    if (!m->err) {
      ++got.records;
      got.partitionsOfKey[std::string(static_cast<const char*>(m->key), m->key_len)].insert(m->partition);
      next[m->partition] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(done()) << "not every partition was read to its high watermark";
  rd_kafka_consumer_close(c.get());
  return got;
}

std::vector<ReadRecord> readTopic(const std::string& bootstrap, const std::string& topic, int partitions) {
  KafkaPtr c = kafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", "test"},
                                          {"enable.auto.commit", "false"}, {"isolation.level", "read_committed"},
                                          {"enable.partition.eof", "true"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(c.get(), list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<ReadRecord> got;
  std::set<int> ended;
  Deadline deadline(kWaitTimeout);
  while (static_cast<int>(ended.size()) < partitions && !deadline.passed()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.get(), 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ended.insert(m->partition);
    } else if (!m->err) {
      got.push_back({m->partition, m->offset, std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len)});
    } else {
      ADD_FAILURE() << topic << ": " << rd_kafka_message_errstr(m);
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_EQ(static_cast<int>(ended.size()), partitions) << "not every partition of " << topic << " was read to its end";
  rd_kafka_consumer_close(c.get());
  return got;
}

std::vector<ReadRecord> readCommittedOutput(const std::string& bootstrap, const std::string& topic, int partitions,
                                            const std::string& commitTopic) {
  std::map<int, std::vector<std::pair<std::int64_t, std::int64_t>>> committed;  // partition -> [from, until)
  for (const auto& batch : kafka::readCommittedBatches({{"bootstrap.servers", bootstrap}}, commitTopic, kWaitTimeout)) {
    for (const auto& r : batch.written) {
      if (r.topic == topic) committed[r.partition].emplace_back(r.fromOffset, r.untilOffset);
    }
  }
  std::vector<ReadRecord> out;
  for (auto& r : readTopic(bootstrap, topic, partitions)) {
    for (auto [from, until] : committed[r.partition]) {
      if (r.offset >= from && r.offset < until) {
        out.push_back(std::move(r));
        break;
      }
    }
  }
  return out;
}

}  // namespace dstream::testing
