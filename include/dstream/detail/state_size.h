// How stateful nodes estimate the memory of their state (Node::stateSize), at the end of a
// batch and never per record: at most a sample of the entries is read, so the cost does not
// grow with the keys.
//
// Counted: a container's own memory for its capacity (a hash table's slots and control
// bytes, a vector's or a queue's elements), plus the heap memory that keys and states own:
// strings too long for their inline buffer, vectors, and pairs and optionals of those. That
// heap memory is measured on the first kStateSizeSample entries of each partition and
// extrapolated, as Spark's SizeEstimator samples large arrays. Not counted: allocator
// overhead, and memory behind any other type's pointers (a user struct's own buffers).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dstream::detail {

inline constexpr std::size_t kStateSizeSample = 16;

// HeapBytes<T>::of(x): the heap memory `x` owns beyond sizeof(T); kMayOwn: whether a T can
// own any (when not, no entry is sampled).
template <class T>
struct HeapBytes {
  static constexpr bool kMayOwn = false;
  static std::size_t of(const T&) { return 0; }
};

template <class T>
std::size_t heapBytes(const T& x) {
  return HeapBytes<std::remove_cv_t<T>>::of(x);
}

template <class T>
inline constexpr bool kMayOwnHeap = HeapBytes<std::remove_cv_t<T>>::kMayOwn;

// heap(x) summed over `range`'s first kStateSizeSample elements, scaled to its `size` elements.
template <class Range, class Heap>
std::size_t sampledHeapBytes(const Range& range, std::size_t size, Heap heap) {
  std::size_t seen = 0, bytes = 0;
  for (const auto& x : range) {
    if (seen == kStateSizeSample) break;
    bytes += heap(x);
    ++seen;
  }
  return seen == 0 ? 0 : bytes * size / seen;
}

template <>
struct HeapBytes<std::string> {
  static constexpr bool kMayOwn = true;
  static std::size_t of(const std::string& s) {
    // A short string lives in the object itself (the small-string buffer).
    const char* self = reinterpret_cast<const char*>(&s);
    if (s.data() >= self && s.data() < self + sizeof(s)) return 0;
    return s.capacity() + 1;
  }
};

template <class A>
struct HeapBytes<std::vector<A>> {
  static constexpr bool kMayOwn = true;
  static std::size_t of(const std::vector<A>& v) {
    std::size_t bytes = v.capacity() * sizeof(A);
    if constexpr (kMayOwnHeap<A>) bytes += sampledHeapBytes(v, v.size(), [](const A& a) { return heapBytes(a); });
    return bytes;
  }
};

template <class A, class B>
struct HeapBytes<std::pair<A, B>> {
  static constexpr bool kMayOwn = kMayOwnHeap<A> || kMayOwnHeap<B>;
  static std::size_t of(const std::pair<A, B>& p) { return heapBytes(p.first) + heapBytes(p.second); }
};

template <class A>
struct HeapBytes<std::optional<A>> {
  static constexpr bool kMayOwn = kMayOwnHeap<A>;
  static std::size_t of(const std::optional<A>& o) { return o ? heapBytes(*o) : 0; }
};

// A container of entries (a hash map, a vector, a deque): `slots` entries' worth of memory
// (its capacity, plus `perSlot` bytes of bookkeeping each), and the heap memory its `size`
// entries own, sampled.
template <class Container>
std::size_t containerBytes(const Container& c, std::size_t slots, std::size_t perSlot = 0) {
  using Entry = typename Container::value_type;
  std::size_t bytes = slots * (sizeof(Entry) + perSlot);
  if constexpr (kMayOwnHeap<Entry>) bytes += sampledHeapBytes(c, c.size(), [](const Entry& e) { return heapBytes(e); });
  return bytes;
}

// A hash map (absl's flat_hash_map, HashMap in shuffle.h): one slot and one control byte per
// unit of capacity.
template <class Map>
std::size_t hashMapBytes(const Map& m) {
  return containerBytes(m, m.capacity(), 1);
}

}  // namespace dstream::detail
