#include "sources/line_splitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "dstream/bad_records.h"

namespace dstream::detail {

LineSplitter::LineSplitter(std::string source, std::size_t maxLineBytes)
    : source_(std::move(source)), maxLineBytes_(maxLineBytes > 0 ? maxLineBytes : 1) {}

void LineSplitter::feed(std::string_view chunk) {
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    std::size_t nl = chunk.find('\n', pos);
    bool complete = nl != std::string_view::npos;
    std::string_view piece = chunk.substr(pos, (complete ? nl : chunk.size()) - pos);
    pos = complete ? nl + 1 : chunk.size();
    if (skipping_) {
      if (complete) skipping_ = false;
      continue;
    }
    // One byte of slack for a '\r' that may turn out to precede the '\n'.
    std::size_t partial = bytes_.size() - partialStart_;
    if (partial + piece.size() > maxLineBytes_ + 1) {
      dropLine();
      skipping_ = !complete;
      continue;
    }
    bytes_.append(piece);
    if (complete) endLine();
  }
}

void LineSplitter::flush() {
  if (skipping_) {
    skipping_ = false;
    return;
  }
  if (bytes_.size() > partialStart_) endLine();
}

void LineSplitter::discardPartial(std::string_view why) {
  if (skipping_) {
    skipping_ = false;  // an over-long line: already counted
    return;
  }
  std::size_t partial = bytes_.size() - partialStart_;
  if (partial == 0) return;
  bytes_.resize(partialStart_);
  ++linesDropped_;
  reportBadRecord(source_, fmt::format("truncated line of {} bytes without its end dropped ({})",
                                       partial, why));
}

void LineSplitter::endLine() {
  if (bytes_.size() > partialStart_ && bytes_.back() == '\r') bytes_.pop_back();
  std::size_t size = bytes_.size() - partialStart_;
  if (size > maxLineBytes_) {
    dropLine();
    return;
  }
  lines_.emplace_back(partialStart_, size);
  partialStart_ = bytes_.size();
  ++linesProduced_;
}

void LineSplitter::dropLine() {
  bytes_.resize(partialStart_);
  ++linesDropped_;
  reportBadRecord(source_, fmt::format("line longer than {} bytes dropped", maxLineBytes_));
}

LineBlockPtr LineSplitter::sealBlock() {
  if (lines_.empty()) return nullptr;
  std::string partial = bytes_.substr(partialStart_);
  bytes_.resize(partialStart_);
  // The views are made only once the bytes sit in the block at its final heap address: a
  // moved short string would otherwise leave them pointing into the old object.
  auto block = std::make_shared<LineBlock>();
  block->bytes = std::move(bytes_);
  block->lines.reserve(lines_.size());
  std::string_view all(block->bytes);
  for (auto [offset, size] : lines_) block->lines.push_back(all.substr(offset, size));
  bytes_ = std::move(partial);
  // The next block will likely be as large: grow once, not by doubling and copying.
  bytes_.reserve(std::max(bytes_.size(), block->bytes.size()));
  lines_.reserve(block->lines.size());
  partialStart_ = 0;
  lines_.clear();
  return block;
}

}  // namespace dstream::detail
