// LineSplitter turns a byte stream, fed in chunks as recv() returns them, into lines collected
// in LineBlocks. Lines end at '\n'; one '\r' before it is removed; empty lines are records; a
// line cut across chunks is kept until its end arrives; bytes that are not UTF-8 pass through.
// A line longer than maxLineBytes is dropped and reported as a bad record without ever being
// buffered whole: the splitter skips bytes until the next '\n', so memory stays below
// maxLineBytes plus the lines of the open block.
//
// Ownership: the splitter owns the block being built; sealBlock() hands it over.
// Thread-safety: none; one receiver thread owns a splitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/detail/line_block.h"

namespace dstream::detail {

inline constexpr std::size_t kDefaultMaxLineBytes = std::size_t{1} << 20;

class LineSplitter {
 public:
  // `source` names where the bytes come from in bad-record reports, e.g. "socket host:9999".
  // REQUIRES: maxLineBytes > 0.
  explicit LineSplitter(std::string source, std::size_t maxLineBytes = kDefaultMaxLineBytes);

  // Splits `chunk`, appending the lines it completes to the open block.
  void feed(std::string_view chunk);

  // End of stream: a final partial line (no '\n') becomes a line. An over-long line being
  // skipped ends here (it was already counted).
  void flush();

  // The stream was cut (a stop, a reset connection): a partial line is not a record. It is
  // dropped and reported as a bad (truncated) record, with `why` in the report.
  void discardPartial(std::string_view why);

  // Returns the open block and starts a new one, or returns nullptr (keeping the partial
  // line) when the open block has no lines. The partial line moves on to the new block.
  LineBlockPtr sealBlock();

  // Lines in the open block.
  std::size_t pendingLines() const { return lines_.size(); }
  // Bytes buffered for the open block, including the partial line.
  std::size_t bufferedBytes() const { return bytes_.size(); }
  // Lines completed so far, in all blocks.
  std::int64_t linesProduced() const { return linesProduced_; }
  // Over-long and truncated lines dropped so far.
  std::int64_t linesDropped() const { return linesDropped_; }

 private:
  void endLine();
  void dropLine();

  const std::string source_;
  const std::size_t maxLineBytes_;
  std::string bytes_;  // the open block's lines (without separators), then the partial line
  std::vector<std::pair<std::size_t, std::size_t>> lines_;  // (offset, size) into bytes_
  std::size_t partialStart_ = 0;  // where the partial line begins in bytes_
  bool skipping_ = false;         // inside an over-long line: discard bytes up to '\n'
  std::int64_t linesProduced_ = 0;
  std::int64_t linesDropped_ = 0;
};

}  // namespace dstream::detail
