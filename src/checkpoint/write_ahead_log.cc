#include "checkpoint/write_ahead_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "dstream/detail/coding.h"
#include "dstream/error.h"

namespace dstream::detail {
namespace {

constexpr std::string_view kSegmentMagic = "DSWL";
constexpr std::uint8_t kSegmentVersion = 1;
constexpr std::uint64_t kSegmentHeaderSize = 16;  // magic(4) version(1) reserved(3) number(8)
constexpr std::uint64_t kRecordHeaderSize = 20;   // checksum(8) length(4) tag(8)
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

// XXH3-64 of the payload, seeded with XXH3-64 of the 12 bytes length|tag: covers the
// header fields without copying the payload next to them.
std::uint64_t recordChecksum(std::string_view lengthAndTag, std::string_view payload) {
  std::uint64_t seed = XXH3_64bits(lengthAndTag.data(), lengthAndTag.size());
  return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}

std::string segmentHeader(std::uint64_t number) {
  std::string h(kSegmentMagic);
  h.push_back(static_cast<char>(kSegmentVersion));
  h.append(3, '\0');
  putFixed64(h, number);
  return h;
}

struct ParsedHeader {
  std::uint64_t checksum;
  std::uint32_t length;
  std::uint64_t tag;
};

ParsedHeader parseRecordHeader(std::string_view h) {
  return {decodeFixed64(h.data()), decodeFixed32(h.data() + 8), decodeFixed64(h.data() + 12)};
}

// What reading one segment found.
struct SegmentScan {
  bool exists = true;
  bool headerOk = false;
  std::uint64_t fileSize = 0;
  std::uint64_t validEnd = 0;  // just past the last intact record read (or the header)
  std::string damage;          // empty when every record up to the limit was intact
  bool hasRecords = false;
  std::uint64_t maxTag = 0;
};

// Reads segment `number` at `path` from record offset `from` up to byte `limit`, calling
// `fn` (if set) for each intact record, and stops at the first damaged one.
SegmentScan scanSegment(const std::filesystem::path& path, std::uint64_t number,
                        std::uint64_t from, std::uint64_t limit,
                        const std::function<void(WalRecord&&)>& fn) {
  SegmentScan scan;
  FileDescriptor fd;
  try {
    fd = openFile(path, O_RDONLY);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    scan.exists = false;
    return scan;
  }
  scan.fileSize = fd.size();
  std::uint64_t end = std::min(scan.fileSize, limit);
  std::string header = fd.readAt(0, kSegmentHeaderSize);
  if (header.size() < kSegmentHeaderSize) {
    scan.damage = fmt::format("torn segment header ({} of {} bytes)", header.size(),
                              kSegmentHeaderSize);
    return scan;
  }
  if (header.substr(0, 4) != kSegmentMagic || static_cast<std::uint8_t>(header[4]) != kSegmentVersion ||
      header.substr(5, 3) != std::string_view("\0\0\0", 3) || decodeFixed64(header.data() + 8) != number) {
    scan.damage = "bad segment header (magic, version or segment number)";
    return scan;
  }
  scan.headerOk = true;
  std::uint64_t offset = std::max(from, kSegmentHeaderSize);
  scan.validEnd = offset;
  while (offset < end) {
    if (end - offset < kRecordHeaderSize) {
      scan.damage = fmt::format("incomplete record header ({} bytes)", end - offset);
      return scan;
    }
    std::string h = fd.readAt(offset, kRecordHeaderSize);
    ParsedHeader r = parseRecordHeader(h);
    if (r.length > end - offset - kRecordHeaderSize) {
      scan.damage = fmt::format("record of {} bytes runs past the end ({} bytes left)", r.length,
                                end - offset - kRecordHeaderSize);
      return scan;
    }
    std::string payload = fd.readAt(offset + kRecordHeaderSize, r.length);
    if (recordChecksum(std::string_view(h).substr(8), payload) != r.checksum) {
      scan.damage = "record checksum mismatch";
      return scan;
    }
    scan.hasRecords = true;
    scan.maxTag = std::max(scan.maxTag, r.tag);
    if (fn) fn(WalRecord{RecordHandle{number, offset, r.length}, r.tag, std::move(payload)});
    offset += kRecordHeaderSize + r.length;
    scan.validEnd = offset;
  }
  return scan;
}

std::optional<std::uint64_t> parseSegmentName(std::string_view name) {
  if (!name.starts_with(WriteAheadLog::kSegmentPrefix)) return std::nullopt;
  std::string_view digits = name.substr(WriteAheadLog::kSegmentPrefix.size());
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.size() != 20 || n == 0) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string WriteAheadLog::segmentFileName(std::uint64_t number) {
  return fmt::format("{}{:020}", kSegmentPrefix, number);
}

std::filesystem::path WriteAheadLog::segmentPath(std::uint64_t number) const {
  return dir_ / segmentFileName(number);
}

WriteAheadLog::WriteAheadLog(std::string_view directory, WriteAheadLogOptions options)
    : dir_(localPathFromUri(directory, "write-ahead log directory")),
      options_(std::move(options)) {
  if (options_.segmentBytes == 0) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("write-ahead log {}: segmentBytes must be positive", dir_.string()));
  }
  ensureWritableDirectory(dir_, "write-ahead log directory");
  lock_ = openFile(dir_, O_RDONLY | O_DIRECTORY);
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("write-ahead log {} is already open (by this or another process): {}",
                            dir_.string(), std::strerror(errno)));
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto n = parseSegmentName(it->path().filename().string())) segments_[*n] = SegmentInfo{};
  }
  if (ec) {
    throw Error(ErrorCode::kInternal, fmt::format("cannot list write-ahead log {}: {}",
                                                  dir_.string(), ec.message()));
  }
  if (!segments_.empty()) nextNumber_ = segments_.rbegin()->first + 1;
  recoverLastSegment();
}

