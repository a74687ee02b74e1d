// CheckpointStore keeps the checkpoints of one application in a directory, one record file
// per batch time ("checkpoint-<batchTimeMs>", format in doc/checkpoint_format.md), and
// reads back the newest one that verifies, falling back to older ones when the newest is
// damaged (Spark's CheckpointWriter and CheckpointReader). Payloads are opaque bytes.
//
// The store owns nothing but its options; the files belong to the directory. One store
// (one process) should write a directory at a time: opening a store removes temp files
// left by a crashed writer. Thread-safety: all methods may be called from any thread;
// write() calls are serialized, and reads run concurrently with a write (a reader sees
// each file either complete under its final name or not at all).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_io.h"

namespace dstream::detail {

struct CheckpointStoreOptions {
  // How many of the newest checkpoint files write() keeps. Spark's CheckpointWriter keeps
  // 10: each is a full snapshot, so 10 survive several damaged files in a row at the cost
  // of 10 snapshots of disk. At least 1.
  int retain = 10;

  // Opens an existing directory for reading only (e.g. a checkpoint dumper): nothing is
  // created or deleted, the directory need not be writable, and write() throws
  // Error(kFailedPrecondition).
  bool readOnly = false;

  // Receives one line per damaged file that readLatestValid() skips, and per leftover that
  // cannot be removed. Empty: the line goes to the context's log sink (stderr outside a context).
  WarningSink onWarning{};
};

// One checkpoint file in the directory.
struct CheckpointFile {
  std::int64_t batchTimeMs = 0;
  std::filesystem::path path;
};

// A checkpoint that verified.
struct Checkpoint {
  std::int64_t batchTimeMs = 0;
  std::filesystem::path path;
  std::string bytes;
};

class CheckpointStore {
 public:
  // File names: "checkpoint-<batchTimeMs>" in decimal, and temp files ".checkpoint-*.tmp-*".
  static constexpr std::string_view kFilePrefix = "checkpoint-";

  // Opens the store in `directory`, a local path or a "file://" URI, creating it if
  // missing, and removes temp files a crashed writer left. Throws
  // Error(kInvalidArgument) for another URI scheme ("hdfs://..."), a path that is a file,
  // or retain < 1; Error(kFailedPrecondition) when the directory cannot be created or
  // written (permission denied, read-only file system). With options.readOnly it only
  // checks that the directory exists: Error(kNotFound) if not. Messages name the directory.
  explicit CheckpointStore(std::string_view directory, CheckpointStoreOptions options = {});

  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  // Returns the directory (with any file:// stripped).
  const std::filesystem::path& directory() const { return dir_; }

  // Durably writes `bytes` as the checkpoint of `batchTimeMs` (replacing one of the same
  // time), then deletes all but the newest `retain` checkpoint files. Returns the file's
  // path. Throws Error(kInternal) naming the path and errno text when writing fails; the
  // previous checkpoints are then untouched. Error(kFailedPrecondition) if readOnly.
  std::filesystem::path write(std::int64_t batchTimeMs, std::string_view bytes);

  // Returns the newest checkpoint whose file verifies, or nullopt when there is none.
  // Each damaged file skipped on the way is reported to onWarning, naming the file and the
  // damage. A file deleted meanwhile (by a concurrent write's retention) is skipped
  // silently. Does not throw except bad_alloc and Error(kInternal) when the directory
  // cannot be listed.
  std::optional<Checkpoint> readLatestValid() const;

  // Returns the checkpoint files present, oldest first, without verifying them. Temp
  // files and other names are ignored. Throws Error(kInternal) when the directory cannot
  // be listed.
  std::vector<CheckpointFile> listCheckpoints() const;

  // Returns the file name for `batchTimeMs`, e.g. "checkpoint-1700000000000".
  static std::string fileName(std::int64_t batchTimeMs);
  // Returns the batch time of a checkpoint file name, or nullopt for any other name.
  static std::optional<std::int64_t> parseFileName(std::string_view name);

 private:
  void removeTempFiles();

  std::filesystem::path dir_;
  CheckpointStoreOptions options_;
  std::mutex writeMu_;  // serializes write(): the write and its retention pass
};

}  // namespace dstream::detail
