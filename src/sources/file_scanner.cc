#include "sources/file_scanner.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <system_error>
#include <tuple>
#include <utility>

#include "dstream/bad_records.h"
#include "dstream/error.h"
#include "dstream/log.h"
#include "util/file_io.h"

namespace dstream::detail {
namespace {

constexpr Duration kMinRememberDuration = Seconds(60);

bool isIgnoredName(const std::string& name) {
  static constexpr std::string_view kCopying = "._COPYING_";
  return name.empty() || name[0] == '.' ||
         (name.size() >= kCopying.size() &&
          name.compare(name.size() - kCopying.size(), kCopying.size(), kCopying) == 0);
}

Time toTime(const timespec& ts) {
  return Time(Duration(static_cast<Duration::rep>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000));
}

}  // namespace

std::filesystem::path localDirectoryFromUri(const std::string& directory, std::string_view source) {
  return localPathFromUri(directory, std::string(source) + " directory");
}

FileStreamScanner::FileStreamScanner(const std::string& directory, FileScannerOptions options)
    : directory_(localDirectoryFromUri(directory, options.source)), options_(std::move(options)) {
  if (options_.batchDuration <= Duration::zero()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} {}: the batch duration must be positive", options_.source, directory));
  }
  auto checkCap = [&](std::int64_t value, const char* setting) {
    if (value < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} {}: FileStreamOptions.{} is {}; it must be >= 0 (0: unlimited)", options_.source,
                              directory, setting, value));
    }
  };
  checkCap(options_.maxFilesPerBatch, "maxFilesPerBatch");
  checkCap(options_.maxBytesPerBatch, "maxBytesPerBatch");
  Duration d = options_.batchDuration;
  Duration remember = std::max({options_.rememberDuration, d, kMinRememberDuration});
  rememberDuration_ = d * ((remember.count() + d.count() - 1) / d.count());
  if (options_.requireStableSize) rememberDuration_ += d;  // files are taken a batch later
}

void FileStreamScanner::checkDirectory() const {
  std::error_code ec;
  auto status = std::filesystem::status(directory_, ec);
  if (!std::filesystem::exists(status)) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("{}: directory {} does not exist; create it before start()",
                            options_.source, directory_.string()));
  }
  if (!std::filesystem::is_directory(status)) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("{}: {} is not a directory; pass the directory that new "
                            "files are moved into",
                            options_.source, directory_.string()));
  }
}

void FileStreamScanner::start(Time startTime) {
  checkDirectory();
  startTime_ = startTime;
}

Time FileStreamScanner::ignoreThreshold(Time batchTime) const {
  if (!options_.newFilesOnly && batchTime <= startTime_ + options_.batchDuration) {
    return Time::min();  // the first batch reads every file present at start
  }
  Time initial = options_.newFilesOnly ? startTime_ : Time::min();
  return std::max(initial, batchTime - rememberDuration_);
}

