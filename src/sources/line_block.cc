#include "dstream/detail/line_block.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "sources/line_block_pool.h"

namespace dstream::detail {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// A buffer of at least n bytes, not initialised; *capacity receives its real size.
char* allocateBytes(std::size_t n, std::size_t* capacity) {
  if (n >= kHugePage) {
    std::size_t rounded = (n + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
    adviseHugePages(p, rounded);
    *capacity = rounded;
    return static_cast<char*>(p);
  }
  void* p = std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  *capacity = n;
  return static_cast<char*>(p);
}

}  // namespace

void adviseHugePages(void* p, std::size_t n) {
  auto begin = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t first = (begin + kHugePage - 1) / kHugePage * kHugePage;
  std::uintptr_t last = (begin + n) / kHugePage * kHugePage;
  // Only advice: a kernel without transparent huge pages refuses it, and that is fine.
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

BlockBytes::~BlockBytes() { std::free(data_); }

BlockBytes::BlockBytes(BlockBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

BlockBytes& BlockBytes::operator=(BlockBytes&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void BlockBytes::reserve(std::size_t n) {
  if (n <= capacity_) return;
  std::size_t capacity = 0;
  char* bigger = allocateBytes(n, &capacity);
  if (size_ > 0) std::memcpy(bigger, data_, size_);
  std::free(data_);
  data_ = bigger;
  capacity_ = capacity;
}

char* BlockBytes::appendForOverwrite(std::size_t n) {
  if (size_ + n > capacity_) reserve(std::max(size_ + n, capacity_ * 2));
  char* at = data_ + size_;
  size_ += n;
  return at;
}

void BlockBytes::append(std::string_view s) {
  if (s.empty()) return;
  std::memcpy(appendForOverwrite(s.size()), s.data(), s.size());
}

void LineBlock::reserveBytes(std::size_t n) {
  if (n <= bytes.capacity()) return;
  auto before = reinterpret_cast<std::uintptr_t>(bytes.data());
  bytes.reserve(n);
  const char* after = bytes.data();
  for (std::string_view& line : lines) {
    line = std::string_view(after + (reinterpret_cast<std::uintptr_t>(line.data()) - before),
                            line.size());
  }
}

// ---- the pool ----

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::size_t retainedSize(const LineBlock& b) {
  return b.bytes.capacity() + b.lines.capacity() * sizeof(std::string_view);
}

class LineBlockPool {
 public:
  std::shared_ptr<LineBlock> acquire(std::size_t bytes, std::size_t lines) {
    std::unique_ptr<LineBlock> block;
    std::vector<std::unique_ptr<LineBlock>> expired;
    {
      std::lock_guard lock(mu_);
      ++acquired_;
      SteadyTime now = std::chrono::steady_clock::now();
      expireLocked(now, expired);
      // The smallest free buffer that holds `bytes` and is not much larger.
      std::size_t best = free_.size();
      for (std::size_t i = 0; i < free_.size(); ++i) {
        std::size_t cap = free_[i].block->bytes.capacity();
        if (cap < bytes || cap > 2 * bytes + (std::size_t{1} << 20)) continue;
        if (best == free_.size() || cap < free_[best].block->bytes.capacity()) best = i;
      }
      if (best != free_.size()) {
        block = std::move(free_[best].block);
        retainedBytes_ -= retainedSize(*block);
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
        ++reused_;
      }
    }
    expired.clear();  // freed outside the lock
    if (!block) block = std::make_unique<LineBlock>();
    block->reserveBytes(bytes);
    if (lines > block->lines.capacity()) {
      block->lines.reserve(lines);
      adviseHugePages(block->lines.data(), block->lines.capacity() * sizeof(std::string_view));
    }
    return std::shared_ptr<LineBlock>(block.release(), [this](LineBlock* b) { release(b); });
  }

  void release(LineBlock* raw) {
    std::unique_ptr<LineBlock> block(raw);
    block->lines.clear();
    block->bytes.clear();
    std::size_t size = retainedSize(*block);
    if (size == 0 || size > kMaxRetainedBytes) return;
    std::vector<std::unique_ptr<LineBlock>> expired;
    {
      std::lock_guard lock(mu_);
      SteadyTime now = std::chrono::steady_clock::now();
      expireLocked(now, expired);
      free_.push_back(Free{std::move(block), now});
      retainedBytes_ += size;
      // Over the limits: the longest unused go first.
      while (retainedBytes_ > kMaxRetainedBytes || free_.size() > kMaxRetainedBlocks) {
        retainedBytes_ -= retainedSize(*free_.front().block);
        expired.push_back(std::move(free_.front().block));
        free_.erase(free_.begin());
      }
    }
  }

  LineBlockPoolStats stats() {
    std::lock_guard lock(mu_);
    return {acquired_, reused_, free_.size(), retainedBytes_};
  }

  void trim() {
    std::vector<Free> all;
    {
      std::lock_guard lock(mu_);
      all.swap(free_);
      retainedBytes_ = 0;
    }
  }

 private:
  struct Free {
    std::unique_ptr<LineBlock> block;
    SteadyTime since;
  };

  // Moves the blocks unused for kIdleSeconds (the oldest are first) to `out`.
  void expireLocked(SteadyTime now, std::vector<std::unique_ptr<LineBlock>>& out) {
    std::size_t n = 0;
    while (n < free_.size() && now - free_[n].since >= std::chrono::seconds(kIdleSeconds)) {
      retainedBytes_ -= retainedSize(*free_[n].block);
      out.push_back(std::move(free_[n].block));
      ++n;
    }
    free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  std::mutex mu_;
  std::vector<Free> free_;         // guarded by mu_; oldest first
  std::size_t retainedBytes_ = 0;  // guarded by mu_
  std::int64_t acquired_ = 0;      // guarded by mu_
  std::int64_t reused_ = 0;        // guarded by mu_
};

// Never destroyed: blocks may be released by static objects after main returns.
LineBlockPool& pool() {
  static auto* p = new LineBlockPool();
  return *p;
}

}  // namespace

std::shared_ptr<LineBlock> acquireLineBlock(std::size_t bytes, std::size_t lines) {
  return pool().acquire(bytes, lines);
}

LineBlockPoolStats lineBlockPoolStats() { return pool().stats(); }

void trimLineBlockPool() { pool().trim(); }

}  // namespace dstream::detail
