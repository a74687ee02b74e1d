#include "replay/line_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "dstream/error.h"
#include "replay/line_input.h"
#include "tools/tools_test_util.h"

namespace dstream::tools {
namespace {

using namespace std::chrono_literals;
using testing::LineClient;
using testing::numberedLines;
using testing::TempDir;

LineServerOptions textOptions(std::string text) {
  LineServerOptions o;
  o.text = std::move(text);
  o.log = false;
  return o;
}

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

TEST(LineServerTest, ClientReceivesExactlyTheFilesLinesInOrder) {
  TempDir dir;
  testing::writeFile(dir.path() / "a.txt", numberedLines(1000));
  testing::writeFile(dir.path() / "b.txt", "last without newline");
  LineServerOptions o;
  o.files = {dir.path() / "a.txt", dir.path() / "b.txt"};
  o.exitWhenDone = true;
  o.log = false;
  LineServer server(o);
  server.start();
  LineClient client(server.port());
  EXPECT_EQ(client.readToEof(), numberedLines(1000) + "last without newline\n");
  EXPECT_TRUE(server.waitForDone(10s));
  EXPECT_EQ(server.linesSent(), 1001u);
}

TEST(LineServerTest, TwoConnectedClientsBothReceiveTheLines) {
  LineServerOptions o = textOptions(numberedLines(50));
  o.rate = 100;  // 0.5 s of stream, so the second client joins early
  o.exitWhenDone = true;
  LineServer server(o);
  server.start();
  LineClient a(server.port());
  ASSERT_TRUE(server.waitForClients(1, 10s));
  LineClient b(server.port());
  ASSERT_TRUE(server.waitForClients(2, 10s));
  uint64_t sentBeforeB = server.linesSent();
  EXPECT_EQ(a.readToEof(), numberedLines(50));
  std::string gotB = b.readToEof();
  // B hears every line released after it joined (at most one line was in flight): a suffix.
  EXPECT_TRUE(numberedLines(50).ends_with(gotB));
  auto linesB = static_cast<uint64_t>(std::count(gotB.begin(), gotB.end(), '\n'));
  EXPECT_GE(linesB + sentBeforeB + 1, 50u);
}

TEST(LineServerTest, NewClientContinuesFromTheCursorAfterADisconnect) {
  LineServerOptions o = textOptions(numberedLines(10));
  o.burst = 3;  // 3 lines when a client arrives, then nothing for an hour
  o.burstEvery = 3600s;
  LineServer server(o);
  server.start();
  {
    LineClient a(server.port());
    EXPECT_EQ(a.readLines(3), numbered(0, 3));
    ASSERT_TRUE(server.waitForLinesSent(3, 10s));
  }
  ASSERT_TRUE(server.waitForClientCount(0, 10s));
  EXPECT_EQ(server.linesSent(), 3u);  // the cursor held while nobody listened
  LineClient b(server.port());
  EXPECT_EQ(b.readLines(3), numbered(3, 6));
}

TEST(LineServerTest, HttpHeaderComesFirstForEachClient) {
  LineServerOptions o = textOptions("{\"a\":1}\n{\"a\":2}\n");
  o.httpHeader = true;
  o.exitWhenDone = true;
  LineServer server(o);
  server.start();
  LineClient client(server.port());
  std::string got = client.readToEof();
  ASSERT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  std::size_t body = got.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(got.substr(body + 4), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(LineServerTest, RatePacesTheLines) {
  LineServerOptions o = textOptions(numberedLines(200));
  o.rate = 1000;
  LineServer server(o);
  server.start();
  auto begin = std::chrono::steady_clock::now();
  LineClient client(server.port());
  EXPECT_EQ(client.readLines(200), numbered(0, 200));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 150ms);  // ~199 ms at 1000 lines/s
}

TEST(LineServerTest, BurstsReleaseNLinesEveryInterval) {
  LineServerOptions o = textOptions(numberedLines(15));
  o.burst = 5;
  o.burstEvery = 100ms;
  LineServer server(o);
  server.start();
  auto begin = std::chrono::steady_clock::now();
  LineClient client(server.port());
  EXPECT_EQ(client.readLines(15), numbered(0, 15));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 180ms);  // bursts at 0, 100, 200 ms
}

TEST(LineServerTest, LoopsUntilTheLimit) {
  LineServerOptions o = textOptions("a\nb\nc\n");
  o.loop = true;
  o.limit = 7;
  o.exitWhenDone = true;
  LineServer server(o);
  server.start();
  LineClient client(server.port());
  EXPECT_EQ(client.readToEof(), "a\nb\nc\na\nb\nc\na\n");
  EXPECT_TRUE(server.waitForDone(10s));
  EXPECT_EQ(server.linesSent(), 7u);
}

TEST(LineServerTest, StalledClientIsDroppedSoOthersContinue) {
  std::string big = numberedLines(1500000);  // 20 MB: more than the stalled socket buffers
  LineServerOptions o = textOptions(big);
  o.exitWhenDone = true;
  // Real time: long enough that the reading client, descheduled on a loaded machine, is not
  // taken for a stalled one (its socket buffers also absorb a pause).
  o.stallTimeout = 2s;
  LineServer server(o);
  server.start();
  LineClient stalled(server.port());  // never reads
  ASSERT_TRUE(server.waitForClients(1, 10s));
  LineClient reader(server.port());
  ASSERT_TRUE(server.waitForClients(2, 10s));
  std::string got = reader.readToEof(60s);
  // The reader hears everything from some line on, starting at a line boundary.
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(big.ends_with(got));
  EXPECT_TRUE(got.size() == big.size() || big[big.size() - got.size() - 1] == '\n');
  EXPECT_TRUE(server.waitForDone(10s));
}

// Issue 10: a 300 MB line made dstream-replay buffer it whole (820 MB) and send nothing until
// it ended. It now goes through in pieces, with memory bounded by the piece size.
TEST(LineInputTest, OverLongLineIsHandedOutInPiecesWithBoundedMemory) {
  const std::string longLine(20 * kMaxLinePieceBytes, 'x');
  const std::string text = "a\n" + longLine + "\nb\n";
  LineInput input({}, text, /*loop=*/false);
  std::string all, out;
  uint64_t lines = 0;
  std::size_t largestTake = 0, largestBuffer = 0;
  for (int calls = 0; calls < 10'000; ++calls) {
    out.clear();
    LineInput::Status status = input.take(out, 1000, 256 * 1024, &lines);
    largestTake = std::max(largestTake, out.size());
    largestBuffer = std::max(largestBuffer, input.bufferCapacity());
    all += out;
    if (status == LineInput::Status::kEnd) break;
  }
  EXPECT_EQ(all, text);
  EXPECT_EQ(lines, 3u);
  EXPECT_LE(largestTake, 2 * kMaxLinePieceBytes + 1);
  EXPECT_LE(largestBuffer, 2 * kMaxLinePieceBytes + 1);
}

TEST(LineServerTest, OverLongLineReachesTheClientWhole) {
  const std::string text = "first\n" + std::string(8 * kMaxLinePieceBytes, 'y') + "\nlast\n";
  LineServerOptions o = textOptions(text);
  o.exitWhenDone = true;
  LineServer server(o);
  server.start();
  LineClient client(server.port());
  EXPECT_EQ(client.readToEof(), text);
  EXPECT_TRUE(server.waitForDone(10s));
  EXPECT_EQ(server.linesSent(), 3u);
}

// Starts `server`, which must fail with Error(`code`) whose message contains `named`.
void expectStartFails(LineServer& server, ErrorCode code, const std::string& named) {
  try {
    server.start();
    ADD_FAILURE() << "no error; expected one naming " << named;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code);
    EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
  }
}

TEST(LineServerTest, MissingInputFileIsANotFoundErrorNamingIt) {
  LineServerOptions o;
  o.files = {"/nonexistent/dstream/rsvps.json"};
  LineServer server(o);
  expectStartFails(server, ErrorCode::kNotFound, "/nonexistent/dstream/rsvps.json");
}

TEST(LineServerTest, BadOptionsAreInvalidArguments) {
  LineServerOptions negative = textOptions("x\n");
  negative.rate = -1;
  EXPECT_THROW(LineServer{negative}, Error);
  LineServerOptions burstOnly = textOptions("x\n");
  burstOnly.burst = 5;
  EXPECT_THROW(LineServer{burstOnly}, Error);
  LineServerOptions noInput;
  EXPECT_THROW(LineServer{noInput}, Error);
  LineServerOptions twoStdins;
  twoStdins.files = {"-", "-"};
  EXPECT_THROW(LineServer(twoStdins).start(), Error);
  LineServerOptions badHost = textOptions("x\n");
  badHost.host = "no.such.host.invalid";
  EXPECT_THROW(LineServer(badHost).start(), Error);
}

TEST(LineServerTest, BusyPortIsUnavailable) {
  LineServer first(textOptions("x\n"));
  first.start();
  LineServerOptions o = textOptions("x\n");
  o.port = first.port();
  LineServer second(o);
  expectStartFails(second, ErrorCode::kUnavailable, std::to_string(first.port()));
}

}  // namespace
}  // namespace dstream::tools
