// Reading a text file into LineBlocks, whole or as byte-range splits that separate workers read
// in parallel (Hadoop's TextInputFormat). Lines end at '\n'; one '\r' before it is removed; a
// last line without '\n' counts; empty lines count (Spark's textFile keeps them); bytes that
// are not UTF-8 pass through.
//
// Split i of n covers bytes [size*i/n, size*(i+1)/n) and owns exactly the lines that start in
// that range: it skips a line already begun before its start (the previous split owns it) and
// reads past its end to finish its own last line. So the splits together yield every line
// exactly once, in file order, whatever n is.
//
// binaryRecordsStream's files are read by readRecordSplit instead: fixed-length records, split
// on record boundaries (Spark's FixedLengthBinaryInputFormat).
//
// Failure is normal here (a file removed or made unreadable after it was listed): the calls
// return std::nullopt and report a bad record naming the stream and the path; the stream
// goes on.
// Thread-safety: all functions are reentrant; splits of one file may be read concurrently
// (pread, one descriptor per call). A file that grows while it is read is read up to the
// size it was planned with: every split sees the same bytes, and what was appended later is
// left for the caller to notice (FileStreamScanner warns about it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "dstream/detail/line_block.h"

namespace dstream::detail {

// Files smaller than this per split are read in fewer splits.
inline constexpr std::int64_t kMinSplitBytes = 1 << 20;

// The number of splits to cut a file of `fileSize` bytes into: at most maxSplits, at least 1,
// and no split smaller than minSplitBytes unless the file is.
int splitCountFor(std::int64_t fileSize, int maxSplits,
                  std::int64_t minSplitBytes = kMinSplitBytes);

// Returns the size of `path` for planning splits, or nullopt (reported, naming `source`) when
// unreadable.
std::optional<std::int64_t> fileSizeForSplits(const std::filesystem::path& path,
                                              std::string_view source = "textFileStream");

// Reads the lines owned by split `index` of `numSplits` of the first `plannedSize` bytes of
// the file (all of it when negative; what is there if it shrank). The block is never null; it
// may hold no lines. REQUIRES: 0 <= index < numSplits.
std::optional<LineBlockPtr> readSplit(const std::filesystem::path& path, int index, int numSplits,
                                      std::int64_t plannedSize = -1);

// Reads the fixed-length records owned by split `index` of `numSplits` of the first
// `plannedSize` bytes of the file (all of it when negative; what is there if it shrank):
// the file holds size / recordLength whole records, and split i owns records
// [records * i / numSplits, records * (i + 1) / numSplits), each a view of exactly
// recordLength bytes; bytes are passed through as they are ('\n' and '\0' included).
// Bytes after the last whole record (size % recordLength of them: a partial record) are
// dropped, and the last split reports them as one bad record of `source`, naming the file,
// the byte offset and the byte count. Spark's reader hands out such a record padded with
// stale bytes; a fixed-length record cut short is damaged input, so here it is counted.
// REQUIRES: recordLength > 0, 0 <= index < numSplits.
std::optional<LineBlockPtr> readRecordSplit(const std::filesystem::path& path, std::int64_t recordLength,
                                            int index, int numSplits, std::int64_t plannedSize = -1,
                                            std::string_view source = "binaryRecordsStream");

// Reads the whole file as splitCountFor(size, maxSplits) splits, one block per split.
// REQUIRES: maxSplits >= 1.
std::optional<std::vector<LineBlockPtr>> readFileSplits(const std::filesystem::path& path,
                                                        int maxSplits);

}  // namespace dstream::detail
