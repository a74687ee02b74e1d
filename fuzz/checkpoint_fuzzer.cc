// Fuzzes the checkpoint readers. Byte 0 picks what the rest of the input is read as:
//   0  a record file (decodeRecordFile), then its payload as a graph checkpoint and states
//   1  a graph checkpoint payload (decodeGraphCheckpoint)
//   2  a state snapshot payload (decodeStates)
//   3  a state node's checkpoint (readStateHeader + readPartitionedMaps)
//   4  BinaryReader through deserialize<T> for a tuple of most built-in serializers
//   5  deserialize<T> for the unordered maps
// (byte 0 modulo 6). The payload modes exist because a fuzzer cannot forge the record
// file's XXH3 checksum. Checks: a reader returns or throws Error(kDataLoss), nothing else;
// whatever it accepts round-trips (what the writer writes, the reader reads back alike).
#include <absl/container/flat_hash_map.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checkpoint/record_file.h"
#include "core/checkpoint_codec.h"
#include "dstream/detail/shuffle.h"
#include "dstream/detail/state_checkpoint.h"
#include "dstream/error.h"
#include "dstream/serialize.h"
#include "fuzz_check.h"

namespace {

using namespace dstream;
using namespace dstream::detail;

enum class Colour : std::uint8_t { kRed, kGreen };

// Most built-in serializers in one value. Every part reads back to the same bytes, so the
// round trip compares bytes (which also covers NaN, where == would not).
using Composite =
    std::tuple<std::vector<std::pair<std::string, std::int64_t>>,
               std::map<std::int32_t, std::optional<double>>, long double, float,
               std::array<std::int8_t, 3>, char, std::uint16_t, Colour, bool,
               std::chrono::milliseconds, Time, std::optional<std::tuple<std::uint64_t, wchar_t>>>;

// Runs `decode`; returns its value, or nullopt when it threw Error(kDataLoss). Any other
// exception escapes and libFuzzer reports it.
template <class F>
auto accepted(F decode) -> std::optional<decltype(decode())> {
  try {
    return decode();
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kDataLoss);
    return std::nullopt;
  }
}

void graphCheckpoint(std::string_view bytes) {
  auto g = accepted([&] { return decodeGraphCheckpoint(bytes, "fuzz"); });
  if (!g) return;
  std::string canonical = encodeGraphCheckpoint(*g);
  auto again = accepted([&] { return decodeGraphCheckpoint(canonical, "fuzz"); });
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(encodeGraphCheckpoint(*again) == canonical);
  FUZZ_CHECK(again->nodes.size() == g->nodes.size() && again->inputs == g->inputs);
  FUZZ_CHECK(again->batchDuration == g->batchDuration && again->stateTime == g->stateTime &&
             again->lastCompleted == g->lastCompleted && again->zeroTime == g->zeroTime);
}

void states(std::string_view bytes) {
  auto s = accepted([&] { return decodeStates(bytes, "fuzz"); });
  if (!s) return;
  auto again = accepted([&] { return decodeStates(encodeStates(*s), "fuzz"); });
  FUZZ_CHECK(again == s);
}

void recordFile(std::string_view bytes) {
  RecordFileRead read = decodeRecordFile(bytes, "fuzz");
  FUZZ_CHECK(read.ok() == (read.status == RecordFileStatus::kOk));
  FUZZ_CHECK(read.ok() == read.reason.empty());
  if (!read.ok()) return;
  // The header is fully determined by the payload, so an accepted file is exactly what the
  // writer would write.
  FUZZ_CHECK(encodeRecordFile(*read.payload) == bytes);
  graphCheckpoint(*read.payload);
  states(*read.payload);
}

void stateNode(std::string_view bytes) {
  using Maps = std::vector<absl::flat_hash_map<std::string, std::int64_t>>;
  auto read = accepted([&] {
    BinaryReader r(bytes, "fuzz");
    auto lastTime = readStateHeader(r, "fuzz");
    Maps maps(3);
    readPartitionedMaps(r, maps, [](BinaryReader& in) { return in.read<std::int64_t>(); });
    return std::pair(lastTime, std::move(maps));
  });
  if (!read) return;
  const auto& [lastTime, maps] = *read;
  for (std::size_t p = 0; p < maps.size(); ++p) {
    for (const auto& kv : maps[p]) FUZZ_CHECK(partitionOf(kv.first, maps.size()) == p);
  }
  BinaryWriter w;
  writeStateHeader(w, lastTime);
  writePartitionedMaps(w, maps, [](BinaryWriter& out, std::int64_t v) { out.write(v); });
  std::string canonical = w.release();
  auto again = accepted([&] {
    BinaryReader r(canonical, "fuzz");
    auto t = readStateHeader(r, "fuzz");
    Maps m(2);  // another partition count: keys are re-partitioned
    readPartitionedMaps(r, m, [](BinaryReader& in) { return in.read<std::int64_t>(); });
    FUZZ_CHECK(r.atEnd());
    return std::pair(t, std::move(m));
  });
  FUZZ_CHECK(again.has_value() && again->first == lastTime);
  absl::flat_hash_map<std::string, std::int64_t> before, after;
  for (const auto& m : maps) before.insert(m.begin(), m.end());
  for (const auto& m : again->second) after.insert(m.begin(), m.end());
  FUZZ_CHECK(before == after);
}

template <class T>
void canonicalRoundTrip(std::string_view bytes) {
  auto value = accepted([&] { return deserialize<T>(bytes, "fuzz"); });
  if (!value) return;
  std::string canonical = serialize(*value);
  auto again = accepted([&] { return deserialize<T>(canonical, "fuzz"); });
  FUZZ_CHECK(again.has_value() && serialize(*again) == canonical);
}

// Unordered maps may iterate differently after a rebuild, so these compare values.
template <class T>
void valueRoundTrip(std::string_view bytes) {
  auto value = accepted([&] { return deserialize<T>(bytes, "fuzz"); });
  if (!value) return;
  auto again = accepted([&] { return deserialize<T>(serialize(*value), "fuzz"); });
  FUZZ_CHECK(again == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: recordFile(bytes); break;
    case 1: graphCheckpoint(bytes); break;
    case 2: states(bytes); break;
    case 3: stateNode(bytes); break;
    case 4: canonicalRoundTrip<Composite>(bytes); break;
    default:
      valueRoundTrip<absl::flat_hash_map<std::string, std::vector<std::int32_t>>>(bytes);
      valueRoundTrip<std::unordered_map<std::int64_t, std::string>>(bytes);
      break;
  }
  return 0;
}
