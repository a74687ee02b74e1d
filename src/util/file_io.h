// POSIX file helpers for every layer (checkpoints, sources, outputs, tools): an owning file
// descriptor, whole writes and reads that retry on EINTR and short counts, fsync of files and
// directories, the one "temp name, fsync, rename, fsync the directory" writer, and the
// "file://" handling of directory names. Bytes only; no stream concepts.
//
// Every failure throws dstream::Error naming the path and the errno text, except where a
// function says it returns a result. Thread-safety: free functions are thread-safe; a
// FileDescriptor is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "dstream/error.h"

namespace dstream::detail {

// Receives one warning line (a damaged file skipped, torn bytes dropped). An empty
// function means "the calling thread's log sink" (log.h), stderr outside a context.
using WarningSink = std::function<void(const std::string&)>;

// Delivers `message` to `sink`, or as detail::logLine(LogLevel::kWarning, message).
void warn(const WarningSink& sink, const std::string& message);

// Returns "<what> <path>: <strerror(err)>", the shape of every I/O error message here.
std::string ioErrorMessage(std::string_view what, const std::filesystem::path& path, int err);

// Owns one open file descriptor; closes it on destruction (ignoring close errors there:
// call close() to see them).
class FileDescriptor {
 public:
  FileDescriptor() = default;
  FileDescriptor(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  ~FileDescriptor();

  int get() const { return fd_; }
  bool isOpen() const { return fd_ >= 0; }
  const std::filesystem::path& path() const { return path_; }

  // Writes all of `bytes` at the current position. Throws Error(kInternal) on failure
  // (ENOSPC, EIO ...). REQUIRES: isOpen().
  void writeAll(std::string_view bytes);
  // Writes all of `bytes` at `offset`. Throws Error(kInternal). REQUIRES: isOpen().
  void writeAllAt(std::string_view bytes, std::uint64_t offset);
  // Returns up to `n` bytes at `offset` (fewer only at end of file). Throws Error(kInternal).
  std::string readAt(std::uint64_t offset, std::size_t n) const;
  // Returns the file size. Throws Error(kInternal).
  std::uint64_t size() const;
  // fsync (data and metadata). Throws Error(kInternal).
  void sync();
  // Cuts the file to `length` bytes. Throws Error(kInternal).
  void truncate(std::uint64_t length);
  // Closes, throwing Error(kInternal) if close reports an error. Idempotent.
  void close();

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Opens `path` with open(2) `flags` and `mode`. Throws Error(kInternal) (kNotFound for
// ENOENT) naming the path.
FileDescriptor openFile(const std::filesystem::path& path, int flags, int mode = 0644);

// fsyncs directory `dir`, so that a rename or a new file in it survives a crash.
// Throws Error(kInternal); file systems that cannot sync directories (EINVAL) are tolerated.
void syncDirectory(const std::filesystem::path& dir);

// Returns a fresh name beside `target` to build it under before renaming it into place:
// "<dir>/.<name>.tmp-<pid>-<counter>", hidden from file streams and unique across threads
// and processes. isTempFileName recognises it.
std::filesystem::path tempPathFor(const std::filesystem::path& target);

// True for names tempPathFor gives for a target named `name` (any pid, any counter); with an
// empty `name`, for temp names of any target.
bool isTempFileName(std::string_view fileName, std::string_view name = {});

// Creates or truncates `path`, writes `bytes`, fsyncs and closes it. For files inside a
// directory published whole (the caller fsyncs the directory). Throws as openFile does and
// Error(kInternal) naming the path on write or fsync errors.
void writeFileSynced(const std::filesystem::path& path, std::string_view bytes);

// Writes file `target` so that after a crash it is either the previous file (or none) or
// the new one, complete: `write` fills a temp file beside it (tempPathFor), which is
// fsynced, closed and renamed over `target`; then the directory is fsynced. Throws
// Error(kNotFound) when the directory does not exist and Error(kInternal) for other I/O
// errors, naming the path and the errno text, and rethrows what `write` throws; no temp file
// is left behind after a failure before the rename.
void writeFileAtomically(const std::filesystem::path& target,
                         const std::function<void(FileDescriptor&)>& write);
// As above, with the whole contents at hand.
void writeFileAtomically(const std::filesystem::path& target, std::string_view bytes);

// Returns the local directory named by `uri`: a plain path, or "file:///abs/path",
// "file://localhost/abs/path" or "file:/abs/path" with the scheme stripped and %XX escapes
// decoded. A name like "odd:name" (no '/' after the colon) is a plain path. `what` names the
// caller in messages ("checkpoint directory"). Throws Error(kInvalidArgument) for an empty
// name, another scheme ("hdfs://...", "s3a:/..."), a file URI with a remote host or a
// relative file URI ("file:dir").
std::filesystem::path localPathFromUri(std::string_view uri, std::string_view what);

// Creates `dir` (and parents) if missing and checks that files can be created in it by
// creating and removing a probe file. `what` names the caller in messages. Throws
// Error(kInvalidArgument) when `dir` or a parent is not a directory, and
// Error(kFailedPrecondition) when it cannot be created or written (permission denied,
// read-only file system).
void ensureWritableDirectory(const std::filesystem::path& dir, std::string_view what);

}  // namespace dstream::detail
