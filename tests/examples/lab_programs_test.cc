// Each lab program runs as examples/lab10/README.md documents it.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "testing/child_process.h"
#include "testing/files.h"
#include "testing/loopback.h"

namespace dstream {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::LoopbackServer;
using testing::moveIn;
using testing::readFile;
using testing::TempDir;

std::string program(const char* name) { return std::string(LAB_BIN_DIR) + "/" + name; }

fs::path labData(const char* name) {
  const char* shared = std::getenv("DSTREAM_SHARED_DATA");
  return shared ? fs::path(shared) / "lab10" / name : fs::path();
}

const char kWords[] = "hej\nkalle\nkula\nnisse\nHello\ncoloraDO\nDOrado\neldorade\ngatrorade\n";

// Runs lab program `name` over a fresh directory (0.2 s batches); once it printed its first
// batch, moves kWords in as `file` and waits for `last` in its output. Returns the output.
std::string outputOverWordsFile(const char* name, const char* file, const std::string& last) {
  TempDir dir;
  ChildProcess p({program(name), "--dir", dir.path().string(), "--batch", "0.2"});
  EXPECT_TRUE(p.waitForOutput("Time: ")) << p.output();
  moveIn(dir.path(), file, kWords);
  EXPECT_TRUE(p.waitForOutput(last)) << p.output();
  return p.output();
}

TEST(LabProgramsTest, Step1UpperCasesFilesCopiedIn) {
  std::string out = outputOverWordsFile("step1_text_file_stream", "words", "GATRORADE");
  EXPECT_NE(out.find("HEJ\nKALLE\nKULA\nNISSE\nHELLO\nCOLORADO\nDORADO\nELDORADE\nGATRORADE\n"), std::string::npos);
}

TEST(LabProgramsTest, Submission1PrintsOnlyWordsLongerThanFive) {
  std::string out = outputOverWordsFile("submission1_long_words", "w1", "gatrorade");
  EXPECT_NE(out.find("coloraDO\nDOrado\neldorade\ngatrorade\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("kalle"), std::string::npos);
}

// Starts lab program `name` reading from `server` (then `args`) and accepts its connection.
std::unique_ptr<ChildProcess> startOnSocket(const char* name, LoopbackServer& server, std::vector<std::string> args) {
  std::vector<std::string> argv = {program(name), "--host", "127.0.0.1", "--port", std::to_string(server.port())};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = std::make_unique<ChildProcess>(std::move(argv));
  server.accept();
  return p;
}

TEST(LabProgramsTest, Step2UpperCasesLinesFromASocket) {
  LoopbackServer server;
  auto p = startOnSocket("step2_socket_text_stream", server, {"--batch", "0.2"});
  server.send("hej kalle\n");
  ASSERT_TRUE(p->waitForOutput("HEJ KALLE")) << p->output();
}

TEST(LabProgramsTest, Step3AndSubmission2CountAndSaveTheVenues) {
  if (!fs::exists(labData("meetup.data.1"))) GTEST_SKIP() << "the lab's data (../shared/data/lab10) is absent";
  TempDir dir, out;
  fs::create_directory(dir.path() / "in");
  ChildProcess step3({program("step3_venues_from_files"), "--dir", (dir.path() / "in").string(), "--batch", "0.5"});
  ChildProcess sub2({program("submission2_save_venues"), "--dir", (dir.path() / "in").string(), "--batch", "0.5",
                     "--output", (out.path() / "venues").string(), "--run-for", "30"});
  ASSERT_TRUE(step3.waitForOutput("Time: "));
  ASSERT_TRUE(sub2.waitForOutput("Time: "));
  moveIn(dir.path() / "in", "meetup.data.1", readFile(labData("meetup.data.1")));
  ASSERT_TRUE(step3.waitForOutput("\n165\n")) << step3.output();
  EXPECT_TRUE(step3.waitForOutput("Couchbase San Francisco"));
  ASSERT_TRUE(sub2.waitForOutput("\n165\n")) << sub2.output();
  // The next batch's header shows that the batch with the venues finished saving.
  ASSERT_TRUE(sub2.waitForOutput("Time: ", std::chrono::seconds(30), sub2.output().find("\n165\n")));
  // The batch that held the file saved 165 venues, each a JSON object, with a _SUCCESS marker.
  long saved = 0;
  for (const auto& d : fs::directory_iterator(out.path())) {
    if (d.path().filename().string().front() == '.') continue;  // a batch being written
    ASSERT_TRUE(fs::exists(d.path() / "_SUCCESS")) << d.path();
    for (const auto& f : fs::directory_iterator(d.path())) {
      if (f.path().filename().string().rfind("part-", 0) != 0) continue;
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);) {
        EXPECT_EQ(line.front(), '{');
        ++saved;
      }
    }
  }
  EXPECT_EQ(saved, 165);
}

// The bodies of the pprint blocks in `output`, in order (each block: dashes, Time, dashes, body).
// The program's log lines (stderr shares the pipe) are left out.
std::vector<std::string> pprintBodies(const std::string& mixed) {
  std::string output;
  for (std::size_t pos = 0; pos < mixed.size();) {
    std::size_t end = std::min(mixed.find('\n', pos), mixed.size() - 1) + 1;
    if (mixed.compare(pos, 9, "dstream: ") != 0) output.append(mixed, pos, end - pos);
    pos = end;
  }
  const std::string dashes(43, '-');
  const std::string open = dashes + "\nTime: ";
  std::vector<std::string> bodies;
  std::size_t at = output.find(open);
  while (at != std::string::npos) {
    std::size_t headerEnd = output.find(dashes + "\n", at + open.size());
    if (headerEnd == std::string::npos) break;
    std::size_t from = headerEnd + dashes.size() + 1;
    std::size_t next = output.find(open, from);
    bodies.push_back(output.substr(from, (next == std::string::npos ? output.size() : next) - from));
    at = next;
  }
  return bodies;
}

// Waits until the program has read the whole stream (it logs the server's close), then stops
// it with SIGTERM, which stops it gracefully: every line received is printed. No real-time
// margin: however slow the machine, nothing is cut off.
void stopOnceTheStreamEnded(ChildProcess& p) {
  ASSERT_TRUE(p.waitForOutput("connection closed by the server")) << p.output();
  p.signal(SIGTERM);
  ASSERT_EQ(p.wait(), 0) << p.output();
}

TEST(LabProgramsTest, Step5CountsLinesAndVenuesFromASocket) {
  if (!fs::exists(labData("meetup.data.6"))) GTEST_SKIP() << "the lab's data (../shared/data/lab10) is absent";
  LoopbackServer server;
  auto started = startOnSocket("step5_venuecounter", server, {"--batch", "0.5"});
  ChildProcess& p = *started;
  server.send(readFile(labData("meetup.data.6")));
  server.closeClient();
  stopOnceTheStreamEnded(p);
  // Each batch prints three blocks: lines, venues, the venues. Summed over batches (the lines
  // may straddle a batch boundary): 162 lines, 134 with a venue.
  auto bodies = pprintBodies(p.output());
  ASSERT_EQ(bodies.size() % 3, 0u) << p.output();
  long lines = 0, venues = 0;
  for (std::size_t i = 0; i + 2 < bodies.size(); i += 3) {
    lines += std::stol(bodies[i]);
    venues += std::stol(bodies[i + 1]);
  }
  EXPECT_EQ(lines, 162);
  EXPECT_EQ(venues, 134);
}

TEST(LabProgramsTest, Step6WindowedCountIsTheSumOfTheThreeLatestBatches) {  // Submission 4a
  LoopbackServer server;
  TempDir checkpoints;
  auto started = startOnSocket("step6_venuecounter2", server, {"--scale", "0.02", "--checkpoint", checkpoints.path().string()});
  ChildProcess& p = *started;
  // 0.2 s batches, a 0.6 s window sliding every 0.2 s: each chunk goes out once the program
  // has printed another batch (four blocks), so the lines spread over batches however slow
  // the machine is.
  const std::string header = "-------------------------------------------\nTime: ";
  std::size_t seen = 0;
  for (int chunk = 0; chunk < 12; ++chunk) {
    for (int block = 0; block < (chunk == 0 ? 1 : 4); ++block) {
      ASSERT_TRUE(p.waitForOutput(header, testing::kWaitTimeout, seen)) << p.output();
      seen = p.output().find(header, seen) + header.size();
    }
    std::string lines;
    for (int i = 0; i <= chunk; ++i) lines += i % 2 ? "{\"venue\":{\"venue_name\":\"v\"}}\n" : "{\"guests\":0}\n";
    server.send(lines);
  }
  server.closeClient();
  stopOnceTheStreamEnded(p);
  // Per batch: countByWindow, lines.count(), venues.count(), the venues.
  auto bodies = pprintBodies(p.output());
  ASSERT_EQ(bodies.size() % 4, 0u) << p.output();
  std::vector<long> lines;
  long checked = 0, total = 0;
  for (std::size_t i = 0; i + 3 < bodies.size(); i += 4) {
    lines.push_back(std::stol(bodies[i + 1]));
    total += lines.back();
    long window = 0;
    for (std::size_t k = lines.size() >= 3 ? lines.size() - 3 : 0; k < lines.size(); ++k) window += lines[k];
    if (bodies[i].find_first_of("0123456789") == std::string::npos) {
      EXPECT_EQ(window, 0) << "an empty window output before any data";  // Spark: nothing until data
      continue;
    }
    EXPECT_EQ(std::stol(bodies[i]), window) << "batch " << i / 4 << "\n" << p.output();
    ++checked;
  }
  EXPECT_EQ(total, 78);  // 1 + 2 + ... + 12 lines sent
  EXPECT_GE(checked, 5);
}

TEST(LabProgramsTest, BadOptionsAreReportedByName) {
  ChildProcess p({program("step5_venuecounter"), "--port", "70000"});
  EXPECT_NE(p.wait(), 0);
  EXPECT_NE(p.output().find("--port"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace dstream
