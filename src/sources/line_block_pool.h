// The pool of LineBlocks the sources fill: a block's buffers (its bytes and its vector of
// views) are handed back when the last reference to the block drops, and the next block of
// about that size reuses them, so a stream's steady state reads into memory that is already
// mapped, instead of faulting in and zero-filling fresh pages every batch.
//
// Retention: at most kMaxRetainedBytes bytes in kMaxRetainedBlocks blocks are kept; a block
// left unused for kIdleSeconds is freed at the next use of the pool; and a block is reused only
// for a request of at least half its capacity (less 1 MiB), so a small request does not take a
// large buffer.
//
// Thread-safety: every function may be called from any thread; blocks may be released on any
// thread (one mutex guards the free list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dstream/detail/line_block.h"

namespace dstream::detail {

inline constexpr std::size_t kMaxRetainedBytes = std::size_t{1} << 30;
inline constexpr std::size_t kMaxRetainedBlocks = 256;
inline constexpr int kIdleSeconds = 10;

// An empty block with room for at least `bytes` bytes and `lines` views, reused from the pool
// when one fits; dropping its last reference returns it to the pool.
std::shared_ptr<LineBlock> acquireLineBlock(std::size_t bytes, std::size_t lines = 0);

struct LineBlockPoolStats {
  std::int64_t acquired = 0;  // blocks handed out
  std::int64_t reused = 0;    // of those, taken from the pool
  std::size_t retainedBlocks = 0;
  std::size_t retainedBytes = 0;
};
LineBlockPoolStats lineBlockPoolStats();

// Frees every retained block.
void trimLineBlockPool();

// Advises transparent huge pages for the 2 MiB-aligned pages inside [p, p + n).
void adviseHugePages(void* p, std::size_t n);

}  // namespace dstream::detail
