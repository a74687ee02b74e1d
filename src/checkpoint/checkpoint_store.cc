#include "checkpoint/checkpoint_store.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "checkpoint/record_file.h"
#include "dstream/error.h"

namespace dstream::detail {

CheckpointStore::CheckpointStore(std::string_view directory, CheckpointStoreOptions options)
    : dir_(localPathFromUri(directory, "checkpoint directory")), options_(std::move(options)) {
  if (options_.retain < 1) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("checkpoint directory {}: retain must be at least 1, got {}",
                            dir_.string(), options_.retain));
  }
  if (options_.readOnly) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec)) {
      throw Error(ErrorCode::kNotFound,
                  fmt::format("checkpoint directory {} does not exist or is not a directory",
                              dir_.string()));
    }
    return;
  }
  ensureWritableDirectory(dir_, "checkpoint directory");
  removeTempFiles();
}

std::string CheckpointStore::fileName(std::int64_t batchTimeMs) {
  return fmt::format("{}{}", kFilePrefix, batchTimeMs);
}

std::optional<std::int64_t> CheckpointStore::parseFileName(std::string_view name) {
  if (!name.starts_with(kFilePrefix)) return std::nullopt;
  std::string_view digits = name.substr(kFilePrefix.size());
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  // Exactly the canonical form, so "checkpoint-007" or "checkpoint-5.bak" are not ours.
  if (ec != std::errc() || end != digits.data() + digits.size() || fileName(value) != name) {
    return std::nullopt;
  }
  return value;
}

std::vector<CheckpointFile> CheckpointStore::listCheckpoints() const {
  std::vector<CheckpointFile> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (auto t = parseFileName(it->path().filename().string())) {
      files.push_back(CheckpointFile{*t, it->path()});
    }
  }
  if (ec) {
    throw Error(ErrorCode::kInternal, fmt::format("cannot list checkpoint directory {}: {}",
                                                  dir_.string(), ec.message()));
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.batchTimeMs < b.batchTimeMs; });
  return files;
}

std::filesystem::path CheckpointStore::write(std::int64_t batchTimeMs, std::string_view bytes) {
  if (options_.readOnly) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("checkpoint directory {} was opened read-only", dir_.string()));
  }
  std::lock_guard lock(writeMu_);
  auto path = writeAtomically(dir_, fileName(batchTimeMs), bytes);
  auto files = listCheckpoints();
  auto excess = static_cast<std::ptrdiff_t>(files.size()) - options_.retain;
  for (std::ptrdiff_t i = 0; i < excess; ++i) {
    std::error_code ec;
    std::filesystem::remove(files[static_cast<std::size_t>(i)].path, ec);
    // A file that cannot be removed costs disk, not correctness: say so and go on.
    if (ec) {
      warn(options_.onWarning, fmt::format("cannot delete old checkpoint {}: {}",
                                           files[static_cast<std::size_t>(i)].path.string(),
                                           ec.message()));
    }
  }
  return path;
}

std::optional<Checkpoint> CheckpointStore::readLatestValid() const {
  auto files = listCheckpoints();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    RecordFileRead read = readVerified(it->path);
    if (read.ok()) return Checkpoint{it->batchTimeMs, it->path, std::move(*read.payload)};
    if (read.status == RecordFileStatus::kNotFound) continue;
    warn(options_.onWarning,
         fmt::format("skipping damaged checkpoint {}, falling back to an older one",
                     read.reason));
  }
  return std::nullopt;
}

void CheckpointStore::removeTempFiles() {
  std::error_code ec;
  std::vector<std::filesystem::path> leftovers;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(fmt::format(".{}", kFilePrefix)) && isTempFileName(name)) {
      leftovers.push_back(it->path());
    }
  }
  if (ec) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("checkpoint directory {} cannot be listed: {}", dir_.string(),
                            ec.message()));
  }
  for (const auto& path : leftovers) {
    std::filesystem::remove(path, ec);
    if (ec) {
      warn(options_.onWarning, fmt::format("cannot delete leftover temp file {}: {}",
                                           path.string(), ec.message()));
    }
  }
}

}  // namespace dstream::detail
