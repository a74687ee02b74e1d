// A LineBlock is a batch-owned buffer of text lines (or of binaryRecordsStream's fixed-length
// records): one allocation for the bytes, and string_views into it for the records. Sources produce
// blocks; an RDD<std::string_view> keeps the blocks its partitions point into alive, so no record
// costs a heap allocation.
//
// The bytes live in a BlockBytes: a buffer that grows without zero-filling what read() or
// recv() is about to overwrite. Sources take their blocks from a process-wide pool
// (src/sources/line_block_pool.h) and the last reference to a block, dropped on whatever thread
// drops the batch's RDD, hands the buffer back for a later batch to reuse.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/export.h"

namespace dstream::detail {

// Bytes in a heap buffer of `capacity()`; the bytes past size() are uninitialised. Buffers of
// 2 MiB or more are aligned to 2 MiB and advised for transparent huge pages, so that filling a
// fresh one costs few page faults. Move-only.
class DSTREAM_EXPORT BlockBytes {
 public:
  BlockBytes() = default;
  ~BlockBytes();
  BlockBytes(BlockBytes&& other) noexcept;
  BlockBytes& operator=(BlockBytes&& other) noexcept;
  BlockBytes(const BlockBytes&) = delete;
  BlockBytes& operator=(const BlockBytes&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  operator std::string_view() const { return {data_, size_}; }  // NOLINT: reads as a string

  // Makes room for `n` bytes in all, keeping the bytes; the buffer may move.
  void reserve(std::size_t n);
  // Appends `n` uninitialised bytes for the caller to fill, growing as append() does; returns
  // where they start.
  char* appendForOverwrite(std::size_t n);
  // Keeps the first `n` bytes. REQUIRES: n <= size().
  void truncate(std::size_t n) { size_ = n; }
  void append(std::string_view s);
  void clear() { size_ = 0; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

struct DSTREAM_EXPORT LineBlock {
  BlockBytes bytes;                     // the lines' bytes (separators may or may not remain)
  std::vector<std::string_view> lines;  // views into `bytes`; never outlive the block

  // Makes room for `n` bytes in all; if the buffer moves, `lines` are moved with it.
  void reserveBytes(std::size_t n);
};

// Blocks are shared read-only between the source, the RDDs and windows that use them.
using LineBlockPtr = std::shared_ptr<const LineBlock>;

}  // namespace dstream::detail