WriteAheadLog::~WriteAheadLog() {
  try {
    std::lock_guard lock(mu_);
    if (active_.isOpen() && broken_.empty()) active_.sync();
  } catch (...) {
    // Destructors must not throw; the caller who needs to know calls sync().
  }
}

void WriteAheadLog::recoverLastSegment() {
  if (segments_.empty()) return;
  std::uint64_t last = segments_.rbegin()->first;
  auto path = segmentPath(last);
  SegmentScan scan = scanSegment(path, last, 0, kNoLimit, {});
  if (!scan.headerOk) {
    if (scan.fileSize < kSegmentHeaderSize) {
      // Created but never given a whole header: a crash while starting it. Nothing lost.
      warn(options_.onWarning,
           fmt::format("write-ahead log segment {}: {}; removing it", path.string(), scan.damage));
      deleteSegment(last);
    } else {
      warn(options_.onWarning,
           fmt::format("write-ahead log segment {}: {}; leaving it and appending to a new segment",
                       path.string(), scan.damage));
    }
    return;
  }
  segments_[last] = SegmentInfo{true, scan.hasRecords, scan.maxTag};
  active_ = openFile(path, O_WRONLY);
  if (!scan.damage.empty()) {
    warn(options_.onWarning,
         fmt::format("write-ahead log segment {}: dropping {} torn bytes at offset {} ({}), "
                     "left by a crash during an append; earlier records are intact",
                     path.string(), scan.fileSize - scan.validEnd, scan.validEnd, scan.damage));
    active_.truncate(scan.validEnd);
    active_.sync();
  }
  activeNumber_ = last;
  writeOffset_ = scan.validEnd;
}

void WriteAheadLog::startSegment() {
  if (active_.isOpen()) {
    // The sealed segment must be whole on disk: only the last one may have a torn tail.
    syncActive();
    active_.close();
  }
  std::uint64_t number = nextNumber_++;
  auto path = segmentPath(number);
  FileDescriptor fd = openFile(path, O_WRONLY | O_CREAT | O_EXCL);
  fd.writeAll(segmentHeader(number));
  fd.sync();
  syncDirectory(dir_);
  segments_[number] = SegmentInfo{true, false, 0};
  active_ = std::move(fd);
  activeNumber_ = number;
  writeOffset_ = kSegmentHeaderSize;
}

void WriteAheadLog::syncActive() {
  try {
    active_.sync();
  } catch (const Error& e) {
    // After a failed fsync Linux may have dropped the dirty pages and cleared the error,
    // so a retry could "succeed" over lost data: refuse to go on (as leveldb does).
    broken_ = e.what();
    throw;
  }
}

RecordHandle WriteAheadLog::append(std::uint64_t tag, std::string_view payload) {
  if (payload.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("write-ahead log {}: a record of {} bytes is too large (limit 4 GiB)",
                            dir_.string(), payload.size()));
  }
  std::lock_guard lock(mu_);
  if (!broken_.empty()) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("write-ahead log {} refuses appends after an earlier error: {}",
                            dir_.string(), broken_));
  }
  std::uint64_t recordSize = kRecordHeaderSize + payload.size();
  if (!active_.isOpen() ||
      (writeOffset_ > kSegmentHeaderSize && writeOffset_ + recordSize > options_.segmentBytes)) {
    startSegment();
  }
  std::string record;
  record.reserve(recordSize);
  putFixed64(record, 0);  // checksum, filled in below
  putFixed32(record, static_cast<std::uint32_t>(payload.size()));
  putFixed64(record, tag);
  encodeFixed64(record.data(), recordChecksum(std::string_view(record).substr(8), payload));
  record.append(payload);
  try {
    active_.writeAllAt(record, writeOffset_);
  } catch (const Error&) {
    // Cut off a partial record so that the next append does not follow garbage.
    try {
      active_.truncate(writeOffset_);
    } catch (const Error& e) {
      broken_ = e.what();
    }
    throw;
  }
  if (options_.sync == WalSync::kEveryAppend) syncActive();
  RecordHandle handle{activeNumber_, writeOffset_, static_cast<std::uint32_t>(payload.size())};
  writeOffset_ += recordSize;
  SegmentInfo& info = segments_[activeNumber_];
  info.hasRecords = true;
  info.maxTag = std::max(info.maxTag, tag);
  return handle;
}

