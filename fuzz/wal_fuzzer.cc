// Fuzzes the write-ahead log reader: the input becomes segment files in a fresh directory,
// then WriteAheadLog opens it (dropping a torn tail), reads every record, appends one and
// reopens. Byte 0 holds flags (the rest is the segment bytes):
//   bit 0  rewrite each record's checksum, so mutations reach past the XXH3 check
//   bit 1  rewrite the 16-byte segment header to a valid one
//   bit 2  cut the bytes into two segments, at byte 1's fraction of the length
// Checks against a model of doc/checkpoint_format.md: the records read are exactly the
// intact ones before the first damage in each segment; read(handle) returns each; the torn
// tail of the last segment is cut off; an appended record reads back after the old ones, and
// also after reopening. Nothing may throw: damage is warned about, never an error.
#include <stdlib.h>
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "checkpoint/write_ahead_log.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;
using dstream::detail::RecordHandle;
using dstream::detail::WalRecord;
using dstream::detail::WalSync;
using dstream::detail::WriteAheadLog;
using dstream::detail::WriteAheadLogOptions;

constexpr std::size_t kSegmentHeaderSize = 16;
constexpr std::size_t kRecordHeaderSize = 20;

std::uint64_t getFixed(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
  return v;
}

void putFixed(std::string& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}

std::uint64_t recordChecksum(std::string_view lengthAndTag, std::string_view payload) {
  std::uint64_t seed = XXH3_64bits(lengthAndTag.data(), lengthAndTag.size());
  return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}

std::string segmentHeader(std::uint64_t number) {
  std::string h("DSWL\x01\0\0\0", 8);
  h.resize(kSegmentHeaderSize);
  putFixed(h, 8, number, 8);
  return h;
}

void fixChecksums(std::string& segment) {
  std::size_t offset = kSegmentHeaderSize;
  while (offset + kRecordHeaderSize <= segment.size()) {
    std::uint64_t length = getFixed(std::string_view(segment).substr(offset + 8), 4);
    if (length > segment.size() - offset - kRecordHeaderSize) return;
    std::string_view view(segment);
    std::uint64_t sum = recordChecksum(view.substr(offset + 8, 12),
                                       view.substr(offset + kRecordHeaderSize, length));
    putFixed(segment, offset, sum, 8);
    offset += kRecordHeaderSize + length;
  }
}

// What the format says a reader finds in one segment.
struct ModelScan {
  bool headerOk = false;
  std::size_t validEnd = 0;
  std::vector<WalRecord> records;
};

ModelScan model(std::string_view bytes, std::uint64_t number) {
  ModelScan scan;
  if (bytes.size() < kSegmentHeaderSize || bytes.substr(0, kSegmentHeaderSize) != segmentHeader(number)) {
    return scan;
  }
  scan.headerOk = true;
  std::size_t offset = kSegmentHeaderSize;
  while (bytes.size() - offset >= kRecordHeaderSize) {
    std::string_view h = bytes.substr(offset, kRecordHeaderSize);
    std::uint64_t length = getFixed(h.substr(8), 4);
    if (length > bytes.size() - offset - kRecordHeaderSize) break;
    std::string_view payload = bytes.substr(offset + kRecordHeaderSize, length);
    if (recordChecksum(h.substr(8), payload) != getFixed(h, 8)) break;
    scan.records.push_back(WalRecord{RecordHandle{number, offset, static_cast<std::uint32_t>(length)},
                                     getFixed(h.substr(12), 8), std::string(payload)});
    offset += kRecordHeaderSize + length;
  }
  scan.validEnd = offset;
  return scan;
}

bool same(const WalRecord& a, const WalRecord& b) {
  return a.handle == b.handle && a.tag == b.tag && a.payload == b.payload;
}

bool same(const std::vector<WalRecord>& a, const std::vector<WalRecord>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

// One directory per process, on tmpfs when there is one (fsync is free there), removed at
// exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (base / "dstream-fuzz-wal-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void writeFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  FUZZ_CHECK(out.good());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static ScratchDir scratch;
  std::uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<std::string> segments;
  if ((flags & 4) != 0) {
    std::size_t cut = input.size() * data[1] / 256;
    segments = {std::string(input.substr(0, cut)), std::string(input.substr(cut))};
  } else {
    segments = {std::string(input)};
  }
  fs::path dir = scratch.path / "wal";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directory(dir);
  std::vector<ModelScan> expected;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::uint64_t number = i + 1;
    std::string& bytes = segments[i];
    if ((flags & 2) != 0 && bytes.size() >= kSegmentHeaderSize) {
      bytes.replace(0, kSegmentHeaderSize, segmentHeader(number));
    }
    if ((flags & 1) != 0) fixChecksums(bytes);
    writeFile(dir / WriteAheadLog::segmentFileName(number), bytes);
    expected.push_back(model(bytes, number));
  }

  std::vector<WalRecord> want;
  for (const auto& scan : expected) want.insert(want.end(), scan.records.begin(), scan.records.end());
  std::vector<std::string> warnings;
  WriteAheadLogOptions options;
  options.sync = WalSync::kManual;
  options.onWarning = [&warnings](const std::string& w) { warnings.push_back(w); };

  RecordHandle appended;
  {
    WriteAheadLog log(dir.string(), options);
    // The last segment: a torn header is removed, a torn tail cut off, a foreign one kept.
    std::uint64_t last = segments.size();
    fs::path lastPath = dir / WriteAheadLog::segmentFileName(last);
    const ModelScan& lastScan = expected.back();
    if (lastScan.headerOk) {
      FUZZ_CHECK(fs::file_size(lastPath) == lastScan.validEnd);
    } else {
      FUZZ_CHECK(fs::exists(lastPath) == (segments.back().size() >= kSegmentHeaderSize));
    }
    std::vector<WalRecord> got = log.readAll();
    FUZZ_CHECK(same(got, want));
    for (const WalRecord& r : got) FUZZ_CHECK(same(log.read(r.handle), r));
    if (!got.empty()) {
      std::vector<WalRecord> fromLast;
      log.forEach(got.back().handle, [&](WalRecord&& r) { fromLast.push_back(std::move(r)); });
      FUZZ_CHECK(same(fromLast, {got.back()}));
    }

    appended = log.append(0xfeed, "appended after recovery");
    FUZZ_CHECK(appended > (want.empty() ? RecordHandle{} : want.back().handle));
    want.push_back(WalRecord{appended, 0xfeed, "appended after recovery"});
    FUZZ_CHECK(same(log.readAll(), want));
    log.sync();
  }
  // Reopening a log that recovery has repaired finds nothing more to repair.
  std::size_t warningsBefore = warnings.size();
  WriteAheadLog reopened(dir.string(), options);
  FUZZ_CHECK(warnings.size() == warningsBefore);
  FUZZ_CHECK(same(reopened.readAll(), want));
  FUZZ_CHECK(same(reopened.read(appended), want.back()));
  return 0;
}
