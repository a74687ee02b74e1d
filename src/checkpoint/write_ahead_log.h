// WriteAheadLog is the receivers' durable log: an append-only sequence of records in
// numbered segment files in one directory ("wal-<20-digit number>", format in
// doc/checkpoint_format.md). Each record is a caller's payload plus a caller's 64-bit tag
// (e.g. the batch time its block belongs to), so recovery can pick out the records of
// unfinished batches. Segments roll at a size; cleanup deletes whole segments.
//
// A crash mid-append leaves a torn record at the end of the last segment. Opening the log
// drops it (with a warning) by truncating the segment after the last good record, and
// appends continue from there (leveldb's log, Spark's FileBasedWriteAheadLog).
//
// The log owns its open segment and an exclusive flock on the directory: a second log on
// the same directory, in this process or another, fails to open. Thread-safety: every
// method may be called from any thread. Appends are serialized; reads run concurrently
// with appends and see the records appended before the read started.
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_io.h"

namespace dstream::detail {

// Where a record is: its segment, the offset of its header within the segment, and its
// payload length. Handles order like the records; RecordHandle{} is before every record.
struct RecordHandle {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;

  friend auto operator<=>(const RecordHandle&, const RecordHandle&) = default;
};

struct WalRecord {
  RecordHandle handle;
  std::uint64_t tag = 0;
  std::string payload;
};

enum class WalSync {
  // append() fsyncs before returning: each acknowledged record survives a power failure.
  // Costs one fsync per record (~0.1-10 ms on disks).
  kEveryAppend,
  // append() returns once the record is in the OS page cache; the caller calls sync()
  // once per group (e.g. per block or per batch), amortising the fsync. A process crash
  // loses nothing; a power failure or kernel crash loses the records since the last
  // sync(), which recovery then sees as a torn tail.
  kManual,
};

struct WriteAheadLogOptions {
  // A segment is closed and a new one started when the next record would take it past
  // this size (a larger record gets a segment of its own). Cleanup frees whole segments,
  // so smaller segments free disk sooner but mean more files. 64 MiB, like leveldb's
  // default log and table sizes, order of magnitude.
  std::uint64_t segmentBytes = std::uint64_t{64} << 20;

  WalSync sync = WalSync::kEveryAppend;

  // Receives one line per torn tail dropped and per damaged record skipped when reading.
  // Empty: the line goes to the context's log sink (stderr outside a context).
  WarningSink onWarning{};
};

class WriteAheadLog {
 public:
  static constexpr std::string_view kSegmentPrefix = "wal-";

  // Opens the log in `directory` (a local path or a "file://" URI), creating it if
  // missing, and drops a torn tail from the last segment. Throws Error(kInvalidArgument)
  // for another URI scheme, a path that is a file or segmentBytes == 0;
  // Error(kFailedPrecondition) when the directory is not writable or another log has it
  // open; Error(kInternal) on I/O errors. Messages name the directory.
  explicit WriteAheadLog(std::string_view directory, WriteAheadLogOptions options = {});
  // Syncs the open segment (best effort: errors are ignored here; call sync() to see them).
  ~WriteAheadLog();

  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  // Appends a record and returns its handle; with WalSync::kEveryAppend it is durable on
  // return. Throws Error(kInvalidArgument) for a payload of 4 GiB or more; Error(kInternal)
  // naming the segment and errno text on I/O failure (a failed write is rolled back, so
  // appending may be retried; after a failed fsync the log refuses further appends with
  // Error(kFailedPrecondition), since the kernel may have dropped the unsynced data).
  RecordHandle append(std::uint64_t tag, std::string_view payload);

  // Makes every record appended so far durable. Throws as append() does for fsync.
  void sync();

  // Returns the record at `handle`. Throws Error(kNotFound) when its segment was deleted
  // and Error(kDataLoss) when the record there is damaged or does not match the handle.
  WalRecord read(const RecordHandle& handle) const;

  // Calls `fn` for each intact record at or after `from`, in log order. A damaged record
  // in a segment is reported to onWarning and the rest of that segment skipped (there is
  // no resync point); reading continues with the next segment. `fn` runs without the
  // log's lock held, so it may append. Throws Error(kInternal) on I/O errors.
  void forEach(const RecordHandle& from, const std::function<void(WalRecord&&)>& fn) const;

  // Returns the records forEach would visit from the start. Kept for reading a whole log
  // on disk: the crash test checks the logged lines with it, the WAL fuzzer and tests the format.
  std::vector<WalRecord> readAll() const;

  // Deletes each segment, other than the one being appended to, whose records all have
  // tags below `tag` (e.g. every batch up to it has completed). Reads segments whose tags
  // it has not seen yet. Returns how many were deleted. Throws Error(kInternal).
  std::size_t deleteSegmentsWithTagsBelow(std::uint64_t tag);

  // Returns the numbers of the segments present, ascending. Kept for the tests of the
  // on-disk layout (segments roll, cleanup frees whole segments).
  std::vector<std::uint64_t> segments() const;

  // Returns the file name of segment `number`, e.g. "wal-00000000000000000001".
  static std::string segmentFileName(std::uint64_t number);

  const std::filesystem::path& directory() const { return dir_; }

 private:
  struct SegmentInfo {
    bool tagsKnown = false;  // maxTag and hasRecords describe every record in it
    bool hasRecords = false;
    std::uint64_t maxTag = 0;
  };

  void recoverLastSegment();                 // REQUIRES: constructor only
  void startSegment();                       // REQUIRES: mu_ held
  void syncActive();                         // REQUIRES: mu_ held
  std::size_t deleteSegment(std::uint64_t);  // REQUIRES: mu_ held
  std::filesystem::path segmentPath(std::uint64_t number) const;

  const std::filesystem::path dir_;
  const WriteAheadLogOptions options_;
  FileDescriptor lock_;  // the directory, flock'ed for the log's lifetime

  mutable std::mutex mu_;
  std::map<std::uint64_t, SegmentInfo> segments_;  // guarded by mu_
  FileDescriptor active_;                          // guarded by mu_; may be closed
  std::uint64_t activeNumber_ = 0;                 // guarded by mu_; 0 when none
  std::uint64_t writeOffset_ = 0;                  // guarded by mu_; end of the last record
  std::uint64_t nextNumber_ = 1;                   // guarded by mu_
  std::string broken_;                             // guarded by mu_; why appends are refused
};

}  // namespace dstream::detail
