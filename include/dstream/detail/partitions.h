// The storage behind an RDD: a list of immutable partitions shared by pointer, so that
// union, window and cache share data instead of copying it, plus the buffers that
// std::string_view elements point into (their "owners").
#pragma once

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

// Counts what `pipe` emits, without storing it.
template <class In, class Pipe>
long countPipe(ThreadPool* pool, const Partitions<In>& in, const Pipe& pipe) {
  std::vector<long> counts(in.size(), 0);
  forEachIndex(pool, in.size(), [&](std::size_t i) {
    if constexpr (std::is_same_v<Pipe, IdentityStage>) {
      counts[i] = static_cast<long>(in[i]->size());
    } else {
      Pipe p = pipe;
      long n = 0;
      auto sink = [&](auto&&) { ++n; };
      for (const In& x : *in[i]) p(x, sink);
      counts[i] = n;
    }
  });
  long total = 0;
  for (long c : counts) total += c;
  return total;
}

}  // namespace dstream::detail
