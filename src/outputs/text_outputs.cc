// pprint/print headers and saveAsTextFiles' atomic batch directories.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crash_point.h"
#include "dstream/error.h"
#include "dstream/operations/output.h"
#include "util/file_io.h"

namespace dstream::detail {
namespace fs = std::filesystem;
namespace {

const char kDashes[] = "-------------------------------------------\n";

[[noreturn]] void throwIo(const std::string& what, const fs::path& path) {
  throw Error(ErrorCode::kInternal, "saveAsTextFiles: " + what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

std::string pprintHeader(Time t) {
  // pyspark prints str(datetime.fromtimestamp(ms / 1000.0)): microseconds only when nonzero.
  std::int64_t ms = toMillis(t);
  std::int64_t whole = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  std::int64_t fraction = ms - whole * 1000;
  std::time_t secs = static_cast<std::time_t>(whole);
  std::tm local{};
  ::localtime_r(&secs, &local);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  if (fraction != 0) std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(fraction * 1000));
  return std::string(kDashes) + "Time: " + buf + "\n" + kDashes;
}

std::string printHeader(Time t) {
  return std::string(kDashes) + "Time: " + std::to_string(toMillis(t)) + " ms\n" + kDashes;
}

void writeToStdout(const std::string& text) {
  // One write per batch block, so blocks of different outputs never interleave.
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::string batchDirectoryName(const std::string& prefix, const std::string& suffix, Time t) {
  std::string name = std::to_string(toMillis(t));
  if (!prefix.empty()) name = prefix + "-" + name;
  if (!suffix.empty()) name += "." + suffix;
  return name;
}

// Writes the batch under a hidden temporary name, syncs it, then swaps it into place: a
// reader sees either no directory, the previous complete one, or the new complete one.
void writeBatchDirectory(const std::string& directory, const std::vector<std::string>& parts) {
  fs::path final(directory);
  fs::path parent = final.has_parent_path() ? final.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw Error(ErrorCode::kInternal, "saveAsTextFiles: cannot create " + parent.string() + ": " + ec.message());
  std::string base = final.filename().string();
  // Leftovers of this batch from a run that crashed mid-write.
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    if (isTempFileName(entry.path().filename().string(), base)) fs::remove_all(entry.path(), ec);
  }
  fs::path temp = tempPathFor(parent / base);
  fs::create_directory(temp, ec);
  if (ec) throw Error(ErrorCode::kInternal, "saveAsTextFiles: cannot create " + temp.string() + ": " + ec.message());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05zu", i);
    writeFileSynced(temp / name, parts[i]);
  }
  writeFileSynced(temp / "_SUCCESS", "");
  syncDirectory(temp);
  crashPoint("output-before-swap");
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EEXIST) throwIo("cannot rename into", final);
    // A re-run batch: swap atomically, then remove the old copy (now under the temp name).
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final.c_str(), RENAME_EXCHANGE) != 0) {
      throwIo("cannot replace", final);
    }
    fs::remove_all(temp, ec);
  }
  syncDirectory(parent);
  crashPoint("output-after-swap");
}

}  // namespace dstream::detail
