// The Streaming tab in a real browser: headless Chromium (Debian's chromium) loads the page
// of a running context, runs its script, and the test reads the DOM it leaves: every chart
// drew (data-points as many as the completed batches, data-drawn: the canvas has pixels) and
// the completed-batch rows are the context's batches. A screenshot is kept in the build
// directory (ui_screenshot.png). Skipped where /usr/bin/chromium is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "testing/batches.h"
#include "testing/child_process.h"
#include "testing/files.h"
#include "testing/wait.h"
#include "ui/ui_http.h"

namespace dstream {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
// Chromium on a busy two-core machine takes its time; the page's virtual time is generous
// enough for the first API answers and a refresh.
constexpr Duration kBrowserTimeout = Seconds(240);

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs headless Chromium with `args` and the page `url`; returns its exit code.
int runChromium(const testing::TempDir& dir, std::vector<std::string> args, const std::string& url,
                const std::filesystem::path& out) {
  std::vector<std::string> argv = {kChromium,
                                   "--headless",
                                   "--no-sandbox",  // root in a container
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--user-data-dir=" + (dir / "profile").string(),
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  testing::ChildProcess chromium(argv, {.stdoutFile = out, .stderrFile = dir / "chromium.err",
                                        .env = {{"HOME", dir.path().string()}}});
  return chromium.wait(kBrowserTimeout);
}

// The opening tag of the element with id `id` in `dom`, or "".
std::string openingTag(const std::string& dom, const std::string& id) {
  std::size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  std::size_t begin = dom.rfind('<', at);
  std::size_t end = dom.find('>', at);
  return dom.substr(begin, end - begin + 1);
}

TEST(UiBrowserTest, ChartsDrawAndTheTableRowsAreTheCompletedBatches) {
  if (::access(kChromium, X_OK) != 0) {
    GTEST_SKIP() << kChromium << " not found: install Debian's chromium (apt-get install chromium) to run the "
                 << "Streaming UI's browser test";
  }
  testing::TempDir dir;
  // Lab 10's Submission 4a: countByWindow(3s, 1s) counts the records of the last 3 batches,
  // which the completed-batch table lists one by one.
  auto clock = std::make_shared<ManualClock>(timeFromMillis(1'764'670'000'000));
  ContextOptions options;
  options.clock = clock;
  options.log = [](LogLevel, std::string_view) {};
  options.ui.port = 0;
  options.ui.appName = "venuecounter";
  StreamingContext ssc("local[2]", Seconds(1), options);
  ssc.checkpoint((dir / "checkpoint").string());
  auto queue = std::make_shared<RDDQueue<std::string>>();
  const std::vector<int> sizes = {3, 5, 2, 7, 4, 6, 1, 8};
  for (int n : sizes) queue->push(std::vector<std::string>(static_cast<std::size_t>(n), "{\"venue\": 1}"));
  auto lines = ssc.queueStream(queue);
  lines.countByWindow(Seconds(3), Seconds(1)).foreachRDD([](const RDD<long>&) {});
  lines.count().foreachRDD([](const RDD<long>&) {});
  ssc.start();
  ASSERT_TRUE(testing::runBatches(ssc, *clock, static_cast<int>(sizes.size())));
  auto url = ssc.uiWebUrl();
  ASSERT_TRUE(url);
  auto batches = testing::completedBatches(ssc);
  ASSERT_EQ(batches.size(), sizes.size());

  auto domFile = dir / "dom.html";
  ASSERT_EQ(runChromium(dir, {"--dump-dom"}, *url + "/streaming/", domFile), 0)
      << "chromium failed:\n" << readAll(dir / "chromium.err");
  std::string dom = readAll(domFile);
  ASSERT_THAT(dom, ::testing::HasSubstr("id=\"completed-table\"")) << dom.substr(0, 2000);

  const std::string points = "data-points=\"" + std::to_string(sizes.size()) + "\"";
  for (const char* metric : {"inputRate", "schedulingDelay", "processingTime", "totalDelay"}) {
    for (const char* kind : {"timeline-", "histogram-"}) {
      std::string tag = openingTag(dom, std::string(kind) + metric);
      EXPECT_THAT(tag, ::testing::HasSubstr(points)) << kind << metric << ": the chart did not draw every batch";
      EXPECT_THAT(tag, ::testing::HasSubstr("data-drawn=\"true\"")) << kind << metric << ": the canvas is empty";
    }
  }
  std::size_t table = dom.find("id=\"completed-table\"");
  std::vector<std::int64_t> rows;
  const std::string row = "<tr data-batch-id=\"";
  for (std::size_t at = dom.find(row, table); at != std::string::npos; at = dom.find(row, at + 1)) {
    rows.push_back(std::stoll(dom.substr(at + row.size(), 20)));
  }
  std::vector<std::int64_t> expected;
  for (auto it = batches.rbegin(); it != batches.rend(); ++it) expected.push_back(toMillis(it->batchTime));
  EXPECT_EQ(rows, expected) << "the completed batches' rows, newest first";
  EXPECT_THAT(dom, ::testing::HasSubstr("data-rows=\"" + std::to_string(sizes.size()) + "\""));

  // A batch's page: its output operations.
  std::string newest = std::to_string(toMillis(batches.back().batchTime));
  auto batchFile = dir / "batch.html";
  ASSERT_EQ(runChromium(dir, {"--dump-dom"}, *url + "/streaming/batch/?id=" + newest, batchFile), 0)
      << "chromium failed:\n" << readAll(dir / "chromium.err");
  std::string batchDom = readAll(batchFile);
  EXPECT_THAT(openingTag(batchDom, "operations-table"), ::testing::HasSubstr("data-rows=\"2\"")) << batchDom;
  EXPECT_THAT(batchDom, ::testing::HasSubstr("<td>foreachRDD</td>")) << "the operations are not named";

  // The screenshot, kept as an artifact.
  std::filesystem::path shot = std::filesystem::path(DSTREAM_UI_ARTIFACT_DIR) / "ui_screenshot.png";
  std::filesystem::remove(shot);
  ASSERT_EQ(runChromium(dir, {"--screenshot=" + shot.string(), "--window-size=1280,1900", "--hide-scrollbars"},
                        *url + "/streaming/", dir / "screenshot.out"),
            0)
      << "chromium failed:\n" << readAll(dir / "chromium.err");
  ASSERT_TRUE(std::filesystem::exists(shot)) << readAll(dir / "chromium.err");
  EXPECT_GT(std::filesystem::file_size(shot), 20'000u) << "a blank screenshot?";
  std::cout << "Streaming UI screenshot: " << shot.string() << "\n";
  ssc.stop();
}

}  // namespace
}  // namespace dstream
