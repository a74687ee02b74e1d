// The Streaming UI against running contexts on a manual clock: every REST endpoint and
// /metrics checked against the batches the context completed, the pages, the port rules
// (the next free port, none free, disabled) and the read-only and unknown-path answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>

#include "dstream/bad_records.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/loopback.h"
#include "testing/wait.h"
#include "ui/ui_http.h"

namespace dstream {
namespace {

using ::testing::HasSubstr;
using testing::httpGet;
using testing::Json;
using testing::kWaitTimeout;

std::int64_t intField(simdjson::dom::element e, const char* key) {
  std::int64_t v = -1;
  EXPECT_EQ(e[key].get(v), simdjson::SUCCESS) << "no integer field " << key << " in " << simdjson::to_string(e);
  return v;
}

std::string stringField(simdjson::dom::element e, const char* key) {
  std::string_view v;
  EXPECT_EQ(e[key].get(v), simdjson::SUCCESS) << "no string field " << key << " in " << simdjson::to_string(e);
  return std::string(v);
}

simdjson::dom::element elementAt(simdjson::dom::array a, std::size_t i) {
  simdjson::dom::element e;
  EXPECT_EQ(a.at(i).get(e), simdjson::SUCCESS) << "no element " << i << " in " << simdjson::to_string(a);
  return e;
}

bool hasField(simdjson::dom::element e, const char* key) { return e[key].error() == simdjson::SUCCESS; }

// Log lines of a context, for the UI's address and warnings.
struct Log {
  std::mutex mu;
  std::vector<std::pair<LogLevel, std::string>> lines;
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(level, std::string(line));
    };
  }
  std::string all() {
    std::lock_guard lock(mu);
    std::string s;
    for (auto& [level, line] : lines) s += std::string(logLevelName(level)) + ": " + line + "\n";
    return s;
  }
};

ContextOptions optionsWith(std::shared_ptr<ManualClock> clock, Log& log, UiOptions ui) {
  ContextOptions o;
  o.clock = std::move(clock);
  o.log = log.sink();
  o.ui = std::move(ui);
  return o;
}

UiOptions anyPort() {
  UiOptions ui;
  ui.port = 0;
  ui.appName = "ui-test";
  return ui;
}

// A context on a manual clock fed by a queue, with two output operations, its UI on a free port.
struct UiRun {
  explicit UiRun(UiOptions ui = anyPort())
      : ssc("local[2]", Seconds(1), optionsWith(clock, log, std::move(ui))) {}

  void defineOutputs() {
    auto lines = ssc.queueStream(queue);
    lines.map([](const std::string& s) {
           if (s == "bad") reportBadRecord("test", "a bad record");
           return s;
         })
        .count()
        .foreachRDD([](const RDD<long>&) {});
    lines.foreachRDD([](const RDD<std::string>&) {});
  }
  int port() {
    auto url = ssc.uiWebUrl();
    EXPECT_TRUE(url.has_value()) << "no UI; log:\n" << log.all();
    auto p = url ? testing::portOf(*url) : std::nullopt;
    EXPECT_TRUE(p.has_value()) << "not a loopback URL: " << url.value_or("");
    return p.value_or(0);
  }
  std::string api(const std::string& rest) {
    return "/api/v1/applications/" + appId + "/streaming/" + rest;
  }
  // The application's id, from /api/v1/applications.
  void readAppId() {
    auto r = httpGet(port(), "/api/v1/applications");
    ASSERT_EQ(r.status, 200) << r.body;
    Json apps(r.body);
    ASSERT_EQ(apps.error, "") << r.body;
    simdjson::dom::array list;
    ASSERT_EQ(apps.root.get(list), simdjson::SUCCESS) << r.body;
    ASSERT_EQ(list.size(), 1u) << r.body;
    appId = stringField(list.at(0), "id");
    EXPECT_EQ(stringField(list.at(0), "name"), "ui-test");
    simdjson::dom::array attempts;
    ASSERT_EQ(list.at(0)["attempts"].get(attempts), simdjson::SUCCESS) << r.body;
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_THAT(stringField(attempts.at(0), "startTime"), ::testing::EndsWith("GMT"));
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(timeFromMillis(1'700'000'000'000));
  Log log;
  StreamingContext ssc;
  std::shared_ptr<RDDQueue<std::string>> queue = std::make_shared<RDDQueue<std::string>>();
  std::string appId;
};

// As Spark's UI, it serves from the context's creation; the address is logged at start(), when
// a log sink that captures its owner is safe to call.
TEST(UiTest, TheUiServesFromCreationAndStartLogsItsAddress) {
  UiRun run;
  auto url = run.ssc.uiWebUrl();
  ASSERT_TRUE(url) << run.log.all();
  auto r = httpGet(run.port(), "/");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.location, "/streaming/");
  EXPECT_THAT(httpGet(run.port(), "/streaming/").body, HasSubstr("INITIALIZED"));
  EXPECT_EQ(run.log.all(), "") << "the constructor logs nothing";
  run.defineOutputs();
  run.ssc.start();
  EXPECT_EQ(run.log.all(), "info: Streaming UI at " + *url + "\n");
  run.ssc.stop();
}

