#include "sources/received_block_queue.h"

#include <utility>

namespace dstream::detail {

ReceivedBlockQueue::ReceivedBlockQueue(BeforeAdd beforeAdd) : beforeAdd_(std::move(beforeAdd)) {}

void ReceivedBlockQueue::add(Time batchTime, LineBlockPtr block) {
  if (!block || block->lines.empty()) return;
  // Outside the lock: a write-ahead log may do I/O here and must not stall takeUpTo().
  if (beforeAdd_) beforeAdd_(batchTime, *block);
  {
    std::lock_guard lock(mu_);
    receivedRecords_ += static_cast<std::int64_t>(block->lines.size());
    pendingBytes_ += static_cast<std::int64_t>(block->bytes.size());
    blocks_.push_back(Entry{batchTime, std::move(block)});
  }
  changed_.notify_all();
}

std::vector<LineBlockPtr> ReceivedBlockQueue::takeUpTo(Time batchTime) {
  std::vector<LineBlockPtr> taken;
  {
    std::lock_guard lock(mu_);
    std::deque<Entry> kept;
    for (auto& entry : blocks_) {
      if (entry.batchTime <= batchTime) {
        pendingBytes_ -= static_cast<std::int64_t>(entry.block->bytes.size());
        taken.push_back(std::move(entry.block));
      } else {
        kept.push_back(std::move(entry));
      }
    }
    blocks_ = std::move(kept);
  }
  if (!taken.empty()) changed_.notify_all();  // a receiver at its byte limit may read again
  return taken;
}

std::int64_t ReceivedBlockQueue::receivedRecords() const {
  std::lock_guard lock(mu_);
  return receivedRecords_;
}

std::size_t ReceivedBlockQueue::pendingBlocks() const {
  std::lock_guard lock(mu_);
  return blocks_.size();
}

std::int64_t ReceivedBlockQueue::pendingBytes() const {
  std::lock_guard lock(mu_);
  return pendingBytes_;
}

std::int64_t ReceivedBlockQueue::waitForRoom(std::int64_t limit, std::stop_token stop) const {
  std::unique_lock lock(mu_);
  changed_.wait(lock, stop, [&] { return pendingBytes_ < limit || blocks_.empty(); });
  return pendingBytes_;
}

bool ReceivedBlockQueue::waitForReceivedRecords(std::int64_t n, Duration timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return receivedRecords_ >= n; });
}

}  // namespace dstream::detail
