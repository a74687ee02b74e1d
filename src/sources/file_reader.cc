#include "sources/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "dstream/bad_records.h"
#include "sources/line_block_pool.h"
#include "sources/tcp_connect.h"

namespace dstream::detail {
namespace {

constexpr std::int64_t kScanBytes = 64 * 1024;

void reportUnreadable(const std::filesystem::path& path, int err, std::string_view source = "textFileStream") {
  reportBadRecord(std::string(source) + " " + path.string(),
                  "cannot read the file (" + describeErrno(err) + "); skipped");
}

// Reads bytes [offset, offset + count) of fd to `out`, or fewer at end of file; *done receives
// how many were read. Returns 0 or an errno value.
int readAt(int fd, std::int64_t offset, std::int64_t count, char* out, std::int64_t* done) {
  *done = 0;
  while (*done < count) {
    ssize_t n = ::pread(fd, out + *done, static_cast<std::size_t>(count - *done), static_cast<off_t>(offset + *done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    *done += n;
  }
  return 0;
}

// Appends bytes [offset, offset + count) of fd to the block's bytes (fewer at end of file),
// growing them without zero-filling and keeping its lines valid. Returns 0 or an errno value.
int appendAt(int fd, std::int64_t offset, std::int64_t count, LineBlock& block, std::int64_t* done) {
  std::size_t base = block.bytes.size();
  block.reserveBytes(base + static_cast<std::size_t>(count));
  char* at = block.bytes.appendForOverwrite(static_cast<std::size_t>(count));
  int err = readAt(fd, offset, count, at, done);
  block.bytes.truncate(base + static_cast<std::size_t>(err == 0 ? *done : 0));
  return err;
}

// The offset of the first line that starts at or after `start`, or `size` if none does.
// Returns -errno on a read error.
std::int64_t firstLineStart(int fd, std::int64_t start, std::int64_t size) {
  if (start == 0) return 0;
  auto chunk = std::make_unique_for_overwrite<char[]>(kScanBytes);
  // Reading from start - 1 tells whether a line begins exactly at start.
  for (std::int64_t pos = start - 1; pos < size; pos += kScanBytes) {
    std::int64_t got = 0;
    if (int err = readAt(fd, pos, kScanBytes, chunk.get(), &got); err != 0) return -err;
    if (const void* nl = std::memchr(chunk.get(), '\n', static_cast<std::size_t>(got))) {
      return pos + (static_cast<const char*>(nl) - chunk.get()) + 1;
    }
    if (got == 0) break;
  }
  return size;
}

// A regular file opened for reading splits, and the bytes of it to read: the first
// `plannedSize` (all when negative; what is there if it shrank).
struct OpenedFile {
  UniqueFd fd;
  std::int64_t size = 0;
};

// Returns nullopt (reported, naming `source`) when the file cannot be opened or is not regular.
std::optional<OpenedFile> openForSplits(const std::filesystem::path& path, std::int64_t plannedSize,
                                        std::string_view source) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    reportUnreadable(path, errno, source);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    reportUnreadable(path, EISDIR, source);
    return std::nullopt;
  }
  std::int64_t size = plannedSize >= 0 ? std::min<std::int64_t>(plannedSize, st.st_size) : st.st_size;
  return OpenedFile{std::move(fd), size};
}

// Cuts lines out of a block's bytes as they arrive. Lines end at '\n'; one '\r' before it is
// removed.
struct LineCutter {
  std::size_t lineStart = 0;  // where the line being read begins in the block's bytes

  // Adds the lines completed in bytes [from, size); with `firstOnly`, stops after one and
  // drops the bytes after it. Returns whether a line was completed.
  bool cut(LineBlock& block, std::size_t from, bool firstOnly = false) {
    const char* data = block.bytes.data();
    const char* p = data + from;
    const char* end = data + block.bytes.size();
    bool any = false;
    while (p < end) {
      const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      if (nl == nullptr) break;
      add(block, nl);
      p = nl + 1;
      any = true;
      if (firstOnly) {
        block.bytes.truncate(lineStart);
        break;
      }
    }
    return any;
  }

  // The rest is a last line without '\n' (end of file).
  void finish(LineBlock& block) {
    if (lineStart < block.bytes.size()) add(block, block.bytes.data() + block.bytes.size());
  }

 private:
  void add(LineBlock& block, const char* lineEnd) {
    const char* begin = block.bytes.data() + lineStart;
    std::string_view line(begin, static_cast<std::size_t>(lineEnd - begin));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    block.lines.push_back(line);
    lineStart = static_cast<std::size_t>(lineEnd - block.bytes.data()) + 1;
  }
};

// Lines per byte assumed when sizing a fresh block's views (more are added as needed).
constexpr std::int64_t kBytesPerLineGuess = 64;
// Bytes read at a time: the lines of each piece are cut while it is still in cache.
constexpr std::int64_t kReadPieceBytes = 1 << 20;

}  // namespace

int splitCountFor(std::int64_t fileSize, int maxSplits, std::int64_t minSplitBytes) {
  std::int64_t bySize = minSplitBytes > 0 ? fileSize / minSplitBytes : fileSize;
  return static_cast<int>(std::clamp<std::int64_t>(bySize, 1, std::max(1, maxSplits)));
}

std::optional<std::int64_t> fileSizeForSplits(const std::filesystem::path& path, std::string_view source) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    reportUnreadable(path, errno, source);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    reportUnreadable(path, EISDIR, source);
    return std::nullopt;
  }
  return static_cast<std::int64_t>(st.st_size);
}

