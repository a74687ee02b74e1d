#include "sources/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <string_view>

#include "dstream/bad_records.h"
#include "sources/tcp_connect.h"

namespace dstream::detail {
namespace {

constexpr std::int64_t kScanBytes = 64 * 1024;

void reportUnreadable(const std::filesystem::path& path, int err, std::string_view source = "textFileStream") {
  reportBadRecord(std::string(source) + " " + path.string(),
                  "cannot read the file (" + describeErrno(err) + "); skipped");
}

// Appends bytes [offset, offset + count) of fd to out, or fewer at end of file.
// Returns 0 or an errno value.
int readAt(int fd, std::int64_t offset, std::int64_t count, std::string& out) {
  std::size_t base = out.size();
  out.resize(base + static_cast<std::size_t>(count));
  std::int64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, out.data() + base + done, static_cast<std::size_t>(count - done),
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      out.resize(base);
      return errno;
    }
    if (n == 0) break;
    done += n;
  }
  out.resize(base + static_cast<std::size_t>(done));
  return 0;
}

// The offset of the first line that starts at or after `start`, or `size` if none does.
// Returns -errno on a read error.
std::int64_t firstLineStart(int fd, std::int64_t start, std::int64_t size) {
  if (start == 0) return 0;
  std::string chunk;
  // Reading from start - 1 tells whether a line begins exactly at start.
  for (std::int64_t pos = start - 1; pos < size; pos += kScanBytes) {
    chunk.clear();
    if (int err = readAt(fd, pos, kScanBytes, chunk); err != 0) return -err;
    std::size_t nl = chunk.find('\n');
    if (nl != std::string::npos) return pos + static_cast<std::int64_t>(nl) + 1;
    if (chunk.empty()) break;
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

void splitLines(LineBlock& block) {
  std::string_view all(block.bytes);
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? all.size() : nl;
    std::string_view line = all.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    block.lines.push_back(line);
    pos = end + 1;
  }
}

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
  // Build in place: the views are made once the bytes are final, inside the heap block.
  auto block = std::make_shared<LineBlock>();
  std::int64_t first = firstLineStart(fd.get(), start, size);
  if (first < 0) {
    reportUnreadable(path, static_cast<int>(-first));
    return std::nullopt;
  }
  if (first < end) {
    if (int err = readAt(fd.get(), first, end - first, block->bytes); err != 0) {
      reportUnreadable(path, err);
      return std::nullopt;
    }
    // Finish the last line, which may run past `end`.
    std::int64_t pos = first + static_cast<std::int64_t>(block->bytes.size());
    while (!block->bytes.empty() && block->bytes.back() != '\n' && pos < size) {
      std::size_t before = block->bytes.size();
      if (int err = readAt(fd.get(), pos, kScanBytes, block->bytes); err != 0) {
        reportUnreadable(path, err);
        return std::nullopt;
      }
      std::size_t nl = block->bytes.find('\n', before);
      if (nl != std::string::npos) block->bytes.resize(nl + 1);
      if (block->bytes.size() == before) break;  // the file shrank under us
      pos += static_cast<std::int64_t>(block->bytes.size() - before);
    }
  }
  splitLines(*block);
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
  auto block = std::make_shared<LineBlock>();
  int err = readAt(file->fd.get(), first * recordLength, (end - first) * recordLength, block->bytes);
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
  block->bytes.resize(whole * length);
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
