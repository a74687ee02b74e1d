// Writes the binary seed inputs of fuzz/corpus/checkpoint and fuzz/corpus/wal from the
// current encoders, so that the seeds start from bytes the writers really produce:
//   build/fuzz/fuzz/fuzz_make_seeds fuzz/corpus
// Run it again when a format changes. Each seed starts with the fuzzer's mode byte(s).
#include <stdlib.h>

#include <absl/container/flat_hash_map.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "checkpoint/record_file.h"
#include "checkpoint/write_ahead_log.h"
#include "core/checkpoint_codec.h"
#include "dstream/detail/state_checkpoint.h"
#include "dstream/serialize.h"

namespace {

namespace fs = std::filesystem;
using namespace dstream;
using namespace dstream::detail;
using namespace std::chrono_literals;

void writeSeed(const fs::path& dir, const std::string& name, char mode, std::string_view bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.put(mode);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

GraphCheckpoint sampleGraph() {
  GraphCheckpoint g;
  g.batchDuration = 10s;
  g.zeroTime = Time(1700000000000ms);
  g.lastCompleted = g.zeroTime + 50s;
  g.stateTime = g.zeroTime + 40s;
  g.hasStateFile = true;
  g.nodes = {{0, "socketTextStream", "", false, true},
             {1, "flatMap", "", false, false},
             {2, "updateStateByKey", "venue-counts", true, false},
             {3, "textFileStream", "in", false, true}};
  g.inputs = {{0, std::string("\x02\x10\x20", 3)}, {3, "file:///tmp/in/a.txt"}};
  return g;
}

std::string stateNodeBytes() {
  BinaryWriter w;
  writeStateHeader(w, Time(1700000040000ms));
  std::vector<std::map<std::string, std::int64_t>> maps(2);
  maps[0] = {{"Cafe", 3}, {"Park", -1}};
  maps[1] = {{"Library", 1700000000000}};
  writePartitionedMaps(w, maps, [](BinaryWriter& out, std::int64_t v) { out.write(v); });
  return w.release();
}

void checkpointSeeds(const fs::path& dir) {
  GraphCheckpoint g = sampleGraph();
  std::string graph = encodeGraphCheckpoint(g);
  GraphCheckpoint empty;
  empty.batchDuration = 1s;
  std::string emptyGraph = encodeGraphCheckpoint(empty);
  std::map<int, std::string> stateMap = {{2, stateNodeBytes()}, {5, ""}};
  std::string states = encodeStates(stateMap);
  writeSeed(dir, "record_graph", 0, encodeRecordFile(graph));
  writeSeed(dir, "record_states", 0, encodeRecordFile(states));
  writeSeed(dir, "record_empty_payload", 0, encodeRecordFile(""));
  writeSeed(dir, "graph", 1, graph);
  writeSeed(dir, "graph_empty", 1, emptyGraph);
  writeSeed(dir, "states", 2, states);
  writeSeed(dir, "state_node", 3, stateNodeBytes());
  using Composite =
      std::tuple<std::vector<std::pair<std::string, std::int64_t>>,
                 std::map<std::int32_t, std::optional<double>>, long double, float,
                 std::array<std::int8_t, 3>, char, std::uint16_t, std::uint8_t, bool,
                 std::chrono::milliseconds, Time, std::optional<std::tuple<std::uint64_t, wchar_t>>>;
  Composite c{{{"a", -1}, {"bb", 1LL << 40}},
              {{-7, 2.5}, {3, std::nullopt}},
              -1.25e-300L,
              3.5f,
              {-128, 0, 127},
              'x',
              65535,
              1,
              true,
              -20ms,
              Time(1700000000000ms),
              std::tuple<std::uint64_t, wchar_t>{~0ULL, L'z'}};
  writeSeed(dir, "composite", 4, serialize(c));
  absl::flat_hash_map<std::string, std::vector<std::int32_t>> m = {{"k", {1, -2}}, {"", {}}};
  writeSeed(dir, "flat_hash_map", 5, serialize(m));
  std::unordered_map<std::int64_t, std::string> u = {{-3, "three"}, {1LL << 50, ""}};
  writeSeed(dir, "unordered_map", 5, serialize(u));
}

void walSeeds(const fs::path& dir) {
  std::string pattern = (fs::temp_directory_path() / "dstream-seeds-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  fs::path logDir = pattern;
  {
    WriteAheadLog log(logDir.string(), WriteAheadLogOptions{.segmentBytes = 120});
    log.append(1700000000000, "first block\nof lines");
    log.append(0, "");
    log.append(~0ULL, std::string("bin\0ary", 7));
    log.append(1700000010000, "second segment");
  }
  std::string one = readFile(logDir / WriteAheadLog::segmentFileName(1));
  std::string two = readFile(logDir / WriteAheadLog::segmentFileName(2));
  fs::remove_all(logDir);
  // Flags byte then the cut byte (see wal_fuzzer.cc).
  auto seed = [&](const std::string& name, std::uint8_t flags, std::uint8_t cut, std::string_view bytes) {
    writeSeed(dir, name, static_cast<char>(flags), std::string(1, static_cast<char>(cut)) + std::string(bytes));
  };
  seed("segment", 0, 0, one);
  seed("segment_torn_tail", 0, 0, one.substr(0, one.size() - 5));
  seed("segment_torn_header", 0, 0, one.substr(0, 9));
  seed("segment_fixed_checksums", 1, 0, one);
  seed("header_only", 0, 0, one.substr(0, 16));
  // Two segments: the cut byte is the first one's share of the bytes, rounded down.
  std::string both = one + two;
  auto cut = static_cast<std::uint8_t>((one.size() * 256 + both.size() - 1) / both.size());
  seed("two_segments", 6, cut, both);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>  (writes <dir>/checkpoint and <dir>/wal)\n", argv[0]);
    return 2;
  }
  try {
    checkpointSeeds(fs::path(argv[1]) / "checkpoint");
    walSeeds(fs::path(argv[1]) / "wal");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