void WriteAheadLog::sync() {
  std::lock_guard lock(mu_);
  if (!broken_.empty()) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("write-ahead log {} cannot sync after an earlier error: {}",
                            dir_.string(), broken_));
  }
  if (active_.isOpen()) syncActive();
}

WalRecord WriteAheadLog::read(const RecordHandle& handle) const {
  auto path = segmentPath(handle.segment);
  FileDescriptor fd;
  try {
    fd = openFile(path, O_RDONLY);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    throw Error(ErrorCode::kNotFound,
                fmt::format("write-ahead log segment {} no longer exists (deleted by cleanup?)",
                            path.string()));
  }
  auto damaged = [&](std::string_view what) {
    return Error(ErrorCode::kDataLoss,
                 fmt::format("write-ahead log segment {}: record at offset {}: {}", path.string(),
                             handle.offset, what));
  };
  if (handle.offset < kSegmentHeaderSize) throw damaged("offset is inside the segment header");
  std::string h = fd.readAt(handle.offset, kRecordHeaderSize);
  if (h.size() < kRecordHeaderSize) throw damaged("truncated record header");
  ParsedHeader r = parseRecordHeader(h);
  if (r.length != handle.length) {
    throw damaged(fmt::format("length {} does not match the handle's {}", r.length, handle.length));
  }
  std::string payload = fd.readAt(handle.offset + kRecordHeaderSize, r.length);
  if (payload.size() < r.length) throw damaged("truncated payload");
  if (recordChecksum(std::string_view(h).substr(8), payload) != r.checksum) {
    throw damaged("checksum mismatch");
  }
  return WalRecord{handle, r.tag, std::move(payload)};
}

void WriteAheadLog::forEach(const RecordHandle& from,
                            const std::function<void(WalRecord&&)>& fn) const {
  std::vector<std::uint64_t> numbers;
  std::uint64_t activeNumber, writeOffset;
  {
    std::lock_guard lock(mu_);
    for (auto it = segments_.lower_bound(from.segment); it != segments_.end(); ++it) {
      numbers.push_back(it->first);
    }
    activeNumber = active_.isOpen() ? activeNumber_ : 0;
    writeOffset = writeOffset_;
  }
  for (std::uint64_t n : numbers) {
    // Never read past the snapshot's end of the active segment: an append may be midway.
    std::uint64_t limit = n == activeNumber ? writeOffset : kNoLimit;
    std::uint64_t start = n == from.segment ? from.offset : 0;
    SegmentScan scan = scanSegment(segmentPath(n), n, start, limit, fn);
    if (scan.exists && !scan.damage.empty()) {
      warn(options_.onWarning,
           fmt::format("write-ahead log segment {}: {} at offset {}; skipping the rest of the "
                       "segment ({} bytes)",
                       segmentPath(n).string(), scan.damage, scan.validEnd,
                       std::min(scan.fileSize, limit) - std::min(scan.validEnd, scan.fileSize)));
    }
  }
}

std::vector<WalRecord> WriteAheadLog::readAll() const {
  std::vector<WalRecord> out;
  forEach(RecordHandle{}, [&out](WalRecord&& r) { out.push_back(std::move(r)); });
  return out;
}

std::size_t WriteAheadLog::deleteSegment(std::uint64_t number) {
  auto path = segmentPath(number);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) {
    throw Error(ErrorCode::kInternal, fmt::format("cannot delete write-ahead log segment {}: {}",
                                                  path.string(), ec.message()));
  }
  segments_.erase(number);
  return 1;
}

std::size_t WriteAheadLog::deleteSegmentsWithTagsBelow(std::uint64_t tag) {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> victims;
  for (auto& [number, info] : segments_) {
    if (number == activeNumber_) continue;
    if (!info.tagsKnown) {
      SegmentScan scan = scanSegment(segmentPath(number), number, 0, kNoLimit, {});
      // Records past damage cannot be read back, so they need not be kept either.
      info = SegmentInfo{true, scan.hasRecords, scan.maxTag};
    }
    if (!info.hasRecords || info.maxTag < tag) victims.push_back(number);
  }
  for (std::uint64_t n : victims) deleteSegment(n);
  return victims.size();
}

std::vector<std::uint64_t> WriteAheadLog::segments() const {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> out;
  for (const auto& entry : segments_) out.push_back(entry.first);
  return out;
}

}  // namespace dstream::detail
