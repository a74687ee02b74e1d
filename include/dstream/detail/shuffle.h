// Hash shuffles: combineByKey with a map-side combine fused into the narrow pipeline that
// feeds it, and cogroup (the base of the joins). Keys go to partition partitionOf(key, n),
// which depends on the key's Hasher only, so the same key lands in the same partition in
// every batch and in every run.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dstream/detail/large_pages.h"
#include "dstream/detail/partitions.h"
#include "dstream/hash.h"

namespace dstream::detail {

// The engine's hash tables (map-side combines, state, windows). Their slot arrays come from
// LargePageAllocator: a table of millions of keys is probed at random, and with 4 KB pages
// each probe also misses the TLB.
template <class K, class V>
using HashMap = absl::flat_hash_map<K, V, Hasher<K>, KeyEqual<K>, LargePageAllocator<std::pair<const K, V>>>;

// The hash is mixed again before taking it modulo n: the per-partition hash maps take
// their 7-bit control bytes from the hash's low bits, and keys that all agree in the low
// bit (Hasher(key) % 2 == p) would make their probes match, and compare keys, twice as
// often. Mixing also spreads a user's weak Hasher (small integers) over the partitions.
//
// partitionOfHash takes the key's Hasher value, so that a record hashed once can be routed
// and then found in its partition's table (PrehashedMap) without hashing again. A power of
// two (1 included) takes the low bits: the same partition as the modulo, without a 64-bit
// division per record.
inline std::size_t partitionOfHash(std::uint64_t h, std::size_t numPartitions) {
  if ((numPartitions & (numPartitions - 1)) == 0) return static_cast<std::size_t>(mix64(h) & (numPartitions - 1));
  return static_cast<std::size_t>(mix64(h) % numPartitions);
}
template <class K>
std::size_t partitionOf(const K& key, std::size_t numPartitions) {
  return numPartitions == 1 ? 0 : partitionOfHash(static_cast<std::uint64_t>(Hasher<K>{}(key)), numPartitions);
}

// A key with its Hasher value. A PrehashedMap takes it wherever it takes a key (find,
// lazy_emplace) and uses the hash as given: for string keys, hashing is a good part of a
// lookup's cost, and routing has already paid it.
template <class K>
struct Prehashed {
  std::uint64_t hash;
  const K& key;
};
template <class K>
struct PrehashedHasher : Hasher<K> {
  using is_transparent = void;
  using Hasher<K>::operator();
  std::size_t operator()(const Prehashed<K>& p) const { return static_cast<std::size_t>(p.hash); }
};
template <class K>
struct PrehashedEqual : KeyEqual<K> {
  using is_transparent = void;
  using KeyEqual<K>::operator();
  bool operator()(const K& a, const Prehashed<K>& b) const { return KeyEqual<K>{}(a, b.key); }
  bool operator()(const Prehashed<K>& a, const K& b) const { return KeyEqual<K>{}(a.key, b); }
};
template <class K, class V>
using PrehashedMap =
    absl::flat_hash_map<K, V, PrehashedHasher<K>, PrehashedEqual<K>, LargePageAllocator<std::pair<const K, V>>>;

// Copies of the distinct string keys of a map-side table, packed together: a probe then
// compares against bytes close to each other, not against each key's first occurrence
// somewhere in a batch of tens of MB, and those cache misses are most of what a count with
// many distinct keys costs (2.9x at 100,000 distinct words). The output's keys point into
// it, so it joins the output RDD's owners. Not thread-safe: one map-side task fills it.
class PackedKeys {
 public:
  std::string_view keep(std::string_view key) {
    if (key.size() > room_) grow(key.size());
    char* at = next_;
    if (!key.empty()) std::memcpy(at, key.data(), key.size());
    next_ += key.size();
    room_ -= key.size();
    return {at, key.size()};
  }