TEST(UiTest, RestApiAndMetricsMatchTheCompletedBatches) {
  UiRun run;
  run.queue->push({"a", "bad", "c"});
  run.queue->push({"d"});
  run.queue->push(std::vector<std::string>{});
  run.defineOutputs();
  run.ssc.start();
  ASSERT_TRUE(testing::runBatches(run.ssc, *run.clock, 3));
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  int port = run.port();
  auto batches = testing::completedBatches(run.ssc);
  ASSERT_EQ(batches.size(), 3u);

  // statistics
  auto r = httpGet(port, run.api("statistics"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.contentType, HasSubstr("application/json"));
  Json stats(r.body);
  ASSERT_EQ(stats.error, "") << r.body;
  EXPECT_EQ(intField(stats.root, "batchDuration"), 1000);
  EXPECT_EQ(intField(stats.root, "numTotalCompletedBatches"), 3);
  EXPECT_EQ(intField(stats.root, "numRetainedCompletedBatches"), 3);
  EXPECT_EQ(intField(stats.root, "numActiveBatches"), 0);
  EXPECT_EQ(intField(stats.root, "numProcessedRecords"), 4);
  EXPECT_EQ(intField(stats.root, "numReceivers"), 0);
  double avgRate = 0;
  EXPECT_EQ(stats.root["avgInputRate"].get(avgRate), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(avgRate, 4.0 / 3.0);
  EXPECT_EQ(intField(stats.root, "avgSchedulingDelay"), 0);  // the manual clock stands still
  EXPECT_EQ(stringField(stats.root, "state"), "ACTIVE");

  // batches: newest first, each as the context reported it
  r = httpGet(port, run.api("batches"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json list(r.body);
  ASSERT_EQ(list.error, "") << r.body;
  simdjson::dom::array items;
  ASSERT_EQ(list.root.get(items), simdjson::SUCCESS);
  ASSERT_EQ(items.size(), 3u) << r.body;
  for (std::size_t i = 0; i < 3; ++i) {
    const BatchInfo& b = batches[2 - i];
    auto e = elementAt(items, i);
    EXPECT_EQ(intField(e, "batchId"), toMillis(b.batchTime));
    EXPECT_EQ(stringField(e, "status"), "COMPLETED");
    EXPECT_EQ(intField(e, "inputSize"), b.numInputRecords);
    EXPECT_EQ(intField(e, "batchDuration"), 1000);
    EXPECT_EQ(intField(e, "schedulingDelay"), b.schedulingDelay()->count());
    EXPECT_EQ(intField(e, "processingTime"), b.processingDelay()->count());
    EXPECT_EQ(intField(e, "totalDelay"), b.totalDelay()->count());
    EXPECT_EQ(intField(e, "numCompletedOutputOps"), 2);
    EXPECT_EQ(intField(e, "numFailedOutputOps"), 0);
    EXPECT_EQ(intField(e, "numTotalOutputOps"), 2);
    EXPECT_EQ(intField(e, "numBadRecords"), b.numBadRecords);
    EXPECT_FALSE(hasField(e, "firstFailureReason"));
  }
  EXPECT_EQ(intField(items.at(2), "numBadRecords"), 1);
  EXPECT_EQ(intField(items.at(2), "inputSize"), 3);
  EXPECT_EQ(stringField(items.at(2), "batchTime"), "2023-11-14T22:13:21.000GMT");  // 1'700'000'001'000 ms

  EXPECT_EQ(httpGet(port, run.api("batches?status=COMPLETED")).body, r.body);
  // Spark's path with an attempt id: its live UI serves its one attempt whatever the id.
  EXPECT_EQ(httpGet(port, "/api/v1/applications/" + run.appId + "/1/streaming/batches").body, r.body);
  EXPECT_EQ(httpGet(port, run.api("batches?status=QUEUED&status=PROCESSING")).body, "[]");
  auto bad = httpGet(port, run.api("batches?status=DONE"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("DONE"));

  // one batch, its operations, one operation
  const BatchInfo& first = batches[0];
  std::string id = std::to_string(toMillis(first.batchTime));
  r = httpGet(port, run.api("batches/" + id));
  ASSERT_EQ(r.status, 200) << r.body;
  Json one(r.body);
  EXPECT_EQ(intField(one.root, "batchId"), toMillis(first.batchTime));
  r = httpGet(port, run.api("batches/" + id + "/operations"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json ops(r.body);
  simdjson::dom::array opList;
  ASSERT_EQ(ops.root.get(opList), simdjson::SUCCESS) << r.body;
  ASSERT_EQ(opList.size(), first.outputOperationInfos.size());
  for (std::size_t i = 0; i < opList.size(); ++i) {
    const auto& op = first.outputOperationInfos[i];
    EXPECT_EQ(intField(opList.at(i), "outputOpId"), op.id);
    EXPECT_EQ(stringField(opList.at(i), "name"), op.name);
    EXPECT_EQ(intField(opList.at(i), "duration"), op.duration()->count());
    EXPECT_THAT(stringField(opList.at(i), "startTime"), ::testing::EndsWith("GMT"));
    simdjson::dom::array jobIds;
    EXPECT_EQ(opList.at(i)["jobIds"].get(jobIds), simdjson::SUCCESS);
  }
  r = httpGet(port, run.api("batches/" + id + "/operations/1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(intField(Json(r.body).root, "outputOpId"), 1);

  // unknown ids and paths: 404 with a JSON error; malformed ids: 400
  for (const std::string& path : {run.api("batches/12345"), run.api("batches/" + id + "/operations/7"),
                                  run.api("receivers/0"), run.api("nothing"), run.api("batches/" + id + "/x"),
                                  std::string("/api/v1/applications/other-app/streaming/statistics"),
                                  "/api/v1/applications/" + run.appId + "/1",
                                  "/api/v1/applications/" + run.appId + "/1/streaming/nothing",
                                  "/api/v1/applications/" + run.appId + "/1/2/streaming/statistics",
                                  std::string("/api/v1/nothing"), std::string("/api/v2/applications")}) {
    auto e = httpGet(port, path);
    EXPECT_EQ(e.status, 404) << path << ": " << e.body;
    Json err(e.body);
    EXPECT_EQ(err.error, "") << path << ": " << e.body;
    EXPECT_FALSE(stringField(err.root, "error").empty()) << path;
  }
  EXPECT_EQ(httpGet(port, run.api("batches/abc")).status, 400);
  EXPECT_EQ(httpGet(port, run.api("batches/-5")).status, 400);

  // metrics: each family's HELP and TYPE before its samples; the totals of the batches
  r = httpGet(port, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.contentType, HasSubstr("text/plain; version=0.0.4"));
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty()) << r.body;
    if (line.starts_with("# TYPE ")) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge") << line;
      EXPECT_TRUE(name.starts_with("dstream_")) << line;
      typed.insert(name);
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    std::size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    std::string series = line.substr(0, space);
    std::string name = series.substr(0, series.find('{'));
    EXPECT_TRUE(typed.contains(name)) << "a sample before its TYPE line: " << line;
    samples[series] = std::stod(line.substr(space + 1));
  }
  EXPECT_EQ(samples["dstream_batches_completed_total"], 3);
  EXPECT_EQ(samples["dstream_records_total"], 4);
  EXPECT_EQ(samples["dstream_bad_records_total"], 1);
  EXPECT_EQ(samples["dstream_batches_waiting"], 0);
  EXPECT_EQ(samples["dstream_batch_duration_seconds"], 1);
  EXPECT_EQ(samples["dstream_last_batch_input_records"], 0);
  EXPECT_EQ(samples["dstream_batch_scheduling_delay_seconds"], 0);
  EXPECT_EQ(samples["dstream_streaming_state{state=\"ACTIVE\"}"], 1);
  EXPECT_EQ(samples["dstream_input_records_total{stream_id=\"0\",input_stream=\"queueStream\"}"], 4) << r.body;

  // the pages: the completed batches' rows, a batch's operations, the embedded assets
  r = httpGet(port, "/streaming/");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.contentType, HasSubstr("text/html"));
  for (const auto& b : batches) {
    EXPECT_THAT(r.body, HasSubstr("<tr data-batch-id=\"" + std::to_string(toMillis(b.batchTime)) + "\""));
  }
  EXPECT_THAT(r.body, HasSubstr("id=\"completed-table\" data-rows=\"3\""));
  r = httpGet(port, "/streaming/batch/?id=" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("id=\"operations-table\" data-rows=\"2\""));
  EXPECT_EQ(httpGet(port, "/streaming/batch/?id=42").status, 404);
  EXPECT_EQ(httpGet(port, "/streaming/batch/?id=x").status, 400);
  r = httpGet(port, "/static/chart.min.js");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body.substr(0, 100), HasSubstr("Chart.js v3"));
  EXPECT_EQ(httpGet(port, "/static/streaming.js").status, 200);
  EXPECT_EQ(httpGet(port, "/static/streaming.css").status, 200);
  EXPECT_EQ(httpGet(port, "/no/such/page").status, 404);
  run.ssc.stop();
}

// Each stateful stream's keys and estimated bytes after the last completed batch: gauges in
// /metrics, stateStreams in the statistics, a row of the page's State table.
TEST(UiTest, TheStateOfStatefulStreamsIsShown) {
  UiRun run;
  run.queue->push({"a", "b", "a"});
  run.queue->push({"c"});
  using Entry = std::pair<std::string, long>;
  run.ssc.queueStream(run.queue)
      .map([](const std::string& w) { return Entry(w, 1L); })
      .updateStateByKey([](std::span<const long> vs, std::optional<long> old) -> std::optional<long> {
        return old.value_or(0) + static_cast<long>(vs.size());
      })
      .uid("word \"counts\"")
      .foreachRDD([](const RDD<Entry>&) {});
  run.ssc.start();
  int port = run.port();
  EXPECT_THAT(httpGet(port, "/streaming/").body, HasSubstr("<h2>State (0)</h2>"));
  ASSERT_TRUE(testing::runBatches(run.ssc, *run.clock, 2));
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  auto batches = testing::completedBatches(run.ssc);
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches.back().stateInfos.size(), 1u);
  const StateInfo& state = batches.back().stateInfos[0];
  EXPECT_EQ(state.numKeys, 3);
  EXPECT_EQ(state.name, "word \"counts\"");

  std::string labels = "{stream_id=\"" + std::to_string(state.streamId) + "\",stream=\"word \\\"counts\\\"\"}";
  auto metrics = httpGet(port, "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("# TYPE dstream_state_keys gauge\ndstream_state_keys" + labels + " 3\n"));
  EXPECT_THAT(metrics, HasSubstr("# TYPE dstream_state_bytes gauge\ndstream_state_bytes" + labels + " " +
                                 std::to_string(state.memoryUsedBytes) + "\n"));

  Json stats(httpGet(port, run.api("statistics")).body);
  simdjson::dom::array streams;
  ASSERT_EQ(stats.root["stateStreams"].get(streams), simdjson::SUCCESS);
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(intField(streams.at(0), "streamId"), state.streamId);
  EXPECT_EQ(stringField(streams.at(0), "name"), state.name);
  EXPECT_EQ(intField(streams.at(0), "numKeys"), 3);
  EXPECT_EQ(intField(streams.at(0), "memoryUsedBytes"), state.memoryUsedBytes);

  auto page = httpGet(port, "/streaming/").body;
  EXPECT_THAT(page, HasSubstr("<h2>State (1)</h2>"));
  EXPECT_THAT(page, HasSubstr("<tr data-stream-id=\"" + std::to_string(state.streamId) +
                              "\"><td>word &quot;counts&quot; <span class=\"muted\">#" +
                              std::to_string(state.streamId) + "</span></td><td class=\"num\">3</td>"));
  run.ssc.stop();
}

TEST(UiTest, OnlyGetAndHeadAreServed) {
  UiRun run;
  int port = run.port();
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    auto r = testing::httpRequest(port, method, "/streaming/");
    EXPECT_EQ(r.status, 405) << method;
  }
  EXPECT_EQ(testing::httpRequest(port, "HEAD", "/streaming/").status, 200);
}

// While a batch runs for long, the batches due behind it are the backlog: QUEUED in the API,
// dstream_batches_waiting in the metrics.
TEST(UiTest, TheBacklogIsShownWhileABatchRunsLong) {
  UiRun run;
  std::mutex mu;
  std::condition_variable cv;
  bool running = false, release = false;
  run.queue->push({"x"});
  run.ssc.queueStream(run.queue).foreachRDD([&](const RDD<std::string>&) {
    std::unique_lock lock(mu);
    running = true;
    cv.notify_all();
    cv.wait_for(lock, kWaitTimeout, [&] { return release; });
  });
  run.ssc.start();
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  Time first = testing::firstBatchTime(run.ssc);
  run.clock->setTime(first + Seconds(3));  // batches first .. first + 3s are due
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kWaitTimeout, [&] { return running; })) << "the first batch did not start";
  }
  int port = run.port();
  auto r = httpGet(port, run.api("batches?status=QUEUED"));
  Json queued(r.body);
  simdjson::dom::array q;
  ASSERT_EQ(queued.root.get(q), simdjson::SUCCESS) << r.body;
  ASSERT_EQ(q.size(), 3u) << r.body;
  EXPECT_EQ(intField(q.at(0), "batchId"), toMillis(first + Seconds(3)));  // newest first
  EXPECT_EQ(intField(q.at(2), "batchId"), toMillis(first + Seconds(1)));
  r = httpGet(port, run.api("batches?status=PROCESSING"));
  Json processing(r.body);
  simdjson::dom::array p;
  ASSERT_EQ(processing.root.get(p), simdjson::SUCCESS) << r.body;
  ASSERT_EQ(p.size(), 1u) << r.body;
  EXPECT_EQ(intField(p.at(0), "batchId"), toMillis(first));
  EXPECT_EQ(intField(p.at(0), "inputSize"), 1) << "the running batch's records are known when it starts";
  EXPECT_EQ(intField(Json(httpGet(port, run.api("statistics")).body).root, "numActiveBatches"), 4);
  EXPECT_THAT(httpGet(port, "/metrics").body, HasSubstr("\ndstream_batches_waiting 3\n"));
  EXPECT_THAT(httpGet(port, "/streaming/").body, HasSubstr("Active batches (4)"));
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  EXPECT_TRUE(testing::awaitBatchCompleted(run.ssc, first + Seconds(3), kWaitTimeout));
  run.ssc.stop();
}

TEST(UiTest, AFailedOutputOperationIsReportedWithItsReason) {
  UiRun run;
  run.queue->push({"a"});
  run.queue->push({"b"});
  auto lines = run.ssc.queueStream(run.queue);
  lines.foreachRDD([](const RDD<std::string>&) {});
  lines.foreachRDD([](const RDD<std::string>&, Time t) {
    if (t > timeFromMillis(1'700'000'001'000)) throw std::runtime_error("output broke");
  });
  run.ssc.start();
  Time first = testing::firstBatchTime(run.ssc);
  ASSERT_TRUE(testing::runBatchAt(run.ssc, *run.clock, first));
  run.clock->setTime(first + Seconds(1));
  EXPECT_THROW(run.ssc.awaitTerminationOrTimeout(kWaitTimeout), Error);
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  int port = run.port();  // the UI stays until stop()
  std::string id = std::to_string(toMillis(first + Seconds(1)));
  auto r = httpGet(port, run.api("batches/" + id));
  ASSERT_EQ(r.status, 200) << r.body;
  Json b(r.body);
  EXPECT_EQ(intField(b.root, "numFailedOutputOps"), 1);
  EXPECT_EQ(intField(b.root, "numCompletedOutputOps"), 1);
  EXPECT_THAT(stringField(b.root, "firstFailureReason"), HasSubstr("output broke"));
  r = httpGet(port, run.api("batches/" + id + "/operations/1"));
  EXPECT_THAT(stringField(Json(r.body).root, "failureReason"), HasSubstr("output broke"));
  EXPECT_EQ(stringField(Json(httpGet(port, run.api("statistics")).body).root, "state"), "STOPPED");
  r = httpGet(port, "/streaming/batch/?id=" + id);
  EXPECT_THAT(r.body, HasSubstr("output broke"));
  run.ssc.stop();
  EXPECT_FALSE(run.ssc.uiWebUrl());
  EXPECT_EQ(httpGet(port, "/streaming/").status, 0) << "the UI still answers after stop()";
}

TEST(UiTest, OnlyTheRetainedBatchesAreKept) {
  UiOptions ui = anyPort();
  ui.retainedBatches = 2;
  UiRun run(ui);
  for (int i = 0; i < 4; ++i) run.queue->push({"r"});
  run.defineOutputs();
  run.ssc.start();
  ASSERT_TRUE(testing::runBatches(run.ssc, *run.clock, 4));
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  int port = run.port();
  Json stats(httpGet(port, run.api("statistics")).body);
  EXPECT_EQ(intField(stats.root, "numTotalCompletedBatches"), 4);
  EXPECT_EQ(intField(stats.root, "numRetainedCompletedBatches"), 2);
  EXPECT_EQ(intField(stats.root, "numProcessedRecords"), 4);
  Time first = testing::firstBatchTime(run.ssc);
  EXPECT_EQ(httpGet(port, run.api("batches/" + std::to_string(toMillis(first)))).status, 404);
  EXPECT_EQ(httpGet(port, run.api("batches/" + std::to_string(toMillis(first + Seconds(3))))).status, 200);
  EXPECT_EQ(testing::completedBatches(run.ssc).size(), 2u) << "the context keeps ui.retainedBatches too";
  run.ssc.stop();
}

TEST(UiTest, AReceiverIsListedWithItsState) {
  testing::LoopbackServer server;
  UiRun run;
  run.ssc.socketTextStream("127.0.0.1", server.port()).count().foreachRDD([](const RDD<long>&) {});
  run.ssc.start();
  server.accept();
  server.send("one\ntwo\n");
  ASSERT_NO_FATAL_FAILURE(run.readAppId());
  int port = run.port();
  std::string name = "socketTextStream 127.0.0.1:" + std::to_string(server.port());
  // The receiver counts the lines as they arrive: poll for them.
  testing::Deadline deadline(kWaitTimeout);
  std::string body;
  for (;;) {
    body = httpGet(port, run.api("receivers")).body;
    Json list(body);
    simdjson::dom::array rs;
    ASSERT_EQ(list.root.get(rs), simdjson::SUCCESS) << body;
    ASSERT_EQ(rs.size(), 1u) << body;
    std::int64_t records = 0;
    if (rs.at(0)["recordsReceived"].get(records) == simdjson::SUCCESS && records == 2) break;
    ASSERT_FALSE(deadline.passed()) << "the receiver did not report 2 records: " << body;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Json list(body);
  simdjson::dom::element r;
  ASSERT_EQ(list.root.at(0).get(r), simdjson::SUCCESS);
  EXPECT_EQ(intField(r, "streamId"), 0);
  EXPECT_EQ(stringField(r, "streamName"), name);
  bool active = false;
  EXPECT_EQ(r["isActive"].get(active), simdjson::SUCCESS);
  EXPECT_TRUE(active);
  bool wal = true;
  EXPECT_EQ(r["writeAheadLog"].get(wal), simdjson::SUCCESS);
  EXPECT_FALSE(wal);
  EXPECT_EQ(httpGet(port, run.api("receivers/0")).status, 200);
  EXPECT_EQ(httpGet(port, run.api("receivers/1")).status, 404);
  auto metrics = httpGet(port, "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("dstream_receiver_records_total{stream_id=\"0\",input_stream=\"" + name + "\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("dstream_receiver_active{stream_id=\"0\",input_stream=\"" + name + "\"} 1\n"));
  EXPECT_THAT(httpGet(port, "/streaming/").body, HasSubstr(name));
  run.ssc.stop();
}

TEST(UiTest, ATakenPortMovesTheUiToTheNextFreeOne) {
  testing::LoopbackListener taken;
  UiOptions ui;
  ui.port = taken.port();
  UiRun run(ui);
  int port = run.port();
  EXPECT_GT(port, taken.port());
  EXPECT_LE(port, taken.port() + ui.maxRetries);
  EXPECT_EQ(httpGet(port, "/streaming/").status, 200);
}

TEST(UiTest, WithEveryPortTakenTheContextRunsWithoutUiAndWarns) {
  testing::LoopbackListener taken;
  UiOptions ui;
  ui.port = taken.port();
  ui.maxRetries = 0;
  UiRun run(ui);
  EXPECT_FALSE(run.ssc.uiWebUrl());
  run.queue->push({"a"});
  run.defineOutputs();
  run.ssc.start();
  EXPECT_THAT(run.log.all(), HasSubstr("warning: Streaming UI not started: could not bind 127.0.0.1 on port " +
                                       std::to_string(taken.port())));
  EXPECT_TRUE(testing::runBatches(run.ssc, *run.clock, 1)) << "the context runs without its UI";
  run.ssc.stop();
}

TEST(UiTest, ADisabledUiBindsNothing) {
  int port = 0;
  {
    testing::LoopbackListener probe;  // a port free a moment ago
    port = probe.port();
  }
  UiOptions ui;
  ui.enabled = false;
  ui.port = port;
  UiRun run(ui);
  run.defineOutputs();
  run.ssc.start();
  EXPECT_FALSE(run.ssc.uiWebUrl());
  EXPECT_THAT(run.log.all(), ::testing::Not(HasSubstr("Streaming UI")));
  EXPECT_EQ(httpGet(port, "/streaming/").status, 0) << "something answers on the UI's port";
}

TEST(UiTest, BadOptionsAreRejectedNamingTheSetting) {
  auto make = [](UiOptions ui) {
    Log log;
    StreamingContext ssc("local[1]", Seconds(1), optionsWith(std::make_shared<ManualClock>(), log, ui));
  };
  UiOptions port;
  port.port = 70000;
  EXPECT_THAT([&] { make(port); }, ::testing::ThrowsMessage<Error>(HasSubstr("UiOptions::port 70000")));
  UiOptions retries;
  retries.maxRetries = -1;
  EXPECT_THAT([&] { make(retries); }, ::testing::ThrowsMessage<Error>(HasSubstr("UiOptions::maxRetries")));
  UiOptions retained;
  retained.retainedBatches = 0;
  EXPECT_THAT([&] { make(retained); }, ::testing::ThrowsMessage<Error>(HasSubstr("UiOptions::retainedBatches")));
}

}  // namespace
}  // namespace dstream
