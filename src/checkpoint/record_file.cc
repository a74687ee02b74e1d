#include "checkpoint/record_file.h"

#include <fcntl.h>
#include <xxhash.h>

#include <fmt/format.h>

#include "dstream/detail/coding.h"
#include "dstream/error.h"
#include "util/file_io.h"

namespace dstream::detail {
namespace {

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
  std::uint64_t length = decodeFixed64(file.data() + 8);
  std::uint64_t stored = decodeFixed64(file.data() + 16);
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
  auto target = dir / name;
  writeFileAtomically(target, [payload](FileDescriptor& fd) {
    fd.writeAll(makeHeader(payload));
    fd.writeAll(payload);
  });
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

}  // namespace dstream::detail
