// ReceivedBlockQueue holds the line blocks a receiver has produced until the batch they belong
// to takes them (Spark's ReceivedBlockTracker, without the per-stream bookkeeping). A receiver
// thread calls add(batchTime, block); the engine calls takeUpTo(t) when batch t runs.
//
// It also counts the bytes it holds, so that a receiver can stop reading at a byte limit and
// wait, woken by takeUpTo(), until a batch has made room (SocketStreamOptions.maxReceivedBytes).
//
// Ownership: the queue keeps a shared reference to each block until it is taken.
// Thread-safety: every method may be called from any thread. The beforeAdd hook is fixed at
// construction and runs on the adding thread, outside the lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <vector>

#include "dstream/detail/line_block.h"
#include "dstream/time.h"

namespace dstream::detail {

class ReceivedBlockQueue {
 public:
  // Called with each block before it counts as received, e.g. to append it to a write-ahead
  // log. If it throws, the block is not added and the exception propagates out of add().
  using BeforeAdd = std::function<void(Time batchTime, const LineBlock& block)>;

  explicit ReceivedBlockQueue(BeforeAdd beforeAdd = {});

  ReceivedBlockQueue(const ReceivedBlockQueue&) = delete;
  ReceivedBlockQueue& operator=(const ReceivedBlockQueue&) = delete;

  // Stores `block` for the batch at `batchTime`. A null block or one without lines is ignored
  // (the hook is not called for it).
  void add(Time batchTime, LineBlockPtr block);

  // Removes and returns, in arrival order, every block whose batch time is <= batchTime.
  // A block added after the batch at its time was taken is returned by the next call, so a
  // late block is never lost; it lands at most a batch late (as in Spark).
  std::vector<LineBlockPtr> takeUpTo(Time batchTime);

  // The number of lines in all blocks ever added (taken or not).
  std::int64_t receivedRecords() const;

  // The number of blocks currently stored.
  std::size_t pendingBlocks() const;
  // The bytes of the blocks currently stored (received, not yet taken by a batch).
  std::int64_t pendingBytes() const;

  // Blocks until the stored blocks hold fewer than `limit` bytes, or none is stored (nothing a
  // batch could take to make room), or `stop` is requested. Returns the pending bytes then.
  // Woken by takeUpTo(), not by polling.
  std::int64_t waitForRoom(std::int64_t limit, std::stop_token stop) const;

  // Blocks until receivedRecords() >= n or `timeout` passes (real time). Returns whether the
  // count was reached. Tests use it to know that data arrived before advancing a ManualClock.
  bool waitForReceivedRecords(std::int64_t n, Duration timeout) const;

 private:
  struct Entry {
    Time batchTime;
    LineBlockPtr block;
  };

  const BeforeAdd beforeAdd_;
  mutable std::mutex mu_;
  mutable std::condition_variable_any changed_;  // any: waitForRoom waits on a stop_token
  std::deque<Entry> blocks_;          // guarded by mu_; in arrival order
  std::int64_t receivedRecords_ = 0;  // guarded by mu_
  std::int64_t pendingBytes_ = 0;     // guarded by mu_; the bytes of blocks_
};

}  // namespace dstream::detail
