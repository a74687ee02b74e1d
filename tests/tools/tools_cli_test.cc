// Runs the dstream-gen and dstream-replay executables as a user would.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "datagen/datagen.h"
#include "tools/tools_test_util.h"

namespace dstream::tools {
namespace {

using testing::readFile;
using testing::run;
using testing::TempDir;

TEST(DstreamGenTest, WritesRecordsToStdoutAndSplitsFilesAtomically) {
  std::string out, err;
  ASSERT_EQ(run({DSTREAM_GEN_PATH, "wrecords", "--count", "3", "--first", "2"}, &out, &err), 0)
      << err;
  std::string expected;
  datagen::appendWRecords(expected, 2, 3);
  EXPECT_EQ(out, expected);

  TempDir dir;
  std::string base = (dir.path() / "rsvps").string();
  ASSERT_EQ(run({DSTREAM_GEN_PATH, "meetup", "--count", "10", "--seed", "4", "--output", base,
                 "--files", "3"},
                &out, &err),
            0)
      << err;
  std::string whole;
  datagen::appendMeetupRecords(whole, 4, 0, 10);
  EXPECT_EQ(readFile(base + ".0") + readFile(base + ".1") + readFile(base + ".2"), whole);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos);  // no leftovers
  }
  EXPECT_EQ(entries, 3);

  std::string campaigns = (dir.path() / "campaigns.csv").string();
  ASSERT_EQ(run({DSTREAM_GEN_PATH, "ysb", "--count", "5", "--campaigns-out", campaigns}, &out, &err),
            0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5);
  std::string table = readFile(campaigns);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 1000);
}

TEST(DstreamGenTest, BadOptionsFailWithAMessage) {
  std::string out, err;
  EXPECT_NE(run({DSTREAM_GEN_PATH, "wrecords"}, &out, &err), 0);
  EXPECT_NE(err.find("--count"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_GEN_PATH, "wrecords", "--count", "x"}, &out, &err), 0);
  EXPECT_NE(run({DSTREAM_GEN_PATH, "nosuchkind", "--count", "1"}, &out, &err), 0);
  EXPECT_NE(run({DSTREAM_GEN_PATH, "wrecords", "--count", "1", "--vocab", "0"}, &out, &err), 0);
  EXPECT_NE(err.find("vocabulary size 0"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_GEN_PATH, "meetup", "--count", "1", "--files", "2"}, &out, &err), 0);
  EXPECT_NE(err.find("--output"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_GEN_PATH, "meetup", "--count", "1", "--output", "/nonexistent/dir/f"},
                &out, &err),
            0);
  EXPECT_NE(err.find("/nonexistent/dir/f"), std::string::npos) << err;
}

// Issue 10: "--count -5" was read as 2^64 - 5 and filled the disk. Output goes to /dev/null so
// that the unfixed program only runs into the deadline.
TEST(DstreamGenTest, NegativeAndAbsurdNumbersAreRefusedBeforeAnyOutput) {
  TempDir dir;
  const std::vector<std::vector<std::string>> cases = {
      {"wrecords", "--count", "-5"},
      {"wrecords", "--count", "99999999999999999999999"},
      {"meetup", "--count", "1000000000001"},
      {"wrecords", "--count", "3", "--first", "-1"},
      {"ysb", "--count", "3", "--seed", "-2"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv{DSTREAM_GEN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    dstream::testing::ChildProcess gen(argv, {.stdoutFile = "/dev/null", .stderrFile = dir.path() / "err"});
    int status = gen.wait(Seconds(10));
    ASSERT_NE(status, -1) << "still writing records for " << args[1] << " " << args[2];
    EXPECT_NE(status, 0) << args[2];
    std::string err = readFile(dir.path() / "err");
    EXPECT_NE(err.find("is not a whole number from 0 to"), std::string::npos) << err;
  }
}

TEST(DstreamGenTest, MessagesNameTheToolOnceTheUnknownSubcommandAndShortLimits) {
  std::string out, err;
  EXPECT_EQ(run({DSTREAM_GEN_PATH, "meetup", "--count", "1", "--output", "/nonexistent/dir/f"}, &out, &err), 1);
  EXPECT_EQ(err.rfind("dstream-gen: cannot create output file '/nonexistent/dir/f'", 0), 0u) << err;
  EXPECT_EQ(err.find("dstream: "), std::string::npos) << err;

  EXPECT_NE(run({DSTREAM_GEN_PATH, "nosuchkind", "--count", "1"}, &out, &err), 0);
  EXPECT_NE(err.find("unknown subcommand 'nosuchkind'; use wrecords, meetup or ysb"), std::string::npos)
      << err;
  EXPECT_NE(run({DSTREAM_GEN_PATH, "--output", "wrecords", "mistyped", "--count", "1"}, &out, &err), 0);
  EXPECT_NE(err.find("'mistyped'"), std::string::npos) << err;

  EXPECT_NE(run({DSTREAM_GEN_PATH, "ysb", "--count", "1", "--events-per-second", "-1"}, &out, &err), 0);
  EXPECT_NE(err.find("'-1' is not a whole number from 1 to 1000000000"), std::string::npos) << err;
  EXPECT_LT(err.size(), 200u) << err;  // no 300-digit limits
}

TEST(DstreamReplayTest, MessagesNameTheToolOnceAndShortLimits) {
  std::string out, err;
  EXPECT_EQ(run({DSTREAM_REPLAY_PATH, "--port", "0", "/nonexistent/rsvps.json"}, &out, &err), 1);
  EXPECT_EQ(err.rfind("dstream-replay: input file '/nonexistent/rsvps.json'", 0), 0u) << err;
  EXPECT_EQ(err.find("dstream: "), std::string::npos) << err;
  for (const char* rate : {"-5", "1e400", "nan"}) {
    EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--rate", rate, "x"}, &out, &err), 0);
    EXPECT_NE(err.find(std::string("'") + rate + "' is not a number from 0 to 1e+09"), std::string::npos) << err;
    EXPECT_LT(err.size(), 200u) << err;
  }
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "99999", "x"}, &out, &err), 0);
  EXPECT_NE(err.find("'99999' is not a whole number from 0 to 65535"), std::string::npos) << err;
}

