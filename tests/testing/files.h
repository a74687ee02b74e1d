// Files for tests: a fresh directory under /tmp removed with its contents at scope exit,
// whole-file reads and writes, files moved into a watched directory atomically, chosen
// modification times, and byte flips for corrupting files by hand. Not thread-safe: each
// object belongs to one test.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "dstream/time.h"

namespace dstream::testing {

class TempDir {
 public:
  // Creates /tmp/<prefix>-XXXXXX; throws std::runtime_error if it cannot.
  explicit TempDir(std::string_view prefix = "dstream-test");
  // Creates <parent>/<prefix>-XXXXXX (e.g. on /dev/shm for a test that writes many files).
  TempDir(std::string_view prefix, const std::filesystem::path& parent);
  // Removes the directory and its contents, restoring permissions a test may have taken away.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Returns the contents of `path`, or "" if it cannot be read.
std::string readFile(const std::filesystem::path& path);
// Replaces the contents of `path`; throws std::runtime_error on failure.
void writeFile(const std::filesystem::path& path, std::string_view content);
// Replaces the contents of `path` and sets its modification time to `mtime`.
void writeFile(const std::filesystem::path& path, std::string_view content, Time mtime);
// Appends to `path`; throws std::runtime_error on failure.
void appendFile(const std::filesystem::path& path, std::string_view content);
// Flips one bit of the byte at `offset`; throws std::out_of_range past the end.
void flipByte(const std::filesystem::path& path, std::size_t offset);
// Sets the access and modification times of `path`; throws std::runtime_error on failure.
void setModTime(const std::filesystem::path& path, Time mtime);

// Writes dir/name through a hidden temporary name and a rename, so that a watched directory
// never sees a partial file (Spark's rule for textFileStream); the file's mtime is now.
void moveIn(const std::filesystem::path& dir, std::string_view name, std::string_view content);
// As moveIn, with modification time `mtime` (a manual-clock test decides the batch).
void writeFileAt(const std::filesystem::path& dir, std::string_view name, std::string_view content, Time mtime);

// Waits until `path` exists, created or renamed into its directory by another process (a
// port file, a marker); false after `timeout`. Sleeps on inotify events, not on a timer.
// REQUIRES: the directory of `path` exists.
bool waitForFile(const std::filesystem::path& path, Duration timeout);

}  // namespace dstream::testing
