#include "checkpoint/record_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "checkpoint/file_io.h"
#include "dstream/error.h"

namespace dstream::detail {
namespace {

void putFixed64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t getFixed64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
  return v;
}

RecordFileRead failure(RecordFileStatus status, std::string reason) {
  return RecordFileRead{std::nullopt, status, std::move(reason)};
}

std::string makeHeader(std::string_view payload) {
  std::string header(kRecordFileMagic);
  header.push_back(static_cast<char>(kRecordFileVersion));
  header.append(3, '\0');
  putFixed64(header, payload.size());
  putFixed64(header, XXH3_64bits(payload.data(), payload.size()));
  return header;
}

}  // namespace

std::string_view recordFileStatusName(RecordFileStatus status) {
  switch (status) {
    case RecordFileStatus::kOk: return "ok";
    case RecordFileStatus::kNotFound: return "not found";
    case RecordFileStatus::kIoError: return "I/O error";
    case RecordFileStatus::kTruncated: return "truncated";
    case RecordFileStatus::kBadMagic: return "bad magic";
    case RecordFileStatus::kUnsupportedVersion: return "unsupported version";
    case RecordFileStatus::kBadLength: return "bad length";
    case RecordFileStatus::kBadChecksum: return "bad checksum";
  }
  return "unknown";
}

std::string encodeRecordFile(std::string_view payload) {
  std::string out = makeHeader(payload);
  out.append(payload);
  return out;
}

RecordFileRead decodeRecordFile(std::string_view file, std::string_view name) {
  if (file.empty()) {
    return failure(RecordFileStatus::kTruncated, fmt::format("{}: empty file", name));
  }
  if (file.size() < kRecordFileHeaderSize) {
    // A short prefix of a valid header is a torn write, anything else is not our file.
    if (file.substr(0, std::min(file.size(), kRecordFileMagic.size())) !=
        kRecordFileMagic.substr(0, std::min(file.size(), kRecordFileMagic.size()))) {
      return failure(RecordFileStatus::kBadMagic,
                     fmt::format("{}: bad magic (not a dstream record file)", name));
    }
    return failure(RecordFileStatus::kTruncated,
                   fmt::format("{}: truncated: {} bytes, shorter than the {}-byte header", name,
                               file.size(), kRecordFileHeaderSize));
  }
  if (file.substr(0, 4) != kRecordFileMagic) {
    return failure(RecordFileStatus::kBadMagic,
                   fmt::format("{}: bad magic (not a dstream record file)", name));
  }
  auto version = static_cast<std::uint8_t>(file[4]);
  if (version != kRecordFileVersion) {
    return failure(RecordFileStatus::kUnsupportedVersion,
                   fmt::format("{}: format version {} is not supported (this dstream reads {})",
                               name, version, kRecordFileVersion));
  }
  if (file[5] != 0 || file[6] != 0 || file[7] != 0) {
    return failure(RecordFileStatus::kBadLength,
                   fmt::format("{}: reserved header bytes are not zero", name));
  }
  std::uint64_t length = getFixed64(file.substr(8, 8));
  std::uint64_t stored = getFixed64(file.substr(16, 8));
  std::uint64_t actual = file.size() - kRecordFileHeaderSize;
  if (length > actual) {
    return failure(RecordFileStatus::kTruncated,
                   fmt::format("{}: truncated: header says {} payload bytes, file has {}", name,
                               length, actual));
  }
  if (length < actual) {
    return failure(RecordFileStatus::kBadLength,
                   fmt::format("{}: bad length: header says {} payload bytes, file has {}", name,
                               length, actual));
  }
  std::string_view payload = file.substr(kRecordFileHeaderSize);
  std::uint64_t computed = XXH3_64bits(payload.data(), payload.size());
  if (computed != stored) {
    return failure(RecordFileStatus::kBadChecksum,
                   fmt::format("{}: bad checksum: stored {:016x}, computed {:016x}", name, stored,
                               computed));
  }
  return RecordFileRead{std::string(payload), RecordFileStatus::kOk, {}};
}

std::filesystem::path writeAtomically(const std::filesystem::path& dir, std::string_view name,
                                      std::string_view payload) {
  static std::atomic<std::uint64_t> counter{0};
  auto target = dir / name;
  auto temp = dir / fmt::format(".{}.tmp-{}-{}", name, ::getpid(), counter++);
  try {
    FileDescriptor fd = openFile(temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    fd.writeAll(makeHeader(payload));
    fd.writeAll(payload);
    fd.sync();
    fd.close();
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("cannot rename {} to {}: {}", temp.string(), target.string(),
                              std::strerror(errno)));
    }
  } catch (...) {
    ::unlink(temp.c_str());  // best effort; readers ignore temp names anyway
    throw;
  }
  syncDirectory(dir);
  return target;
}

RecordFileRead readVerified(const std::filesystem::path& path) {
  std::string bytes;
  try {
    FileDescriptor fd = openFile(path, O_RDONLY);
    std::uint64_t size = fd.size();
    bytes = fd.readAt(0, static_cast<std::size_t>(size));
  } catch (const Error& e) {
    return failure(e.code() == ErrorCode::kNotFound ? RecordFileStatus::kNotFound
                                                    : RecordFileStatus::kIoError,
                   std::string(e.what()).substr(std::string_view("dstream: ").size()));
  }
  return decodeRecordFile(bytes, path.string());
}

bool isTempFileName(std::string_view fileName, std::string_view name) {
  if (fileName.size() < 2 || fileName[0] != '.') return false;
  std::size_t tmp = fileName.rfind(".tmp-");
  if (tmp == std::string_view::npos || tmp < 1) return false;
  if (!name.empty() && fileName.substr(1, tmp - 1) != name) return false;
  return tmp + 5 < fileName.size();
}

}  // namespace dstream::detail
