// bench_sources: how fast the sources ingest, next to the raw limits measured in the same run.
//   socket: socketTextStream fed by an in-process tools::LineServer as fast as it can send,
//           against a plain loopback TCP client reading the same server into a buffer;
//   file:   textFileStream over files moved in atomically (page cache), against read() of
//           the same files.
// Prints one JSON object per measurement; the figures are medians of --runs runs.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_util.h"
#include "datagen/datagen.h"
#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "replay/line_server.h"

namespace {

using namespace dstream;
using namespace dstream::bench;
namespace fs = std::filesystem;

tools::LineServerOptions serverOptions(const std::string& text, std::uint64_t lines) {
  tools::LineServerOptions o;
  o.text = text;
  o.loop = true;
  o.limit = lines;
  o.exitWhenDone = true;
  o.log = false;
  return o;
}

// Seconds for dstream to count `lines` lines from a fresh server.
double socketEngine(const std::string& text, std::uint64_t lines, int threads) {
  tools::LineServer server(serverOptions(text, lines));
  server.start();
  StreamingContext ssc("local[" + std::to_string(threads) + "]", Milliseconds(100));
  auto counted = std::make_shared<std::atomic<long>>(0);
  ssc.socketTextStream("127.0.0.1", server.port(), {.retryInterval = Milliseconds(20), .blockInterval = Milliseconds(25)})
      .count()
      .foreachRDD([counted](const RDD<long>& rdd) { *counted += rdd.collect().at(0); });
  auto start = std::chrono::steady_clock::now();
  ssc.start();
  while (*counted < static_cast<long>(lines)) {
    if (secondsSince(start) > 300) throw std::runtime_error("socket source: lines missing after 300 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double s = secondsSince(start);
  ssc.stop();
  if (*counted != static_cast<long>(lines)) throw std::runtime_error("socket source: counted more lines than sent");
  return s;
}

// Seconds for a plain client to recv() `lines` lines' bytes into a 1 MiB buffer.
double socketRaw(const std::string& text, std::uint64_t lines) {
  tools::LineServer server(serverOptions(text, lines));
  server.start();
  auto start = std::chrono::steady_clock::now();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
  std::vector<char> buffer(1 << 20);
  std::uint64_t want = lines * datagen::kWRecordBytes, got = 0;
  while (got < want) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    got += static_cast<std::uint64_t>(n);
  }
  double s = secondsSince(start);
  ::close(fd);
  if (got < want) throw std::runtime_error("raw socket: connection ended early");
  return s;
}

// Seconds for textFileStream to read the files of `staging` once moved into `watched`.
double fileEngine(const fs::path& staging, const fs::path& watched, std::uint64_t lines, int threads) {
  fs::remove_all(watched);
  fs::create_directories(watched);
  auto now = floorTo(SystemClock().now(), Seconds(1));
  auto clock = std::make_shared<ManualClock>(now);
  StreamingContext ssc("local[" + std::to_string(threads) + "]", Seconds(1), {.clock = clock});
  auto counted = std::make_shared<long>(0);
  ssc.textFileStream(watched.string()).count().foreachRDD([counted](const RDD<long>& rdd) {
    *counted += rdd.collect().at(0);
  });
  ssc.start();
  Time first = dstream::testing::firstBatchTime(ssc);
  // Files are selected by modification time: place them inside the first batch.
  auto mtime = fs::file_time_type::clock::now() + (first - Milliseconds(500) - SystemClock().now());
  std::vector<fs::path> names;
  for (auto& e : fs::directory_iterator(staging)) names.push_back(e.path().filename());
  for (auto& n : names) {
    fs::last_write_time(staging / n, mtime);
    fs::rename(staging / n, watched / n);
  }
  auto start = std::chrono::steady_clock::now();
  clock->setTime(first);
  if (!dstream::testing::awaitBatchCompleted(ssc, first, Seconds(300))) throw std::runtime_error("file batch did not complete");
  double s = secondsSince(start);
  ssc.stop();
  for (auto& n : names) fs::rename(watched / n, staging / n);
  if (*counted != static_cast<long>(lines)) {
    throw std::runtime_error(fmt::format("file source: counted {} lines, expected {}", *counted, lines));
  }
  return s;
}

double fileRaw(const fs::path& staging) {
  std::vector<char> buffer(1 << 20);
  auto start = std::chrono::steady_clock::now();
  for (auto& e : fs::directory_iterator(staging)) {
    int fd = ::open(e.path().c_str(), O_RDONLY);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {}
    ::close(fd);
  }
  return secondsSince(start);
}

void report(const char* source, const char* what, std::uint64_t lines, const std::vector<double>& seconds,
            int threads) {
  double s = median(seconds);
  double bytes = static_cast<double>(lines * datagen::kWRecordBytes);
  std::printf("{\"source\":\"%s\",\"what\":\"%s\",\"threads\":%d,\"lines\":%llu,\"seconds\":%.4f,"
              "\"mb_per_s\":%.1f,\"gb_per_s\":%.3f,\"lines_per_s\":%.0f,\"peak_rss_mib\":%.0f}\n",
              source, what, threads, static_cast<unsigned long long>(lines), s, bytes / s / 1e6, bytes / s / 1e9,
              static_cast<double>(lines) / s, peakRssMiB());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dstream source ingest benchmark"};
  std::uint64_t socketLines = 5'000'000, fileLines = 4'000'000, textLines = 500'000;
  int files = 8, runs = 3, threads = 2;
  std::string dir = fs::temp_directory_path() / "dstream-bench-files";
  app.add_option("--socket-lines", socketLines, "lines sent over loopback per run");
  app.add_option("--file-lines", fileLines, "lines in all files together");
  app.add_option("--files", files, "number of files")->check(CLI::PositiveNumber);
  app.add_option("--text-lines", textLines, "distinct lines the server loops over");
  app.add_option("--runs", runs, "runs; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "local[N]")->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "scratch directory for the files");
  CLI11_PARSE(app, argc, argv);

  try {
    std::string text;
    datagen::WRecords(10000).append(text, 0, textLines);
    std::vector<double> engine, raw;
    for (int i = 0; i < runs; ++i) {
      raw.push_back(socketRaw(text, socketLines));
      engine.push_back(socketEngine(text, socketLines, threads));
    }
    report("socket", "raw loopback recv", socketLines, raw, 1);
    report("socket", "socketTextStream count", socketLines, engine, threads);

    fs::path staging = fs::path(dir) / "staging", watched = fs::path(dir) / "watched";
    fs::remove_all(dir);
    fs::create_directories(staging);
    datagen::WRecords words(10000);
    std::uint64_t per = fileLines / static_cast<std::uint64_t>(files);
    for (int f = 0; f < files; ++f) {
      std::string chunk;
      words.append(chunk, static_cast<std::uint64_t>(f) * per, per);
      std::ofstream(staging / fmt::format("w-{}.txt", f), std::ios::binary).write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
    engine.clear(), raw.clear();
    for (int i = 0; i < runs; ++i) {
      raw.push_back(fileRaw(staging));
      engine.push_back(fileEngine(staging, watched, per * static_cast<std::uint64_t>(files), threads));
    }
    report("file", "raw read() page cache", per * files, raw, 1);
    report("file", "textFileStream count", per * files, engine, threads);
    fs::remove_all(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sources: %s\n", e.what());
    return 1;
  }
  return 0;
}
