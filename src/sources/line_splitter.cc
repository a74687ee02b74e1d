#include "sources/line_splitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "dstream/bad_records.h"
#include "sources/line_block_pool.h"

namespace dstream::detail {

namespace {

// The first open block's room; later blocks are sized like the previous one.
constexpr std::size_t kFirstBlockBytes = 64 * 1024;

}  // namespace

LineSplitter::LineSplitter(std::string source, std::size_t maxLineBytes)
    : source_(std::move(source)),
      maxLineBytes_(maxLineBytes > 0 ? maxLineBytes : 1),
      block_(acquireLineBlock(kFirstBlockBytes)) {}

void LineSplitter::feed(std::string_view chunk) {
  if (chunk.empty()) return;
  std::memcpy(tailForOverwrite(chunk.size()), chunk.data(), chunk.size());
  commit(chunk.size());
}

char* LineSplitter::tailForOverwrite(std::size_t n) {
  BlockBytes& bytes = block_->bytes;
  if (bytes.size() + n > bytes.capacity())
    block_->reserveBytes(std::max(bytes.size() + n, 2 * bytes.capacity()));
  return bytes.data() + bytes.size();
}

void LineSplitter::commit(std::size_t n) {
  BlockBytes& bytes = block_->bytes;
  std::size_t pos = bytes.size();
  bytes.appendForOverwrite(n);  // within the room tailForOverwrite made: the bytes are there
  if (!skipping_) {
    // The common case in one tight loop: lines within the limit become views. The first line
    // over it is left to the loop below, which drops it.
    const char* data = bytes.data();
    const char* end = data + bytes.size();
    const char* begin = data + partialStart_;
    std::vector<std::string_view>& lines = block_->lines;
    std::int64_t added = 0;
    const char* scan = data + pos;
    while (const auto* nl = static_cast<const char*>(
               std::memchr(scan, '\n', static_cast<std::size_t>(end - scan)))) {
      auto size = static_cast<std::size_t>(nl - begin);
      if (size > 0 && nl[-1] == '\r') --size;
      if (size > maxLineBytes_) break;
      lines.emplace_back(begin, size);
      ++added;
      begin = scan = nl + 1;
    }
    linesProduced_ += added;
    partialStart_ = static_cast<std::size_t>(begin - data);
    pos = static_cast<std::size_t>(scan - data);
  }
  while (pos < bytes.size()) {
    const char* data = bytes.data();
    const auto* nl = static_cast<const char*>(std::memchr(data + pos, '\n', bytes.size() - pos));
    if (skipping_) {
      // Inside an over-long line (already counted): its bytes go, up to and including '\n'.
      if (nl == nullptr) {
        bytes.truncate(partialStart_);
        return;
      }
      skipping_ = false;
      removeBytes(partialStart_, static_cast<std::size_t>(nl - data) + 1);
      pos = partialStart_;
      continue;
    }
    if (nl == nullptr) {
      // One byte of slack for a '\r' that may turn out to precede the '\n'.
      if (bytes.size() - partialStart_ > maxLineBytes_ + 1) {
        reportDropped();
        bytes.truncate(partialStart_);
        skipping_ = true;
      }
      return;
    }
    endLine(static_cast<std::size_t>(nl - data), static_cast<std::size_t>(nl - data) + 1);
    pos = partialStart_;
  }
}

void LineSplitter::flush() {
  if (skipping_) {
    skipping_ = false;
    return;
  }
  std::size_t size = block_->bytes.size();
  if (size > partialStart_) endLine(size, size);
}

void LineSplitter::discardPartial(std::string_view why) {
  if (skipping_) {
    skipping_ = false;  // an over-long line: already counted
    return;
  }
  std::size_t partial = block_->bytes.size() - partialStart_;
  if (partial == 0) return;
  block_->bytes.truncate(partialStart_);
  ++linesDropped_;
  reportBadRecord(source_, fmt::format("truncated line of {} bytes without its end dropped ({})",
                                       partial, why));
}

void LineSplitter::endLine(std::size_t end, std::size_t next) {
  std::size_t size = end - partialStart_;
  const char* begin = block_->bytes.data() + partialStart_;
  if (size > 0 && begin[size - 1] == '\r') --size;
  if (size > maxLineBytes_) {
    reportDropped();
    removeBytes(partialStart_, next);
    return;
  }
  block_->lines.emplace_back(begin, size);
  partialStart_ = next;
  ++linesProduced_;
}

void LineSplitter::removeBytes(std::size_t from, std::size_t to) {
  BlockBytes& bytes = block_->bytes;
  std::memmove(bytes.data() + from, bytes.data() + to, bytes.size() - to);
  bytes.truncate(bytes.size() - (to - from));
}

void LineSplitter::reportDropped() {
  ++linesDropped_;
  reportBadRecord(source_, fmt::format("line longer than {} bytes dropped", maxLineBytes_));
}

LineBlockPtr LineSplitter::sealBlock(std::size_t uncommitted) {
  if (block_->lines.empty()) return nullptr;
  BlockBytes& bytes = block_->bytes;
  std::size_t partial = bytes.size() - partialStart_;
  // The next block will likely be as large: room for twice as many bytes, once (not grown
  // again by doubling and copying), in a size the stream's earlier buffers, back in the pool, fit.
  std::size_t room = std::clamp(std::bit_ceil(2 * bytes.size()), kFirstBlockBytes, kMaxBlockBytes);
  auto next = acquireLineBlock(std::max(room, partial + uncommitted + kFirstBlockBytes),
                               block_->lines.size());
  next->bytes.append(std::string_view(bytes.data() + partialStart_, partial));
  if (uncommitted > 0)
    std::memcpy(next->bytes.data() + next->bytes.size(), bytes.data() + bytes.size(), uncommitted);
  bytes.truncate(partialStart_);
  partialStart_ = 0;
  return std::exchange(block_, std::move(next));
}

}  // namespace dstream::detail
