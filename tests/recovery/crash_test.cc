// THE crash test (issue 6): a real program (crash_program.cc) on the system clock with 100 ms
// batches is killed with SIGKILL at random moments, and at named crash points (mid-output,
// mid-checkpoint), and restarted each time; then it runs to a graceful stop. The outputs must
// be exact: nothing lost, nothing counted twice, every batch directory complete.
// Reproducible: the kill schedule and the input come from DSTREAM_CRASH_SEED (default 6).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "api/test_util.h"
#include "checkpoint/write_ahead_log.h"
#include "dstream/serialize.h"
#include "recovery/crash_harness.h"

extern char** environ;

namespace dstream {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kCrashPoints[] = {"output-before-swap", "output-after-swap", "state-before-write",
                              "checkpoint-before-write", "checkpoint-after-write"};

TEST(CrashTest, KilledAtRandomMomentsTheFileWordCountLosesNothingAndCountsNothingTwice) {
  std::mt19937 rng(test::crashSeed());
  test::TempDir root;
  fs::path in = root.path() / "in", out = root.path() / "out", ckpt = root.path() / "ckpt";
  fs::create_directories(in);
  fs::create_directories(out);
  std::map<std::string, long> expected;
  int files = 0;
  auto writeSomeInput = [&] {
    std::string text;
    int n = std::uniform_int_distribution(1, 30)(rng);
    for (int i = 0; i < n; ++i) {
      std::string w(1, 'w');
      w += std::to_string(std::uniform_int_distribution(0, 19)(rng));
      ++expected[w];
      text += w + (i % 7 == 6 ? "\n" : " ");
    }
    std::string name = "input-";
    name += std::to_string(files++);
    test::writeFileNow(in, name, text);
  };
  const int kKills = 24;
  int pointKills = 0;
  for (int k = 0; k < kKills; ++k) {
    // Every third life ends at a named crash point (its n-th pass), the others at a random time.
    std::string point;
    if (k % 3 == 1) {
      point = std::string(kCrashPoints[(k / 3) % std::size(kCrashPoints)]) + ":" +
              std::to_string(std::uniform_int_distribution(1, 6)(rng));
    }
    test::Child child({"file", in.string(), out.string(), ckpt.string()}, point, root.path() / "log");
    auto lifetime = std::chrono::milliseconds(std::uniform_int_distribution(80, 700)(rng));
    auto deadline = std::chrono::steady_clock::now() + (point.empty() ? lifetime : 5000ms);
    while (std::chrono::steady_clock::now() < deadline && child.running()) {
      writeSomeInput();
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(10, 90)(rng)));
    }
    bool diedAtPoint = !child.running();
    child.kill();
    if (!point.empty()) {
      EXPECT_TRUE(diedAtPoint) << "crash point " << point << " was not reached";
      pointKills += diedAtPoint;
    }
  }
  EXPECT_GE(pointKills, 6);
  for (int i = 0; i < 5; ++i) writeSomeInput();
  test::Child last({"file", in.string(), out.string(), ckpt.string()}, "", root.path() / "log");
  std::this_thread::sleep_for(300ms);
  test::writeFileNow(root.path(), "stop", "");
  ASSERT_EQ(last.wait(60s), 0) << test::readLog(root.path() / "log");

  test::BatchOutputs outputs = test::readOutputs(out);
  outputs.expectConsistent(Milliseconds(100), 3);
  EXPECT_EQ(outputs.finalTotals(), expected);
}

// Lines the receiver logged before each kill: they must all be in the final totals.
std::set<std::string> loggedLines(const fs::path& walDir) {
  std::set<std::string> lines;
  if (!fs::exists(walDir)) return lines;
  detail::WriteAheadLog wal(walDir.string(), {.onWarning = [](const std::string&) {}});
  for (auto& rec : wal.readAll()) {
    BinaryReader r(rec.payload);
    for (std::size_t n = r.readCount(), i = 0; i < n; ++i) lines.emplace(r.readBytes());
  }
  return lines;
}

TEST(CrashTest, KilledAtRandomMomentsTheSocketStreamWithAWriteAheadLogLosesNoLoggedLine) {
  std::mt19937 rng(test::crashSeed() + 1);
  test::TempDir root;
  fs::path out = root.path() / "out", ckpt = root.path() / "ckpt";
  fs::create_directories(out);
  test::LineServer server;
  std::set<std::string> logged;
  const int kKills = 8;
  for (int k = 0; k < kKills; ++k) {
    test::Child child({"socket", std::to_string(server.port()), out.string(), ckpt.string()}, "", root.path() / "log");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(200, 800)(rng)));
    child.kill();
    auto now = loggedLines(ckpt / "receivedData" / "0");
    logged.insert(now.begin(), now.end());
  }
  test::Child last({"socket", std::to_string(server.port()), out.string(), ckpt.string()}, "", root.path() / "log");
  long sentBeforeLast = server.sent();
  ASSERT_TRUE(server.waitForSent(sentBeforeLast + 200, 30s));
  std::this_thread::sleep_for(300ms);
  server.pause();
  std::this_thread::sleep_for(300ms);
  test::writeFileNow(root.path(), "stop", "");
  ASSERT_EQ(last.wait(60s), 0) << test::readLog(root.path() / "log");

  test::BatchOutputs outputs = test::readOutputs(out);
  outputs.expectConsistent(Milliseconds(100), 3);
  auto totals = outputs.finalTotals();
  EXPECT_GT(logged.size(), 100u);
  for (const auto& line : logged) EXPECT_EQ(totals.count(line), 1u) << line << " was logged but is missing";
  for (const auto& [line, n] : totals) EXPECT_EQ(n, 1) << line << " counted " << n << " times";
  for (const auto& [line, n] : totals) EXPECT_LT(std::stol(line.substr(5)), server.sent()) << line;
  // Lines sent to the last, gracefully stopped run are all there.
  for (long i = server.firstSentTo(server.connections()); i < server.sent(); ++i) {
    EXPECT_EQ(totals.count(test::LineServer::line(i)), 1u) << test::LineServer::line(i);
  }
}

}  // namespace
}  // namespace dstream
