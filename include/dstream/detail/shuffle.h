// Hash shuffles: combineByKey with a map-side combine fused into the narrow pipeline that
// feeds it, and cogroup (the base of the joins). Keys go to partition Hasher(key) % n, so
// the same key lands in the same partition in every batch and in every run.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dstream/detail/partitions.h"
#include "dstream/hash.h"

namespace dstream::detail {

template <class K, class V>
using HashMap = absl::flat_hash_map<K, V, Hasher<K>, KeyEqual<K>>;

template <class K>
std::size_t partitionOf(const K& key, std::size_t numPartitions) {
  return numPartitions == 1 ? 0 : Hasher<K>{}(key) % numPartitions;
}

// Spark's combineByKey over the output of `pipe` (which must emit std::pair<K, V>):
//   create(v) -> C, mergeValue(C, v) -> C, mergeCombiners(C, C) -> C.
template <class In, class Pipe, class Create, class MergeValue, class MergeCombiners>
auto combineByKey(ThreadPool* pool, const Partitions<In>& in, const Pipe& pipe, Create create,
                  MergeValue mergeValue, MergeCombiners mergeCombiners, std::size_t numOut) {
  using KV = PipeOut<Pipe, In>;
  using K = typename KV::first_type;
  using V = typename KV::second_type;
  using C = std::decay_t<std::invoke_result_t<Create&, const V&>>;
  using Bucket = std::vector<std::pair<K, C>>;
  if (numOut == 0) numOut = 1;

  // Map side: combine within each input partition, then bucket by destination.
  std::vector<std::vector<Bucket>> buckets(in.size(), std::vector<Bucket>(numOut));
  forEachIndex(pool, in.size(), [&](std::size_t i) {
    Pipe p = pipe;
    HashMap<K, C> combined;
    // One hash lookup per record: lazy_emplace builds the combiner only for a new key.
    auto sink = [&](auto&& kv) {
      bool inserted = false;
      auto it = combined.lazy_emplace(kv.first, [&](const auto& construct) {
        inserted = true;
        construct(kv.first, create(std::as_const(kv.second)));
      });
      if (!inserted) it->second = mergeValue(std::move(it->second), std::as_const(kv.second));
    };
    for (const In& x : *in[i]) p(x, sink);
    auto& mine = buckets[i];
    if (numOut == 1) mine[0].reserve(combined.size());
    for (auto& [k, c] : combined) mine[partitionOf(k, numOut)].emplace_back(k, std::move(c));
  });

  // Reduce side: merge the buckets bound for each output partition.
  Partitions<std::pair<K, C>> out(numOut);
  forEachIndex(pool, numOut, [&](std::size_t o) {
    if (buckets.size() == 1) {
      out[o] = std::make_shared<Bucket>(std::move(buckets[0][o]));
      return;
    }
    std::size_t total = 0;
    for (auto& b : buckets) total += b[o].size();
    HashMap<K, C> merged;
    merged.reserve(total);
    for (auto& b : buckets) {
      for (auto& [k, c] : b[o]) {
        auto it = merged.find(k);
        if (it == merged.end()) {
          merged.emplace(std::move(k), std::move(c));
        } else {
          it->second = mergeCombiners(std::move(it->second), std::move(c));
        }
      }
    }
    auto result = std::make_shared<Bucket>();
    result->reserve(merged.size());
    for (auto& kv : merged) result->emplace_back(std::move(kv.first), std::move(kv.second));
    out[o] = std::move(result);
  });
  return out;
}

// Sends every pair to partition Hasher(key) % numOut, keeping the order within a source.
template <class K, class V>
std::vector<std::vector<std::vector<std::pair<K, V>>>> hashPartition(
    ThreadPool* pool, const Partitions<std::pair<K, V>>& in, std::size_t numOut) {
  std::vector<std::vector<std::vector<std::pair<K, V>>>> buckets(
      in.size(), std::vector<std::vector<std::pair<K, V>>>(numOut));
  forEachIndex(pool, in.size(), [&](std::size_t i) {
    for (const auto& kv : *in[i]) buckets[i][partitionOf(kv.first, numOut)].push_back(kv);
  });
  return buckets;
}

// cogroup: for every key in either input, all its values from each side.
template <class K, class V, class W>
Partitions<std::pair<K, std::pair<std::vector<V>, std::vector<W>>>> cogroup(
    ThreadPool* pool, const Partitions<std::pair<K, V>>& left,
    const Partitions<std::pair<K, W>>& right, std::size_t numOut) {
  using Groups = std::pair<std::vector<V>, std::vector<W>>;
  if (numOut == 0) numOut = 1;
  auto l = hashPartition(pool, left, numOut);
  auto r = hashPartition(pool, right, numOut);
  Partitions<std::pair<K, Groups>> out(numOut);
  forEachIndex(pool, numOut, [&](std::size_t o) {
    HashMap<K, Groups> groups;
    std::vector<K> order;  // first-seen order keeps the output deterministic
    for (auto& src : l) {
      for (auto& [k, v] : src[o]) {
        auto [it, inserted] = groups.try_emplace(k);
        if (inserted) order.push_back(k);
        it->second.first.push_back(std::move(v));
      }
    }
    for (auto& src : r) {
      for (auto& [k, w] : src[o]) {
        auto [it, inserted] = groups.try_emplace(k);
        if (inserted) order.push_back(k);
        it->second.second.push_back(std::move(w));
      }
    }
    auto result = std::make_shared<Partition<std::pair<K, Groups>>>();
    result->reserve(order.size());
    for (auto& k : order) {
      auto node = groups.extract(k);
      result->emplace_back(std::move(node.key()), std::move(node.mapped()));
    }
    out[o] = std::move(result);
  });
  return out;
}

}  // namespace dstream::detail