std::optional<LineBlockPtr> readSplit(const std::filesystem::path& path, int index, int numSplits,
                                      std::int64_t plannedSize) {
  std::optional<OpenedFile> file = openForSplits(path, plannedSize, "textFileStream");
  if (!file) return std::nullopt;
  const UniqueFd& fd = file->fd;
  const std::int64_t size = file->size;
  const std::int64_t start = size * index / numSplits;
  const std::int64_t end = size * (index + 1) / numSplits;
  std::int64_t first = firstLineStart(fd.get(), start, size);
  if (first < 0) {
    reportUnreadable(path, static_cast<int>(-first));
    return std::nullopt;
  }
  const std::int64_t own = std::max<std::int64_t>(end - first, 0);
  // Room for the split and the end of its last line, so that the views rarely move.
  auto block = acquireLineBlock(own > 0 ? static_cast<std::size_t>(own + kScanBytes) : 0,
                                static_cast<std::size_t>(own / kBytesPerLineGuess));
  if (own > 0) {
    LineCutter cutter;
    std::int64_t pos = first;
    while (pos < end) {
      std::size_t before = block->bytes.size();
      std::int64_t got = 0;
      if (int err = appendAt(fd.get(), pos, std::min(kReadPieceBytes, end - pos), *block, &got); err != 0) {
        reportUnreadable(path, err);
        return std::nullopt;
      }
      if (got == 0) break;  // the file shrank under us
      cutter.cut(*block, before);
      pos += got;
    }
    // Finish the last line, which may run past `end`.
    while (cutter.lineStart < block->bytes.size() && pos < size) {
      std::size_t before = block->bytes.size();
      std::int64_t got = 0;
      if (int err = appendAt(fd.get(), pos, kScanBytes, *block, &got); err != 0) {
        reportUnreadable(path, err);
        return std::nullopt;
      }
      if (got == 0) break;  // the file shrank under us
      if (cutter.cut(*block, before, /*firstOnly=*/true)) break;
      pos += got;
    }
    cutter.finish(*block);
  }
  return LineBlockPtr(std::move(block));
}

std::optional<LineBlockPtr> readRecordSplit(const std::filesystem::path& path, std::int64_t recordLength,
                                            int index, int numSplits, std::int64_t plannedSize,
                                            std::string_view source) {
  std::optional<OpenedFile> file = openForSplits(path, plannedSize, source);
  if (!file) return std::nullopt;
  const std::int64_t records = file->size / recordLength;
  const std::int64_t first = records * index / numSplits;
  const std::int64_t end = records * (index + 1) / numSplits;
  auto block = acquireLineBlock(static_cast<std::size_t>((end - first) * recordLength),
                                static_cast<std::size_t>(end - first));
  std::int64_t got = 0;
  int err = appendAt(file->fd.get(), first * recordLength, (end - first) * recordLength, *block, &got);
  if (err != 0) {
    reportUnreadable(path, err, source);
    return std::nullopt;
  }
  const auto length = static_cast<std::size_t>(recordLength);
  const auto planned = static_cast<std::size_t>(end - first);
  const std::size_t whole = block->bytes.size() / length;  // fewer if the file shrank meanwhile
  const std::int64_t wholeEnd = (first + static_cast<std::int64_t>(whole)) * recordLength;
  // Bytes after the last whole record: the file's tail (the last split's), or a record cut
  // short because the file shrank while it was read.
  const std::int64_t partial = whole < planned ? static_cast<std::int64_t>(block->bytes.size() % length)
                               : index == numSplits - 1 ? file->size - wholeEnd
                                                        : 0;
  if (partial > 0) {
    reportBadRecord(std::string(source) + " " + path.string(),
                    "a partial record of " + std::to_string(partial) + " bytes at byte offset " +
                        std::to_string(wholeEnd) + " (records are " + std::to_string(recordLength) +
                        " bytes; the file has " + std::to_string(file->size) + " bytes); skipped");
  }
  block->bytes.truncate(whole * length);
  std::string_view all(block->bytes);
  block->lines.reserve(whole);
  for (std::size_t i = 0; i < whole; ++i) block->lines.push_back(all.substr(i * length, length));
  return LineBlockPtr(std::move(block));
}

std::optional<std::vector<LineBlockPtr>> readFileSplits(const std::filesystem::path& path,
                                                        int maxSplits) {
  std::optional<std::int64_t> size = fileSizeForSplits(path);
  if (!size) return std::nullopt;
  int n = splitCountFor(*size, maxSplits);
  std::vector<LineBlockPtr> blocks;
  blocks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::optional<LineBlockPtr> block = readSplit(path, i, n, *size);
    if (!block) return std::nullopt;
    blocks.push_back(std::move(*block));
  }
  return blocks;
}

}  // namespace dstream::detail
