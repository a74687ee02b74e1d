// An allocator for large, randomly probed arrays (the slot arrays of the engine's hash tables):
// arrays of 4 MB or more are mapped on their own, 2 MB-aligned and marked for transparent huge
// pages, so a probe into a table of millions of slots does not miss the TLB as well as the
// cache, and its pages are faulted in 2 MB at a time. They are unmapped when freed: taken from
// malloc instead, the freed arrays of every batch stayed in malloc's arenas and the resident
// size grew run after run (1.5 GB against 0.3 GB for WordCount at 1 M keys). Smaller arrays
// use operator new as usual.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace dstream::detail {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
inline constexpr std::size_t kLargeArrayBytes = std::size_t{4} << 20;

// `bytes` rounded up to whole huge pages.
inline constexpr std::size_t roundUpToHugePages(std::size_t bytes) {
  return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}

// Bytes mapped by LargePageAllocator and not yet unmapped, in this process: malloc's own
// statistics (mallinfo2) do not see them, so memory figures add this.
inline std::atomic<std::size_t>& largeArrayBytes() {
  static std::atomic<std::size_t> bytes{0};
  return bytes;
}

inline void* mapLargeArray(std::size_t bytes) {
  // Map one huge page more than needed, then unmap the unaligned head and the tail.
  const std::size_t length = roundUpToHugePages(bytes);
  void* mapped = ::mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto begin = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = roundUpToHugePages(begin);
  if (aligned > begin) ::munmap(mapped, aligned - begin);
  if (const std::size_t tail = begin + length + kHugePageBytes - (aligned + length); tail > 0) {
    ::munmap(reinterpret_cast<void*>(aligned + length), tail);
  }
  ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);  // advice only: works without
  largeArrayBytes().fetch_add(length, std::memory_order_relaxed);
  return reinterpret_cast<void*>(aligned);
}

inline void unmapLargeArray(void* p, std::size_t bytes) noexcept {
  const std::size_t length = roundUpToHugePages(bytes);
  ::munmap(p, length);
  largeArrayBytes().fetch_sub(length, std::memory_order_relaxed);
}

template <class T>
struct LargePageAllocator {
  using value_type = T;

  LargePageAllocator() = default;
  template <class U>
  LargePageAllocator(const LargePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kLargeArrayBytes) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    return static_cast<T*>(mapLargeArray(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kLargeArrayBytes) {
      ::operator delete(p, std::align_val_t{alignof(T)});
    } else {
      unmapLargeArray(p, n * sizeof(T));
    }
  }
  template <class U>
  bool operator==(const LargePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace dstream::detail
