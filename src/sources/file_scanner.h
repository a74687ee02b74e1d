// FileStreamScanner decides which files of a directory a textFileStream (or binaryRecordsStream)
// batch reads, with the rules of Spark's FileInputDStream. At batch time t it selects the
// regular files whose modification time lies in [ignoreThreshold, t), where
//
//   ignoreThreshold = max(initial ignore time, t - rememberDuration)
//
//   mod time: ..old: ignored..| remembered window ................ | t (a file at t waits)
//                       t - remember                                t
//
// and that were not already selected within the remember window: copying a file under the
// same name again is not reprocessed while its name is remembered; copying it under a new name
// is. Hidden files ('.'-prefixed), in-flight copies ("*._COPYING_") and subdirectories are
// never selected. Files must appear atomically (moved or renamed in), as in Spark.
//
// The initial ignore time is the start time when newFilesOnly (files present at start are
// skipped); otherwise every file present at start is read by the first batch.
//
// A file is read at the size it had when selected. If a selected file has grown or changed
// when a later batch scans the directory (it was still being written: a `cp` into the
// directory), the scanner reports it as a bad record naming the file and the bytes not read,
// once per change, while the name is remembered. With requireStableSize a file is selected
// only once it has not been modified for a whole batch duration.
//
// Caps (maxFilesPerBatch, maxBytesPerBatch): a batch takes at most that many of the files
// found, oldest first in the order above; the rest wait in a backlog, in order, for the next
// batches, even once they are older than the remember window (they were found in time). A
// file larger than maxBytesPerBatch is still taken whole, alone. The backlog is part of the
// scanner's state, so it survives a restart from a checkpoint.
//
// Times are taken as given (the engine's Clock); modification times are the files' own, in
// milliseconds, so tests place a file in a batch window by setting its mtime.
// Thread-safety: none; the engine's generator thread owns a scanner.
#pragma once

#include <filesystem>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dstream/time.h"

namespace dstream::detail {

struct FileScannerOptions {
  Duration batchDuration = Seconds(1);

  // How long a selected name is remembered, and how old a file may be. Raised to at least
  // max(batchDuration, 60s) and rounded up to a multiple of batchDuration, like Spark's
  // minRememberDuration.
  Duration rememberDuration = Seconds(60);

  // True: files already present at start() are ignored. False: the first batch reads them.
  bool newFilesOnly = true;

  // True: a file is selected only once its modification time (so its size) is at least one
  // batch duration old, i.e. it was not written to during the last batch. The remember window
  // grows by one batch so that such files are still inside it.
  bool requireStableSize = false;

  // The stream the scanner serves, in messages: "textFileStream", "binaryRecordsStream".
  std::string source = "textFileStream";

  // At most this many files, and bytes of them, per batch (FileStreamOptions); 0: unlimited.
  std::int64_t maxFilesPerBatch = 0;
  std::int64_t maxBytesPerBatch = 0;
};

// The scanner's memory, for checkpoints. Plain data; the checkpoint code serialises it.
struct FileScannerState {
  struct RememberedFile {
    std::string path;  // as returned by findNewFiles
    Time modTime;      // its modification time when selected
    Time batchTime;    // the batch that selected it
    std::int64_t size = -1;  // its size when selected (what was read); -1: unknown (restored)
  };
  Time startTime{};
  std::vector<RememberedFile> files;  // in selection order
  // Found, not yet taken (caps): in the order they will be taken; batchTime unused.
  std::vector<RememberedFile> backlog;
};

class FileStreamScanner {
 public:
  // `directory` is a local path or a file:// URI (file:///tmp/in, file:/tmp/in,
  // file://localhost/tmp/in). Throws Error(kInvalidArgument) for any other scheme (hdfs://,
  // s3a://, ...) or a file URI naming another host, for a non-positive batch duration, and
  // for negative caps (naming FileStreamOptions.maxFilesPerBatch or maxBytesPerBatch).
  FileStreamScanner(const std::string& directory, FileScannerOptions options);

  const std::filesystem::path& directory() const { return directory_; }
  Duration rememberDuration() const { return rememberDuration_; }

  // Throws Error(kNotFound) naming the directory when it is missing or not a directory.
  void checkDirectory() const;

  // Checks the directory (as checkDirectory) and records the start time.
  void start(Time startTime);

  // Returns the newly selected files for batch t, sorted by modification time then name, and
  // remembers them; with caps, the oldest of the backlog and the new files, up to the caps. A directory that cannot be listed any more yields no files (logged).
  // REQUIRES: start() or restore() was called; batch times passed in increase.
  std::vector<std::filesystem::path> findNewFiles(Time batchTime);

  // The size `path` had when findNewFiles selected it (the bytes to read), or -1 if unknown.
  std::int64_t selectedSize(const std::filesystem::path& path) const;

  // Files found and waiting for a batch (caps).
  std::size_t backlogFiles() const { return backlog_.size(); }

  FileScannerState state() const;
  // Replaces the memory with `state` (recovery from a checkpoint); no start() needed after.
  void restore(const FileScannerState& state);

 private:
  // What a selected file looked like: when read, and when last seen by a scan.
  struct Seen {
    std::int64_t readSize = -1;  // -1: unknown (restored from a checkpoint)
    std::int64_t size = -1;
    Time modTime{};
  };

  Time ignoreThreshold(Time batchTime) const;
  // Reports (once per change) a selected file that grew or changed after it was read.
  void checkUnchanged(const std::filesystem::path& path, Seen& seen, std::int64_t size, Time modTime);

  std::filesystem::path directory_;
  FileScannerOptions options_;
  Duration rememberDuration_;
  Time startTime_{};
  std::vector<FileScannerState::RememberedFile> remembered_;  // in selection order
  std::unordered_map<std::string, Seen> rememberedPaths_;     // the paths of remembered_
  std::vector<FileScannerState::RememberedFile> backlog_;     // found, not taken; in order
  std::unordered_map<std::string, std::size_t> backlogPaths_;  // the paths of backlog_
};

// Parses a file stream's directory argument; see the FileStreamScanner constructor. `source`
// names the stream in errors.
std::filesystem::path localDirectoryFromUri(const std::string& directory,
                                            std::string_view source = "textFileStream");

}  // namespace dstream::detail