std::vector<std::filesystem::path> FileStreamScanner::findNewFiles(Time batchTime) {
  // Forget names selected by batches that left the window: an unchanged file of theirs is
  // older than the threshold anyway, and one copied again under the name is new again.
  Time forgetUpTo = batchTime - rememberDuration_;
  std::erase_if(remembered_, [&](const FileScannerState::RememberedFile& f) {
    if (f.batchTime > forgetUpTo) return false;
    rememberedPaths_.erase(f.path);
    return true;
  });

  Time threshold = ignoreThreshold(batchTime);
  struct Found {
    Time modTime;
    std::filesystem::path path;
    std::int64_t size;
    bool operator<(const Found& o) const { return std::tie(modTime, path) < std::tie(o.modTime, o.path); }
  };
  std::vector<Found> found;
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    if (isIgnoredName(path.filename().string())) continue;
    struct stat st;
    // A file may vanish between the listing and the stat: it is simply not selected.
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    Time modTime = toTime(st.st_mtim);
    auto size = static_cast<std::int64_t>(st.st_size);
    if (auto seen = rememberedPaths_.find(path.string()); seen != rememberedPaths_.end()) {
      checkUnchanged(path, seen->second, size, modTime);
      continue;
    }
    if (backlogPaths_.contains(path.string())) continue;  // found before, waiting for its batch
    if (modTime < threshold || modTime >= batchTime) continue;
    // Written to during the last batch: it may still be being written.
    if (options_.requireStableSize && modTime >= batchTime - options_.batchDuration) continue;
    found.push_back({modTime, path, size});
  }
  if (ec) {
    logLine(LogLevel::kWarning,
            options_.source + " " + directory_.string() + ": cannot list the directory: " + ec.message());
  }
  for (auto& [modTime, path, size] : found) backlog_.push_back({path.string(), modTime, Time{}, size});
  auto older = [](const FileScannerState::RememberedFile& a, const FileScannerState::RememberedFile& b) {
    return std::tie(a.modTime, a.path) < std::tie(b.modTime, b.path);
  };
  std::stable_sort(backlog_.begin(), backlog_.end(), older);
  // Take the oldest, up to the caps; a first file over the byte cap is taken alone.
  std::size_t take = 0;
  std::int64_t bytes = 0;
  for (; take < backlog_.size(); ++take) {
    if (options_.maxFilesPerBatch > 0 && static_cast<std::int64_t>(take) >= options_.maxFilesPerBatch) break;
    FileScannerState::RememberedFile& f = backlog_[take];
    if (f.size < 0) {  // restored from a checkpoint, which keeps no sizes
      std::error_code sizeError;
      auto now = std::filesystem::file_size(f.path, sizeError);
      f.size = sizeError ? 0 : static_cast<std::int64_t>(now);
    }
    std::int64_t size = f.size;
    if (options_.maxBytesPerBatch > 0 && take > 0 && bytes + size > options_.maxBytesPerBatch) break;
    bytes += size;
  }
  std::vector<std::filesystem::path> selected;
  selected.reserve(take);
  for (std::size_t i = 0; i < take; ++i) {
    FileScannerState::RememberedFile& f = backlog_[i];
    f.batchTime = batchTime;
    rememberedPaths_[f.path] = Seen{f.size, f.size, f.modTime};
    selected.emplace_back(f.path);
    remembered_.push_back(std::move(f));
  }
  backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(take));
  backlogPaths_.clear();
  for (std::size_t i = 0; i < backlog_.size(); ++i) backlogPaths_[backlog_[i].path] = i;
  return selected;
}

void FileStreamScanner::checkUnchanged(const std::filesystem::path& path, Seen& seen,
                                       std::int64_t size, Time modTime) {
  if (seen.readSize < 0) {  // restored from a checkpoint: this scan is the baseline
    seen = Seen{size, size, modTime};
    return;
  }
  if (size == seen.size && modTime == seen.modTime) return;
  seen.size = size;
  seen.modTime = modTime;
  std::string detail =
      size > seen.readSize
          ? fmt::format("the file grew after it was read: {} bytes not read ({} read, {} now)",
                        size - seen.readSize, seen.readSize, size)
          : fmt::format("the file changed after it was read ({} bytes read, {} now)", seen.readSize,
                        size);
  reportBadRecord(options_.source + " " + path.string(),
                  detail + "; write files elsewhere and mv them into the directory");
}

std::int64_t FileStreamScanner::selectedSize(const std::filesystem::path& path) const {
  auto it = rememberedPaths_.find(path.string());
  return it == rememberedPaths_.end() ? -1 : it->second.readSize;
}

FileScannerState FileStreamScanner::state() const { return {startTime_, remembered_, backlog_}; }

void FileStreamScanner::restore(const FileScannerState& state) {
  startTime_ = state.startTime;
  remembered_ = state.files;
  rememberedPaths_.clear();
  for (const auto& f : remembered_) rememberedPaths_[f.path] = Seen{f.size, f.size, f.modTime};
  backlog_ = state.backlog;
  backlogPaths_.clear();
  for (std::size_t i = 0; i < backlog_.size(); ++i) backlogPaths_[backlog_[i].path] = i;
}

}  // namespace dstream::detail
