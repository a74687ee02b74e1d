// The UI's renderers on hand-made snapshots: JSON escaping (valid UTF-8 whatever the input),
// Prometheus label escaping, Spark's date format, the batches' status filter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ui/json_writer.h"
#include "ui/rest_api.h"
#include "ui/ui_http.h"

namespace dstream::ui {
namespace {

using ::testing::HasSubstr;

TEST(UiRenderTest, JsonStringsAreEscapedAndAlwaysValid) {
  EXPECT_EQ(jsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 stays as it is
  std::string latin1 = jsonString("caf\xe9");             // not UTF-8: written as the Latin-1 character
  EXPECT_EQ(latin1, "\"caf\\u00e9\"");
  JsonWriter w;
  w.beginObject().field("name", "x\xff").field("n", std::int64_t{-3}).field("d", 0.5);
  w.field("absent", std::optional<std::int64_t>()).key("list").beginArray().value(true).null().endArray().endObject();
  EXPECT_EQ(w.str(), "{\"name\":\"x\\u00ff\",\"n\":-3,\"d\":0.5,\"list\":[true,null]}");
  testing::Json parsed(w.str());
  EXPECT_EQ(parsed.error, "");
}

TEST(UiRenderTest, SparkDatesAreUtcWithMilliseconds) {
  EXPECT_EQ(sparkDate(timeFromMillis(0)), "1970-01-01T00:00:00.000GMT");
  EXPECT_EQ(sparkDate(timeFromMillis(1'700'000'000'123)), "2023-11-14T22:13:20.123GMT");
  EXPECT_EQ(sparkDate(timeFromMillis(-1)), "1969-12-31T23:59:59.999GMT");  // Spark's "no end time"
}

StatusSnapshot snapshotWithReceiver(std::string name) {
  StatusSnapshot s;
  s.app.id = "local-1";
  s.app.name = "app";
  s.batchDuration = Seconds(2);
  s.state = "ACTIVE";
  ReceiverInfo r;
  r.inputStreamId = 0;
  r.name = std::move(name);
  r.active = true;
  r.rateLimit = 250.5;
  r.throttled = true;
  r.pendingBytes = 1024;
  s.receivers.push_back(r);
  s.inputNames.push_back(r.name);
  s.inputRecordsTotal.push_back(0);
  BatchInfo b;
  b.batchTime = timeFromMillis(4000);
  b.submissionTime = b.batchTime;
  b.processingStartTime = timeFromMillis(4500);
  b.processingEndTime = timeFromMillis(5000);
  b.numInputRecords = 10;
  b.streamIdToInputInfo.push_back({0, r.name, 10});
  s.completed.push_back(b);
  return s;
}

TEST(UiRenderTest, PrometheusLabelValuesAreEscaped) {
  auto s = snapshotWithReceiver("odd \"name\" \\ with\nnewline");
  std::string text = prometheusMetrics(s);
  EXPECT_THAT(text, HasSubstr("dstream_receiver_throttled{stream_id=\"0\",input_stream=\"odd \\\"name\\\" \\\\ with\\nnewline\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dstream_receiver_rate_limit_records_per_second{stream_id=\"0\",input_stream=\"odd"));
  EXPECT_THAT(text, HasSubstr("\ndstream_batch_scheduling_delay_seconds 0.5\n"));
  EXPECT_THAT(text, HasSubstr("\ndstream_batch_total_delay_seconds 1\n"));
  for (std::size_t pos = 0; pos < text.size();) {  // every line: a comment or `series value`
    std::size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos) << "the exposition must end with a newline";
    std::string line = text.substr(pos, end - pos);
    EXPECT_TRUE(line.starts_with("# HELP dstream_") || line.starts_with("# TYPE dstream_") || line.starts_with("dstream_"))
        << line;
    pos = end + 1;
  }
}

TEST(UiRenderTest, ReceiversCarrySparksFieldsAndTheRateControlsView) {
  auto s = snapshotWithReceiver("socketTextStream h:1");
  auto r = restApi(s, "applications/local-1/streaming/receivers/0", {});
  ASSERT_EQ(r.status, 200) << r.body;
  testing::Json j(r.body);
  ASSERT_EQ(j.error, "") << r.body;
  double avg = 0, limit = 0;
  EXPECT_EQ(j.root["avgEventRate"].get(avg), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(avg, 5.0);  // 10 records in a 2 s batch
  EXPECT_EQ(j.root["rateLimit"].get(limit), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(limit, 250.5);
  simdjson::dom::array rates;
  ASSERT_EQ(j.root["eventRates"].get(rates), simdjson::SUCCESS);
  ASSERT_EQ(rates.size(), 1u);
  EXPECT_EQ(simdjson::to_string(rates.at(0)), "[4000,5.0]");
  EXPECT_THAT(r.body, HasSubstr("\"throttled\":true"));
  EXPECT_THAT(r.body, HasSubstr("\"executorId\":\"driver\""));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("lastError")));  // absent, as Spark leaves None out
}

}  // namespace
}  // namespace dstream::ui
