// The lab over Kafka, as examples/lab10/README.md shows it: kcat feeds the lab's
// meetup.data.* into a topic of dstream-kafka-mock, and the lab's venue count
// (step5_venuecounter --kafka BOOTSTRAP --topic NAME) reads it. The lines and venues it counts,
// summed over its batches, are the totals computed from the files.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "dstream/json.h"
#include "kafka/kafka_test_util.h"
#include "testing/child_process.h"
#include "testing/files.h"

namespace dstream {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;

struct Totals {
  long lines = 0;
  long venues = 0;
  friend bool operator==(const Totals&, const Totals&) = default;
};

std::ostream& operator<<(std::ostream& os, const Totals& t) { return os << t.lines << " lines, " << t.venues << " venues"; }

// The lab's counts computed from the files themselves: lines, and lines with a venue.
Totals fromFiles(const std::vector<fs::path>& files) {
  Totals t;
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      ++t.lines;
      if (json::field(line, "venue")) ++t.venues;
    }
  }
  return t;
}

// The venue count's pprint output summed over its batches. Each batch prints three blocks:
// the line count, the venue count, the venues (JSON objects, never a bare number).
Totals fromOutput(const std::string& output) {
  static const std::regex count("-{43}\nTime: [^\n]*\n-{43}\n([0-9]+)\n");
  Totals t;
  int n = 0;
  for (std::sregex_iterator it(output.begin(), output.end(), count), end; it != end; ++it, ++n) {
    (n % 2 == 0 ? t.lines : t.venues) += std::stol((*it)[1]);
  }
  return t;
}

std::string kcatPath() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    if (fs::exists(fs::path(dir) / "kcat")) return (fs::path(dir) / "kcat").string();
  }
  return {};
}

// `cat files | kcat -P -b BOOTSTRAP -t TOPIC`: one record per line; kcat exits once every
// record is acknowledged.
void feed(const std::string& kcat, const std::string& bootstrap, const std::string& topic, const std::vector<fs::path>& files) {
  ChildProcess p({kcat, "-P", "-b", bootstrap, "-t", topic}, {.pipeStdin = true});
  for (const auto& f : files) p.writeInput(testing::readFile(f));
  p.closeInput();
  ASSERT_EQ(p.wait(), 0) << p.output();
}

// Waits until the program's output adds up to `expected` (each new batch printed is a chance).
bool waitForTotals(ChildProcess& p, const Totals& expected) {
  testing::Deadline deadline(testing::kWaitTimeout);
  while (fromOutput(p.output()) != expected) {
    if (deadline.passed() || !p.waitForOutput("Time: ", testing::kWaitTimeout, p.output().size())) return false;
  }
  return true;
}

TEST(LabOverKafkaTest, TheVenueCountReadsTheFilesFedWithKcatExactly) {
  const char* shared = std::getenv("DSTREAM_SHARED_DATA");  // set by dstream_test (tests/CMakeLists.txt)
  const fs::path data = fs::path(shared ? shared : "../shared/data") / "lab10";
  std::vector<fs::path> files;
  for (int i = 1; i <= 6; ++i) files.push_back(data / ("meetup.data." + std::to_string(i)));
  for (const auto& f : files) {
    if (!fs::exists(f)) GTEST_SKIP() << "the lab's data is absent (" << f.string() << "): ../shared/data/lab10 holds it";
  }
  const std::string kcat = kcatPath();
  if (kcat.empty()) GTEST_SKIP() << "kcat is not installed (Debian's kcat package): the lab feeds Kafka with it";

  testing::MockCluster mock({"--topic", "meetups:3"});
  const std::vector<fs::path> firstHalf(files.begin(), files.begin() + 3), secondHalf(files.begin() + 3, files.end());
  // Half before the program starts (read from the topic's start), half while it runs.
  feed(kcat, mock.bootstrap(), "meetups", firstHalf);
  testing::TempDir logs;
  ChildProcess p({DSTREAM_LAB_VENUECOUNTER, "--kafka", mock.bootstrap(), "--topic", "meetups", "--batch", "0.5"},
                 {.stderrFile = logs.path() / "stderr"});
  ASSERT_TRUE(waitForTotals(p, fromFiles(firstHalf))) << fromOutput(p.output()) << "\n" << p.output();
  feed(kcat, mock.bootstrap(), "meetups", secondHalf);
  const Totals expected = fromFiles(files);
  EXPECT_EQ(expected, (Totals{1162, 958}));  // the lab's figures (examples/lab10/README.md)
  ASSERT_TRUE(waitForTotals(p, expected)) << fromOutput(p.output()) << "\n" << p.output();
  // SIGTERM stops it gracefully: the batches generated so far print before it exits, and
  // none may count a record again.
  p.signal(SIGTERM);
  ASSERT_EQ(p.wait(), 0) << testing::readFile(logs.path() / "stderr");
  EXPECT_EQ(fromOutput(p.output()), expected);
}

TEST(LabOverKafkaTest, BadKafkaOptionsAreRefusedNamingThem) {
  std::string out, err;
  EXPECT_NE(testing::run({DSTREAM_LAB_VENUECOUNTER, "--kafka", "127.0.0.1:1", "--kafka-offset-reset", "sometimes"}, &out, &err), 0);
  EXPECT_NE(err.find("--kafka-offset-reset: sometimes not in {earliest,latest}"), std::string::npos) << err;
  EXPECT_NE(testing::run({DSTREAM_LAB_VENUECOUNTER, "--topic", "meetups"}, &out, &err), 0);
  EXPECT_NE(err.find("--topic requires --kafka"), std::string::npos) << err;
}

}  // namespace
}  // namespace dstream