TEST(DstreamReplayTest, ServesAFileOnTheReportedPortAndExitsWhenDone) {
  TempDir dir;
  testing::writeFile(dir.path() / "in.txt", testing::numberedLines(100));
  auto portFile = dir.path() / "port";
  testing::Child replay({DSTREAM_REPLAY_PATH, "--port", "0", "--port-file", portFile.string(),
                         "--exit-when-done", (dir.path() / "in.txt").string()},
                        dir.path() / "out", dir.path() / "err");
  // The port file appears (renamed into place) once the server listens.
  ASSERT_TRUE(dstream::testing::waitForFile(portFile, Seconds(20)))
      << "no port file; stderr: " << readFile(dir.path() / "err");
  int port = std::stoi(readFile(portFile));
  testing::LineClient client(static_cast<uint16_t>(port));
  EXPECT_EQ(client.readToEof(), testing::numberedLines(100));
  EXPECT_EQ(replay.wait(), 0);
  std::string err = readFile(dir.path() / "err");
  EXPECT_NE(err.find("dstream-replay: listening on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("connected"), std::string::npos) << err;
}

TEST(DstreamReplayTest, BadOptionsAndMissingFilesFailWithAMessage) {
  std::string out, err;
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--rate", "-5", "x"}, &out, &err), 0);
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0"}, &out, &err), 0);  // no input
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0", "--burst", "3", "x"}, &out, &err), 0);
  EXPECT_EQ(run({DSTREAM_REPLAY_PATH, "--port", "0", "/nonexistent/rsvps.json"}, &out, &err), 1);
  EXPECT_NE(err.find("/nonexistent/rsvps.json"), std::string::npos) << err;
}

TEST(DstreamReplayTest, BurstOptionsThatDoNotMakeABurstAreRefusedNamingThem) {
  std::string out, err;
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0", "--burst-rate", "100", "x"}, &out, &err), 0);
  EXPECT_NE(err.find("--burst-rate needs a steady --rate and a positive --burst-seconds (the burst's length)"),
            std::string::npos)
      << err;
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0", "--rate", "10", "--burst-rate", "100", "x"}, &out, &err), 0);
  EXPECT_NE(err.find("--burst-rate needs a steady --rate and a positive --burst-seconds"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0", "--rate", "10", "--burst-at", "3", "x"}, &out, &err), 0);
  EXPECT_NE(err.find("--burst-at or --burst-seconds was given without --burst-rate"), std::string::npos) << err;
  EXPECT_NE(run({DSTREAM_REPLAY_PATH, "--port", "0", "--rate", "10", "--burst-seconds", "-1", "x"}, &out, &err), 0);
  EXPECT_LT(err.size(), 200u) << err;
}

}  // namespace
}  // namespace dstream::tools
