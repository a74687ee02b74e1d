// LineSplitter turns a byte stream, fed in chunks as recv() returns them, into lines collected
// in LineBlocks. Lines end at '\n'; one '\r' before it is removed; empty lines are records; a
// line cut across chunks is kept until its end arrives; bytes that are not UTF-8 pass through.
// A line longer than maxLineBytes is dropped and reported as a bad record without ever being
// buffered whole: the splitter skips bytes until the next '\n', so memory stays below
// maxLineBytes plus the lines of the open block.
//
// The bytes stay where they arrived: a receiver recv()s straight into the open block
// (tailForOverwrite, then commit) and lines are views into it, separators included in the
// bytes; only a partial line is copied, once, when its block is sealed. Blocks come from the
// pool (line_block_pool.h), sized from the previous block's bytes (twice them, as a power of
// two between 64 KiB and kMaxBlockBytes), so that a stream's blocks reuse each other's buffers.
//
// Ownership: the splitter owns the block being built; sealBlock() hands it over.
// Thread-safety: none; one receiver thread owns a splitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dstream/detail/line_block.h"

namespace dstream::detail {

inline constexpr std::size_t kDefaultMaxLineBytes = std::size_t{1} << 20;
// The largest room a new block is given; a longer line still grows its block.
inline constexpr std::size_t kMaxBlockBytes = std::size_t{8} << 20;

class LineSplitter {
 public:
  // `source` names where the bytes come from in bad-record reports, e.g. "socket host:9999".
  // REQUIRES: maxLineBytes > 0.
  explicit LineSplitter(std::string source, std::size_t maxLineBytes = kDefaultMaxLineBytes);

  // Splits `chunk`, appending the lines it completes to the open block.
  void feed(std::string_view chunk);

  // Room for `n` bytes at the end of the open block, for recv() to fill; commit() then takes
  // the first of them. Valid until the next call on the splitter.
  char* tailForOverwrite(std::size_t n);
  // Room left in the open block before it would have to grow: a receiver seals a full block
  // (when it has lines) rather than growing it.
  std::size_t tailRoom() const { return block_->bytes.capacity() - block_->bytes.size(); }
  // Splits the `n` bytes just written to tailForOverwrite()'s buffer, as feed() would.
  // REQUIRES: n <= what was asked of tailForOverwrite().
  void commit(std::size_t n);

  // End of stream: a final partial line (no '\n') becomes a line. An over-long line being
  // skipped ends here (it was already counted).
  void flush();

  // The stream was cut (a stop, a reset connection): a partial line is not a record. It is
  // dropped and reported as a bad (truncated) record, with `why` in the report.
  void discardPartial(std::string_view why);

  // Returns the open block and starts a new one, or returns nullptr (keeping the partial
  // line) when the open block has no lines. The partial line moves on to the new block, and
  // so do the first `uncommitted` bytes of tailForOverwrite()'s buffer (written, not yet
  // committed): commit() them after the seal. REQUIRES: uncommitted <= what was asked of
  // tailForOverwrite().
  LineBlockPtr sealBlock(std::size_t uncommitted = 0);

  // Lines in the open block.
  std::size_t pendingLines() const { return block_->lines.size(); }
  // Bytes buffered for the open block, including the partial line.
  std::size_t bufferedBytes() const { return block_->bytes.size(); }
  // Lines completed so far, in all blocks.
  std::int64_t linesProduced() const { return linesProduced_; }
  // Over-long and truncated lines dropped so far.
  std::int64_t linesDropped() const { return linesDropped_; }

 private:
  // Ends the line from partialStart_ to `end` (its '\n', or the end of the bytes), the next
  // starting at `next`; an over-long line is dropped and its bytes removed.
  void endLine(std::size_t end, std::size_t next);
  // Removes bytes [from, to) of the open block; the bytes after them move down.
  void removeBytes(std::size_t from, std::size_t to);
  void reportDropped();

  const std::string source_;
  const std::size_t maxLineBytes_;
  // The open block: its lines, then the partial line.
  std::shared_ptr<LineBlock> block_;
  std::size_t partialStart_ = 0;  // where the partial line begins in the block's bytes
  bool skipping_ = false;         // inside an over-long line: discard bytes up to '\n'
  std::int64_t linesProduced_ = 0;
  std::int64_t linesDropped_ = 0;
};

}  // namespace dstream::detail
