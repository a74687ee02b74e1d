// Durable named record files: one payload per file, written with temp file + fsync +
// rename + directory fsync, and read back only after the header and checksum verify
// (leveldb's SetCurrentFile and log checksums; Spark's Checkpoint.write). Bytes in, bytes
// out: the payload's meaning is the caller's. The byte format is in doc/checkpoint_format.md.
//
// Thread-safety: all functions are thread-safe; concurrent writers of one name race, and
// the last rename wins whole (readers never see a partial file under the final name).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace dstream::detail {

inline constexpr std::string_view kRecordFileMagic = "DSCK";
inline constexpr std::uint8_t kRecordFileVersion = 1;
// magic(4) version(1) reserved(3) payload length(8, LE) XXH3-64 of the payload(8, LE).
inline constexpr std::size_t kRecordFileHeaderSize = 24;

// Why a record file did not verify.
enum class RecordFileStatus {
  kOk,
  kNotFound,            // no such file (e.g. deleted by retention meanwhile)
  kIoError,             // it exists but could not be read (permissions, EIO)
  kTruncated,           // shorter than its header says: a torn write, or an empty file
  kBadMagic,            // not a dstream record file
  kUnsupportedVersion,  // written by a newer dstream
  kBadLength,           // longer than its header says, or reserved header bytes set
  kBadChecksum,         // the payload does not match its checksum
};

// Returns the status's name, e.g. "bad checksum".
std::string_view recordFileStatusName(RecordFileStatus status);

// The outcome of readVerified: the payload when the file verified, otherwise why not.
struct RecordFileRead {
  std::optional<std::string> payload;  // set iff status == kOk
  RecordFileStatus status = RecordFileStatus::kOk;
  std::string reason;  // "<path>: <what is wrong>", empty when ok

  bool ok() const { return payload.has_value(); }
};

// Returns the file bytes (header + payload) for `payload`. Never throws except bad_alloc.
std::string encodeRecordFile(std::string_view payload);

// Returns the payload of the record-file bytes `file`, or why they are damaged; `name`
// starts the reason. Never throws except bad_alloc.
RecordFileRead decodeRecordFile(std::string_view file, std::string_view name);

// Writes `payload` as record file `dir`/`name` with writeFileAtomically (util/file_io.h):
// after a crash the file is either the old one or the new one, complete; temp names are
// those isTempFileName recognises. Returns the final path. Throws Error(kInternal) naming
// the path and the errno text (unwritable directory, ENOSPC ...), Error(kNotFound) for a
// missing `dir`, leaving no temp file behind. REQUIRES: `name` is a plain file name (no '/').
std::filesystem::path writeAtomically(const std::filesystem::path& dir, std::string_view name,
                                      std::string_view payload);

// Returns the payload of record file `path` if its header and checksum verify, otherwise
// the status and a reason naming the file. Never throws except bad_alloc.
RecordFileRead readVerified(const std::filesystem::path& path);

}  // namespace dstream::detail