 private:
  void grow(std::size_t atLeast) {
    chunkSize_ = std::min<std::size_t>(chunkSize_ * 2, std::size_t{1} << 20);
    const std::size_t size = std::max(atLeast, chunkSize_);
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
    next_ = chunks_.back().get();
    room_ = size;
  }
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t chunkSize_ = 2048;
  char* next_ = nullptr;
  std::size_t room_ = 0;
};

// A map-side table set past this many keys no longer fits in a core's L2 cache (1 MB here:
// 24-byte slots), and combineByKey prefetches its probes.
inline constexpr std::size_t kLargeTableKeys = 32768;

// What combineByKey makes: the output partitions, and the owners of the packed keys they
// point into (empty unless the keys are std::string_view).
template <class K, class C>
struct Combined {
  Partitions<std::pair<K, C>> partitions;
  Owners packedKeys;
};

// Spark's combineByKey over the output of `pipe` (which must emit std::pair<K, V>):
//   create(v) -> C, mergeValue(C, v) -> C, mergeCombiners(C, C) -> C.
//
// The map side combines what each task takes of the input into one table per output
// partition, so the reduce side starts from the largest table bound for its partition and
// merges the others into it: with many distinct keys per batch (where the map-side combine
// saves little) it inserts each key once more at most, instead of copying every key into
// buckets and building a fresh table of all of them.
//
// `sizeHint` (optional, per output partition) carries the largest map-side table of the
// previous batch to the next: a node that combines every batch keeps one, so its tables start
// at about the size they will reach instead of doubling from empty every batch (at 865,000
// distinct words a batch, growth and its page faults were a third of the map side).
template <class In, class Pipe, class Create, class MergeValue, class MergeCombiners>
auto combineByKey(ThreadPool* pool, const Partitions<In>& in, const Pipe& pipe, Create create,
                  MergeValue mergeValue, MergeCombiners mergeCombiners, std::size_t numOut,
                  std::vector<std::size_t>* sizeHint = nullptr) {
  using KV = PipeOut<Pipe, In>;
  using K = typename KV::first_type;
  using V = typename KV::second_type;
  using C = std::decay_t<std::invoke_result_t<Create&, const V&>>;
  using Table = PrehashedMap<K, C>;  // HashMap that also finds a Prehashed key
  constexpr bool kPackKeys = std::is_same_v<K, std::string_view>;
  if (numOut == 0) numOut = 1;

  // Map side: tables[w][o] holds what task w combined of the keys bound for output
  // partition o. The tasks take the input in slices (SliceQueue), so a faster worker combines
  // more of it; which values meet first then varies from run to run, which reduceByKey's f,
  // associative and commutative as Spark requires, does not see.
  SliceQueue slices(in, pool);
  // Deferring needs records that copy as bytes (a view's bytes stay in the input, alive
  // for the whole combine); "large" is the previous batch's tables past what L2 holds.
  constexpr bool kCanDefer = std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V> &&
                             std::is_default_constructible_v<K> && std::is_default_constructible_v<V>;
  constexpr std::size_t kDeferred = 16;
  std::size_t hinted = 0;
  if (sizeHint && sizeHint->size() == numOut) {
    for (std::size_t n : *sizeHint) hinted += n;
  }
  const bool largeTables = hinted >= kLargeTableKeys;
  std::vector<std::vector<Table>> tables(slices.workers());
  std::vector<std::shared_ptr<PackedKeys>> packed(kPackKeys ? slices.workers() : 0);
  forEachIndex(pool, slices.workers(), [&](std::size_t w) {
    Pipe p = pipe;  // a copy per task: stateful user callables never race
    std::vector<Table> mine(numOut);
    if (sizeHint && sizeHint->size() == numOut) {
      for (std::size_t o = 0; o < numOut; ++o) mine[o].reserve((*sizeHint)[o]);
    }
    PackedKeys* keys = nullptr;
    if constexpr (kPackKeys) keys = (packed[w] = std::make_shared<PackedKeys>()).get();
    // One hash lookup per record: lazy_emplace builds the combiner only for a new key.
    // `lookup` is the key, or the key with its hash (Prehashed) where that is already known.
    auto combine = [&](Table& combined, const auto& lookup, const K& key, const V& value) {
      bool inserted = false;
      auto it = combined.lazy_emplace(lookup, [&](const auto& construct) {
        inserted = true;
        if constexpr (kPackKeys) {
          construct(keys->keep(key), create(value));
        } else {
          construct(key, create(value));
        }
      });
      if (!inserted) it->second = mergeValue(std::move(it->second), value);
    };
    auto tableOf = [&](const K& key) -> Table& { return numOut == 1 ? mine[0] : mine[partitionOf(key, numOut)]; };
    auto run = [&](auto& sink) {
      while (const Slice* s = slices.next()) {
        const Partition<In>& part = *in[s->partition];
        for (std::size_t j = s->begin; j < s->end; ++j) p(part[j], sink);
      }
    };
    // Tables far larger than the cache: each probe is a miss. Prefetch the probe's slots and
    // combine the record kDeferred records later, so that several misses are in flight at
    // once; records are still combined in arrival order. Out of line: inlined, it made GCC
    // stop inlining the key's hash into the common path below (10 % slower at 10,000 keys).
    auto runDeferred = [&]() [[gnu::noinline]] {
      struct Pending {
        Table* table;
        std::uint64_t hash;
        K key;
        V value;
      };
      std::array<Pending, kDeferred> pending;
      std::size_t head = 0, count = 0;
      auto combinePending = [&](const Pending& d) { combine(*d.table, Prehashed<K>{d.hash, d.key}, d.key, d.value); };
      auto deferred = [&](auto&& kv) {
        const auto hash = static_cast<std::uint64_t>(Hasher<K>{}(kv.first));  // once: route, prefetch, find
        Table& t = mine[partitionOfHash(hash, numOut)];
        t.prefetch(Prehashed<K>{hash, kv.first});
        if (count < kDeferred) {
          pending[count++] = Pending{&t, hash, kv.first, kv.second};
          return;
        }
        combinePending(pending[head]);
        pending[head] = Pending{&t, hash, kv.first, kv.second};
        head = (head + 1) % kDeferred;
      };
      run(deferred);
      for (std::size_t i = 0; i < count; ++i) combinePending(pending[(head + i) % kDeferred]);
    };
    auto direct = [&](auto&& kv) { combine(tableOf(kv.first), kv.first, kv.first, kv.second); };
    if (kCanDefer && largeTables) {
      if constexpr (kCanDefer) runDeferred();
    } else {
      run(direct);
    }
    tables[w] = std::move(mine);
  });
  if (sizeHint) {
    sizeHint->assign(numOut, 0);
    for (const auto& mine : tables) {
      for (std::size_t o = 0; o < numOut; ++o) (*sizeHint)[o] = std::max((*sizeHint)[o], mine[o].size());
    }
  }

  // Reduce side: merge the tables bound for each output partition into the largest one.
  Combined<K, C> result{Partitions<std::pair<K, C>>(numOut), Owners(packed.begin(), packed.end())};
  auto& out = result.partitions;
  forEachIndex(pool, numOut, [&](std::size_t o) {
    std::size_t largest = 0;
    for (std::size_t i = 1; i < tables.size(); ++i) {
      if (tables[i][o].size() > tables[largest][o].size()) largest = i;
    }
    Table merged = tables.empty() ? Table{} : std::move(tables[largest][o]);
    for (std::size_t i = 0; i < tables.size(); ++i) {
      if (i == largest) continue;
      Table& from = tables[i][o];
      for (auto it = from.begin(); it != from.end();) {
        auto cur = it++;  // extract() invalidates only the extracted element's iterator
        if (auto found = merged.find(cur->first); found != merged.end()) {
          found->second = mergeCombiners(std::move(found->second), std::move(cur->second));
        } else {
          merged.insert(from.extract(cur));
        }
      }
      Table().swap(from);  // free it on this thread, now
    }
    auto part = std::make_shared<Partition<std::pair<K, C>>>();
    part->reserve(merged.size());
    for (auto& [k, c] : merged) part->emplace_back(k, std::move(c));
    out[o] = std::move(part);
  });
  return result;
}

// Sends every pair to partition partitionOf(key, numOut), keeping the order within a source.
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
