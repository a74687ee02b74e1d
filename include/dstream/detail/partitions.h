// The storage behind an RDD: a list of immutable partitions shared by pointer, so that
// union, window and cache share data instead of copying it, plus the buffers that
// std::string_view elements point into (their "owners").
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/pipeline.h"
#include "dstream/detail/thread_pool.h"

namespace dstream::detail {

template <class T>
using Partition = std::vector<T>;
template <class T>
using PartitionPtr = std::shared_ptr<const Partition<T>>;
template <class T>
using Partitions = std::vector<PartitionPtr<T>>;

// Keeps alive the buffers that views in a batch point into.
using Owners = std::vector<std::shared_ptr<const void>>;

inline void appendOwners(Owners& to, const Owners& from) { to.insert(to.end(), from.begin(), from.end()); }

// Runs fn(i) for every i in [0, n), in parallel when a pool is given.
inline void forEachIndex(ThreadPool* pool, std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (pool) {
    pool->parallelFor(n, fn);
  } else {
    for (std::size_t i = 0; i < n; ++i) fn(i);
  }
}

// A run of consecutive elements of one input partition: the unit of work a map-side task
// claims. Slices never cross partitions and keep the partitions' order.
struct Slice {
  std::size_t partition = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// A batch's partitions cut into slices that the workers take in order, one at a time. With a
// fixed share per worker, a batch waits for the slowest one, and two workers are rarely
// equally fast (the machine's other load, which core, which thread's memory); with slices, a
// worker that runs faster takes more of them. Thread-safe: next() may be called from any
// worker of the pool.
class SliceQueue {
 public:
  // Several slices per worker so the faster one can take more, none so small that claiming
  // one costs anything next to running it. With one worker: one slice per partition.
  static constexpr std::size_t kSlicesPerWorker = 8;
  static constexpr std::size_t kMinSlice = 2048;

  template <class T>
  SliceQueue(const Partitions<T>& in, ThreadPool* pool) : workers_(pool ? static_cast<std::size_t>(pool->workers()) : 1) {
    std::size_t total = 0;
    for (const auto& part : in) total += part->size();
    const std::size_t target =
        workers_ == 1 ? total : std::max(kMinSlice, total / (workers_ * kSlicesPerWorker) + 1);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::size_t size = in[i]->size();
      for (std::size_t at = 0; at < size; at += target) {
        slices_.push_back(Slice{i, at, std::min(size, at + target)});
      }
    }
    workers_ = std::min(workers_, slices_.size());
  }
  SliceQueue(const SliceQueue&) = delete;
  SliceQueue& operator=(const SliceQueue&) = delete;

  // How many tasks to start: one per worker, never more than there are slices.
  std::size_t workers() const { return workers_; }
  std::size_t size() const { return slices_.size(); }
  // The next slice nobody has taken, with its index (slices are numbered in input order), or
  // nullptr when all are taken.
  const Slice* next(std::size_t* index = nullptr) {
    const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= slices_.size()) return nullptr;
    if (index) *index = i;
    return &slices_[i];
  }

 private:
  std::size_t workers_;
  std::vector<Slice> slices_;
  std::atomic<std::size_t> next_{0};
};

template <class T>
concept PairLike = requires { typename T::first_type; typename T::second_type; } &&
                   std::is_same_v<T, std::pair<typename T::first_type, typename T::second_type>>;

// Runs `pipe` over every element of every partition: one output partition per input.
template <class In, class Pipe>
Partitions<PipeOut<Pipe, In>> runPipe(ThreadPool* pool, const Partitions<In>& in, const Pipe& pipe) {
  using Out = PipeOut<Pipe, In>;
  Partitions<Out> out(in.size());
  forEachIndex(pool, in.size(), [&](std::size_t i) {
    Pipe p = pipe;  // a copy per partition: stateful user callables never race
    auto result = std::make_shared<Partition<Out>>();
    if constexpr (!std::is_same_v<Pipe, IdentityStage>) result->reserve(in[i]->size());
    auto sink = [&](auto&& y) { result->push_back(std::forward<decltype(y)>(y)); };
    for (const In& x : *in[i]) p(x, sink);
    out[i] = std::move(result);
  });
  return out;
}

// Counts what `pipe` emits, without storing it. Workers take slices (SliceQueue): the
// total does not depend on who counted what.
template <class In, class Pipe>
long countPipe(ThreadPool* pool, const Partitions<In>& in, const Pipe& pipe) {
  if constexpr (std::is_same_v<Pipe, IdentityStage>) {
    long total = 0;
    for (const auto& part : in) total += static_cast<long>(part->size());
    return total;
  } else {
    SliceQueue slices(in, pool);
    std::vector<long> counts(slices.workers(), 0);
    forEachIndex(pool, slices.workers(), [&](std::size_t w) {
      Pipe p = pipe;  // a copy per task: stateful user callables never race
      long n = 0;
      auto sink = [&](auto&&) { ++n; };
      while (const Slice* s = slices.next()) {
        const Partition<In>& part = *in[s->partition];
        for (std::size_t j = s->begin; j < s->end; ++j) p(part[j], sink);
      }
      counts[w] = n;
    });
    long total = 0;
    for (long c : counts) total += c;
    return total;
  }
}

}  // namespace dstream::detail
