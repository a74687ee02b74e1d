// The nodes behind updateStateByKey (Spark's StateDStream) and mapWithState (Spark's
// MapWithStateDStream). Each keeps its keys' state in `numPartitions` hash maps, key k in
// map Hasher(k) % numPartitions, updated in parallel, one task per map; keys are kept as
// StoredKey<K>, so string_view keys survive the batches they came from.
//
// Thread-safety: the nodes belong to the batch thread; the user's function is copied per
// partition task, so one copy is never called from two threads at once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/node.h"
#include "dstream/detail/shared_partition.h"
#include "dstream/detail/shuffle.h"
#include "dstream/detail/state_checkpoint.h"
#include "dstream/detail/state_size.h"
#include "dstream/detail/window_nodes.h"
#include "dstream/error.h"
#include "dstream/hash.h"
#include "dstream/rdd.h"
#include "dstream/state.h"

namespace dstream::detail {

// Finds key `k` (a batch's key type) in a map keyed by StoredKey<K>, without building a
// std::string for string_view keys (the string hasher is transparent).
template <class Map, class K>
auto findStored(Map& m, const K& k) {
  using SK = typename Map::key_type;
  if constexpr (std::is_same_v<SK, K> || std::is_same_v<K, std::string_view>) {
    return m.find(k);
  } else {
    return m.find(SK(k));
  }
}

// Spreads initial states over the hash partitions.
template <class SK, class S, class Maps>
void loadInitial(std::vector<std::pair<SK, S>>& initial, Maps& maps) {
  for (auto& [k, s] : initial) {
    auto& m = maps[partitionOf(k, maps.size())];
    m.insert_or_assign(std::move(k), std::move(s));
  }
  initial.clear();
}

// The forms of updateStateByKey's function, as Spark's:
//   f(std::span<const V> newValues, std::optional<S> oldState) -> std::optional<S>
//   f(Time, const SK& key, std::span<const V>, std::optional<S>) -> std::optional<S>
//   f(std::vector<UpdateRow<SK, V, S>> rows) -> range of std::pair<SK, S>   (once per partition)
// where SK is the stored key type (std::string for std::string_view keys).
template <class SK, class V, class S>
using UpdateRow = std::tuple<SK, std::span<const V>, std::optional<S>>;
enum class UpdateForm { kPlain, kTimed, kPartition, kNone };
template <class F, class SK, class V, class S>
constexpr UpdateForm updateFormOf() {
  if constexpr (std::is_invocable_r_v<std::optional<S>, F&, std::span<const V>, std::optional<S>>) {
    return UpdateForm::kPlain;
  } else if constexpr (std::is_invocable_r_v<std::optional<S>, F&, Time, const SK&, std::span<const V>,
                                             std::optional<S>>) {
    return UpdateForm::kTimed;
  } else if constexpr (std::is_invocable_v<F&, std::vector<UpdateRow<SK, V, S>>>) {
    return UpdateForm::kPartition;
  } else {
    return UpdateForm::kNone;
  }
}

// One state partition's share of a batch, grouped by key for updateStateByKey without a
// container per key (Spark's groupByKey would build a vector per key; f only needs a span):
// each record gets its key's group from a hash index (key -> group number; the key's hash is
// computed once per record, by whoever routed it), then a counting pass lays every value out
// in one array, each key's values contiguous and in arrival order. The buffers are kept for
// the next batch; the index is allocated once per batch, at the size the last batch needed.
//
// Thread-safety: one per state partition, used by that partition's task only.
template <class K, class V>
class KeyGroups {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // Forgets the previous batch (its keys may view buffers the batch owned), keeping the
  // buffers' capacity.
  void clear() {
    keys_.clear();
    counts_.clear();
    begins_.clear();
    recordGroup_.clear();
    recordValue_.clear();
    if constexpr (!kScatter) values_.clear();
    index_.clear();
    index_.reserve(lastGroups_);  // sized for a batch like the last: no regrowth
  }

  // Adds a record whose key hashes (Hasher<K>) to h.
  template <class KK, class VV>
  void add(std::uint64_t h, KK&& k, VV&& v) {
    std::uint32_t g = groupOf(h, std::forward<KK>(k));
    recordGroup_.push_back(g);
    recordValue_.push_back(std::forward<VV>(v));
    ++counts_[g];
  }

  // The counting pass: after it, values(g) is key(g)'s values in the order they were added.
  void finish() {
    const std::size_t groups = keys_.size();
    const std::size_t records = recordGroup_.size();
    lastGroups_ = groups;
    // begins_[g] starts as the end of g's range; filling from the last record backwards
    // moves it to the start of the range and keeps each key's values in arrival order.
    begins_.resize(groups + 1);
    std::size_t end = 0;
    for (std::size_t g = 0; g < groups; ++g) begins_[g] = end += counts_[g];
    begins_[groups] = records;
    if constexpr (kScatter) {
      if (values_.size() < records) values_.resize(records);
      for (std::size_t i = records; i-- > 0;) values_[--begins_[recordGroup_[i]]] = recordValue_[i];
    } else {
      if (records >= kTooMany) throw Error(ErrorCode::kInternal, "updateStateByKey: over 4G records in one batch partition");
      order_.resize(records);
      for (std::size_t i = records; i-- > 0;) order_[--begins_[recordGroup_[i]]] = static_cast<std::uint32_t>(i);
      values_.reserve(records);
      for (std::uint32_t i : order_) values_.push_back(std::move(recordValue_[i]));
    }
  }

  std::size_t size() const { return keys_.size(); }
  K& key(std::size_t g) { return keys_[g]; }
  std::span<const V> values(std::size_t g) const {
    return std::span<const V>(values_.data() + begins_[g], begins_[g + 1] - begins_[g]);
  }

  // The group of key k, whose hash (Hasher<K>) is h; npos when the batch has no such key.
  std::size_t find(std::uint64_t h, const K& k) const {
    auto it = index_.find(Prehashed<K>{h, k});
    return it == index_.end() ? npos : it->second;
  }

 private:
  // Plain values are scattered straight into place; others are moved once, through an index.
  static constexpr bool kScatter = std::is_trivially_copyable_v<V> && std::is_default_constructible_v<V>;
  static constexpr std::uint32_t kTooMany = std::numeric_limits<std::uint32_t>::max();
  // absl's table (SIMD probes over a control byte per slot) finds a key in about 2/3 of the
  // time a plain linear-probing table of (hash tag, group) slots took: measured with 2 M
  // words of a 10 K vocabulary, 24 vs 34 ms per batch (bench/README.md, "updateStateByKey's
  // key index").
  template <class KK>
  std::uint32_t groupOf(std::uint64_t h, KK&& k) {
    bool fresh = false;
    auto it = index_.lazy_emplace(Prehashed<K>{h, k}, [&](const auto& construct) {
      fresh = true;
      construct(k, static_cast<std::uint32_t>(keys_.size()));
    });
    if (fresh) {
      if (keys_.size() >= kTooMany) throw Error(ErrorCode::kInternal, "updateStateByKey: over 4G keys in one batch partition");
      keys_.emplace_back(std::forward<KK>(k));
      counts_.push_back(0);
    }
    return it->second;
  }

  // A key with its hash, so that the index does not hash again what routing already hashed.
  PrehashedMap<K, std::uint32_t> index_;  // key -> group
  std::vector<K> keys_;                    // by group, in order of first arrival
  std::vector<std::size_t> counts_;        // by group: its records
  std::vector<std::size_t> begins_;        // by group, + 1: where its values start in values_
  std::vector<std::uint32_t> recordGroup_; // by record, in arrival order
  std::vector<V> recordValue_;             // by record, in arrival order
  std::vector<std::uint32_t> order_;       // the records in group order (non-scatter values)
  std::vector<V> values_;                  // grouped; for kScatter, at least the batch's size
  std::size_t lastGroups_ = 0;
};

// updateStateByKey(f): every batch, f(newValues, oldState) for every key that has a state
// or new values; nullopt removes the key. Cost per batch: the records, plus the number of
// keys with state. In the partition form f sees all of a partition's keys at once and
// returns the states to keep.
//
// Grouping: Spark defines updateStateByKey as groupByKey then f. The groupByKey node stays
// in the graph (it is this node's parent, so checkpoints of earlier versions, which match
// nodes by position and kind, still restore), but it is never computed: this node reads the
// groupByKey's own input (its source and fused pipe) and groups each state partition's
// records in a KeyGroups (one hash per record, no vector per key). A key's values are in
// arrival order: input partitions in order, records in order within each, as groupByKey's.
//
// The state of partition p is the vector of (key, state) pairs that the stream emits for p
// (a SharedPartition): the output shares it instead of copying it. The node forgets its own
// previous output before updating (it would drop it after this batch anyway), so the update
// runs in place unless someone downstream still holds an earlier output (a window, a saved
// RDD): then that partition is copied first and the holder keeps what it saw.
template <class In, class Pipe, class S, class F>
class UpdateStateNode final : public TypedNode<std::pair<StoredKey<typename PipeOut<Pipe, In>::first_type>, S>> {
 public:
  using K = typename PipeOut<Pipe, In>::first_type;
  using V = typename PipeOut<Pipe, In>::second_type;
  using SK = StoredKey<K>;
  using Out = std::pair<SK, S>;
  static constexpr UpdateForm kForm = updateFormOf<F, SK, V, S>();
  // `grouped` is the groupByKey of `source` through `pipe` (see above); `source` is its parent.
  UpdateStateNode(Graph* c, std::shared_ptr<Node> grouped, std::shared_ptr<TypedNode<In>> source, Pipe pipe, F f,
                  std::size_t numPartitions, std::vector<Out> initial)
      : TypedNode<Out>(c, "updateStateByKey", {grouped.get()}, grouped->slideDuration()), grouped_(std::move(grouped)),
        source_(std::move(source)), pipe_(std::move(pipe)), f_(std::move(f)), state_(numPartitions),
        groups_(numPartitions), initial_(std::move(initial)) {}

  // Checkpoint: every key's state; a restored stream does not load the initial RDD again.
  bool hasState() const override { return kCheckpointable; }
  std::string stateTypeWithoutSerializer() const override { return firstWithoutSerializer<SK, S>(); }
  void writeState(BinaryWriter& w) const override {
    if constexpr (kCheckpointable) {
      writeStateHeader(w, lastTime_);
      writePartitionedMaps(w, state_, [](BinaryWriter& out, const S& s) { out.write(s); });
    }
  }
  void readState(BinaryReader& r) override {
    if constexpr (kCheckpointable) {
      lastTime_ = readStateHeader(r, this->kind());
      std::vector<HashMap<SK, S>> maps(state_.size());
      readPartitionedMaps(r, maps, [](BinaryReader& in) { return in.read<S>(); });
      for (std::size_t p = 0; p < maps.size(); ++p) fill(state_[p], maps[p]);
      initial_.clear();
    }
  }

  // The keys of the (key, state) vectors and their capacity; the batch's grouping buffers are
  // scratch, not state.
  std::optional<StateSize> stateSize() const override {
    StateSize size;
    for (const auto& part : state_) {
      size.keys += static_cast<std::int64_t>(part.size());
      size.bytes += static_cast<std::int64_t>(containerBytes(part.read(), part.read().capacity()));
    }
    return size;
  }

 protected:
  std::optional<RDD<Out>> compute(Time t) override {
    if (!initial_.empty()) {
      std::vector<HashMap<SK, S>> maps(state_.size());
      for (std::size_t p = 0; p < state_.size(); ++p) {
        for (auto& kv : state_[p].read()) maps[p].insert_or_assign(kv.first, kv.second);
      }
      loadInitial(initial_, maps);
      for (std::size_t p = 0; p < maps.size(); ++p) fill(state_[p], maps[p]);
    }
    // Batches at or before t - rememberDuration() are dropped after this batch anyway; drop
    // them now, so that this node's previous output does not pin the state it shares.
    this->clearOldData(t);
    // A batch nobody asked for (a downstream window that skips slides) still updates state.
    if (lastTime_) {
      for (Time s = *lastTime_ + this->slide_; s < t; s += this->slide_) step(s);
    }
    return step(t);
  }

 private:
  // A record on its way to its state partition, with its key's hash (computed once).
  struct Routed {
    std::uint64_t hash;  // Hasher<K>: routing computes it, the state partition's index uses it
    K key;
    V value;
  };

  static std::uint64_t hashOf(const K& k) { return static_cast<std::uint64_t>(Hasher<K>{}(k)); }

  static void fill(SharedPartition<Out>& part, HashMap<SK, S>& m) {
    auto& entries = part.rewrite();
    entries.reserve(m.size());
    for (auto& kv : m) entries.emplace_back(kv.first, std::move(kv.second));
    m.clear();
  }

  // f for one key, in the plain or the timed form.
  std::optional<S> update(F& f, Time t, const SK& key, std::span<const V> vs, std::optional<S> old) {
    if constexpr (kForm == UpdateForm::kTimed) return f(t, key, vs, std::move(old));
    else return f(vs, std::move(old));
  }


  RDD<Out> step(Time t) {
    // `in` owns the buffers the batch's keys may view: it lives until the state is updated.
    auto in = source_->getOrCompute(t);
    const Partitions<In> none;
    const Partitions<In>& parts = in ? in->partitions() : none;
    const std::size_t n = state_.size();
    auto pool = this->graph().pool();
    route(pool.get(), parts);
    Partitions<Out> out(n);
    auto emit = [&](std::size_t p) { out[p] = state_[p].lend(); };
    if constexpr (kForm == UpdateForm::kPartition) {
      stepPartitions(parts, pool.get());
      forEachIndex(pool.get(), n, emit);
    } else {
      forEachIndex(pool.get(), n, [&](std::size_t p) {
        group(parts, p);
        stepKeys(t, p);
        groups_[p].clear();
        emit(p);
      });
    }
    lastTime_ = t;
    return makeRDD<Out>(std::move(out), Owners{}, std::move(pool));
  }

  // With several state partitions, the map side: the workers take the input in slices
  // (SliceQueue), put each record through the pipe once and into routed_[slice][partition].
  // Slices are numbered in input order, so group() still sees each key's values in order.
  void route(ThreadPool* pool, const Partitions<In>& parts) {
    const std::size_t n = state_.size();
    if (n == 1) return;
    SliceQueue slices(parts, pool);
    routed_.resize(slices.size());
    for (auto& r : routed_) r.resize(n);
    forEachIndex(pool, slices.workers(), [&](std::size_t) {
      Pipe pipe = pipe_;  // a copy per task: stateful user callables never race
      std::size_t index = 0;
      while (const Slice* s = slices.next(&index)) {
        auto& mine = routed_[index];
        for (auto& b : mine) b.clear();  // a failed batch may have left records behind
        auto sink = [&](auto&& kv) {
          const std::uint64_t h = hashOf(kv.first);
          mine[partitionOfHash(h, n)].push_back(
              Routed{h, std::forward<decltype(kv)>(kv).first, std::forward<decltype(kv)>(kv).second});
        };
        const Partition<In>& part = *parts[s->partition];
        for (std::size_t j = s->begin; j < s->end; ++j) pipe(part[j], sink);
      }
    });
  }

  // Fills groups_[p] with partition p's records of the batch: straight from the pipe when
  // there is one partition, else from what route() left for p (then forgets it).
  void group(const Partitions<In>& parts, std::size_t p) {
    KeyGroups<K, V>& g = groups_[p];
    g.clear();
    if (state_.size() == 1) {
      Pipe pipe = pipe_;
      auto sink = [&](auto&& kv) {
        const std::uint64_t h = hashOf(kv.first);
        g.add(h, std::forward<decltype(kv)>(kv).first, std::forward<decltype(kv)>(kv).second);
      };
      for (const auto& part : parts) {
        for (const In& x : *part) pipe(x, sink);
      }
    } else {
      for (auto& slice : routed_) {
        for (Routed& r : slice[p]) g.add(r.hash, std::move(r.key), std::move(r.value));
        slice[p].clear();  // keeps its capacity for the next batch
      }
    }
    g.finish();
  }

  // The key to look a stored key up with in the batch's groups.
  static decltype(auto) batchKey(const SK& k) {
    if constexpr (std::is_same_v<SK, K>) return (k);
    else return K(k);
  }

  // One pass over the partition's (key, state) vector, in place: f for every key (with its
  // new values, if any), removed keys compacted away; then the batch's new keys, appended in
  // order of first arrival.
  void stepKeys(Time t, std::size_t p) {
    KeyGroups<K, V>& g = groups_[p];
    if (g.size() == 0 && state_[p].size() == 0) return;
    F f = f_;
    std::vector<bool> seen(g.size());
    auto& entries = state_[p].write();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      auto& e = entries[i];
      std::span<const V> vs;
      if (g.size() != 0) {
        const K& k = batchKey(e.first);
        if (std::size_t at = g.find(hashOf(k), k); at != KeyGroups<K, V>::npos) {
          vs = g.values(at);
          seen[at] = true;
        }
      }
      if (std::optional<S> s = update(f, t, e.first, vs, std::optional<S>(std::move(e.second)))) {
        if (kept != i) entries[kept].first = std::move(e.first);
        entries[kept].second = std::move(*s);
        ++kept;
      }
    }
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(kept), entries.end());
    for (std::size_t at = 0; at < g.size(); ++at) {
      if (seen[at]) continue;
      if constexpr (kForm == UpdateForm::kTimed) {
        SK key(std::move(g.key(at)));
        if (std::optional<S> s = update(f, t, key, g.values(at), std::nullopt)) {
          entries.emplace_back(std::move(key), std::move(*s));
        }
      } else if (std::optional<S> s = f(g.values(at), std::optional<S>())) {
        entries.emplace_back(SK(std::move(g.key(at))), std::move(*s));
      }
    }
  }

  // The partition form: f gets every key of a partition (with its new values and old state)
  // and returns the states to keep; keys it leaves out are removed. A key it returns goes to
  // the partition it hashes to, so a function that changes keys keeps the state consistent.
  void stepPartitions(const Partitions<In>& parts, ThreadPool* pool) {
    const std::size_t n = state_.size();
    std::vector<std::vector<Out>> kept(n);
    forEachIndex(pool, n, [&](std::size_t p) {
      F f = f_;
      group(parts, p);
      KeyGroups<K, V>& g = groups_[p];
      HashMap<SK, S> m;  // the partition's states, moved out (fill() below replaces them)
      for (auto& kv : state_[p].write()) m.insert_or_assign(std::move(kv.first), std::move(kv.second));
      std::vector<UpdateRow<SK, V, S>> rows;
      rows.reserve(m.size() + g.size());
      for (std::size_t at = 0; at < g.size(); ++at) {
        auto it = findStored(m, g.key(at));
        if (it == m.end()) {
          rows.emplace_back(SK(g.key(at)), g.values(at), std::nullopt);
        } else {
          rows.emplace_back(it->first, g.values(at), std::move(it->second));
          m.erase(it);
        }
      }
      for (auto& [k, s] : m) rows.emplace_back(k, std::span<const V>(), std::move(s));
      for (auto&& kv : f(std::move(rows))) kept[p].emplace_back(std::forward<decltype(kv)>(kv));
      g.clear();
    });
    std::vector<HashMap<SK, S>> maps(n);
    for (auto& part : kept) {
      for (auto& [k, s] : part) maps[partitionOf(k, n)].insert_or_assign(std::move(k), std::move(s));
    }
    for (std::size_t p = 0; p < n; ++p) fill(state_[p], maps[p]);
  }

  std::shared_ptr<Node> grouped_;  // in the graph for checkpoint compatibility; never computed
  std::shared_ptr<TypedNode<In>> source_;
  Pipe pipe_;
  F f_;
  std::vector<SharedPartition<Out>> state_;
  std::vector<KeyGroups<K, V>> groups_;               // per state partition, reused every batch
  std::vector<std::vector<std::vector<Routed>>> routed_;  // [slice][state partition], reused
  std::vector<Out> initial_;  // loaded into state_ by the first batch
  std::optional<Time> lastTime_;
  static constexpr bool kCheckpointable = Serializable<SK> && Serializable<S>;
};

// Where stateSnapshots() reads the state after a batch.
template <class SK, class S>
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual RDD<std::pair<SK, S>> snapshot() const = 0;
};

// A mapWithState key's state and the last batch that gave the key data (for the idle timeout).
template <class S>
struct TimedState {
  S value;
  Time updated;
};
template <class S>
struct HeapBytes<TimedState<S>> {
  static constexpr bool kMayOwn = kMayOwnHeap<S>;
  static std::size_t of(const TimedState<S>& e) { return heapBytes(e.value); }
};

// What a mapping function emits: M for f(const SK&, std::optional<V>, State<S>&) -> M, or
// Spark's timed form f(Time, const SK&, std::optional<V>, State<S>&) -> std::optional<M>.
template <class K, class V, class S, class F>
struct MappedOf {
  using SK = StoredKey<K>;
  static constexpr bool kTimed = std::is_invocable_v<F&, Time, const SK&, std::optional<V>, State<S>&>;
  static constexpr bool kPlain = std::is_invocable_v<F&, const SK&, std::optional<V>, State<S>&>;
  static_assert(kTimed || kPlain,
                "dstream: mapWithState: the function must be callable as f(const K& key, std::optional<V> value, "
                "dstream::State<S>& state) -> M, or f(Time, const K&, std::optional<V>, State<S>&) -> std::optional<M>, "
                "where K is the stream's key type (std::string for std::string_view keys)");
  template <bool kT, class = void>
  struct Result { using type = std::decay_t<std::invoke_result_t<F&, const SK&, std::optional<V>, State<S>&>>; };
  template <class Void>
  struct Result<true, Void> {
    using type = typename std::decay_t<std::invoke_result_t<F&, Time, const SK&, std::optional<V>, State<S>&>>::value_type;
  };
  using type = typename Result<kTimed || !kPlain>::type;
};

// mapWithState(spec): f runs once per record, in order within a partition, with its key's
// State<S>; then keys idle for longer than the timeout get a last call (value nullopt,
// isTimingOut()) and are removed. Emits what f returns, data records first, then timeouts.
//
// Timeouts without a scan: each partition keeps a queue of (time, key), appended when a key
// receives data, so it is in time order. A batch at t pops entries older than t - timeout;
// an entry is stale (skipped) when its key was refreshed or removed since. Cost per batch:
// the records, plus the entries that age out (at most one per key refresh).
template <class K, class V, class S, class F>
class MapWithStateNode final : public TypedNode<typename MappedOf<K, V, S, F>::type>,
                               public SnapshotSource<StoredKey<K>, S> {
 public:
  using SK = StoredKey<K>;
  using M = typename MappedOf<K, V, S, F>::type;
  using KV = std::pair<K, V>;
  MapWithStateNode(Graph* c, std::shared_ptr<TypedNode<KV>> parent, F f, std::size_t numPartitions,
                   std::optional<Duration> timeout, std::vector<std::pair<SK, S>> initial)
      : TypedNode<M>(c, "mapWithState", {parent.get()}, parent->slideDuration()), parent_(std::move(parent)),
        f_(std::move(f)), timeout_(timeout), state_(numPartitions), timers_(numPartitions) {
    for (auto& [k, s] : initial) initial_.emplace_back(std::move(k), Entry{std::move(s), Time{}});
  }

  // Checkpoint: every key's state and last data time; the timeout queues are rebuilt from
  // those times. A restored stream does not load the initial RDD again.
  bool hasState() const override { return kCheckpointable; }
  std::string stateTypeWithoutSerializer() const override { return firstWithoutSerializer<SK, S>(); }
  void writeState(BinaryWriter& w) const override {
    if constexpr (kCheckpointable) {
      writeStateHeader(w, lastTime_);
      writePartitionedMaps(w, state_, [](BinaryWriter& out, const Entry& e) {
        out.write(e.value);
        out.write(e.updated);
      });
    }
  }
  void readState(BinaryReader& r) override {
    if constexpr (kCheckpointable) {
      lastTime_ = readStateHeader(r, this->kind());
      readPartitionedMaps(r, state_, [](BinaryReader& in) {
        S value = in.read<S>();
        return Entry{std::move(value), in.read<Time>()};
      });
      initial_.clear();
      for (std::size_t p = 0; p < state_.size(); ++p) {
        timers_[p].clear();
        if (!timeout_) continue;
        std::vector<std::pair<Time, SK>> byTime;
        for (const auto& [k, e] : state_[p]) byTime.emplace_back(e.updated, k);
        std::sort(byTime.begin(), byTime.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        timers_[p].assign(byTime.begin(), byTime.end());
      }
    }
  }

  // The keys' hash maps and the timeout queues (stale entries included: they hold memory).
  std::optional<StateSize> stateSize() const override {
    StateSize size;
    for (std::size_t p = 0; p < state_.size(); ++p) {
      size.keys += static_cast<std::int64_t>(state_[p].size());
      size.bytes += static_cast<std::int64_t>(hashMapBytes(state_[p]) + containerBytes(timers_[p], timers_[p].size()));
    }
    return size;
  }

  // The state of every key after the latest batch computed (stateSnapshots()).
  RDD<std::pair<SK, S>> snapshot() const override {
    Partitions<std::pair<SK, S>> out;
    for (const auto& m : state_) {
      auto part = std::make_shared<Partition<std::pair<SK, S>>>();
      part->reserve(m.size());
      for (const auto& [k, e] : m) part->emplace_back(k, e.value);
      out.push_back(std::move(part));
    }
    return makeRDD<std::pair<SK, S>>(std::move(out), Owners{}, this->graph().pool());
  }

 protected:
  std::optional<RDD<M>> compute(Time t) override {
    if (!initial_.empty()) {
      for (auto& kv : initial_) kv.second.updated = t;  // Spark: initial states date from the first batch
      loadInitial(initial_, state_);
      for (std::size_t p = 0; p < state_.size(); ++p) {
        if (timeout_) for (const auto& [k, e] : state_[p]) timers_[p].emplace_back(t, k);
      }
    }
    if (lastTime_) {
      for (Time s = *lastTime_ + this->slide_; s < t; s += this->slide_) step(s);
    }
    return step(t);
  }

 private:
  using Entry = TimedState<S>;

  // f's result for one call, as 0 or 1 element.
  template <class... A>
  void call(F& f, std::vector<M>& mapped, A&&... args) {
    if constexpr (MappedOf<K, V, S, F>::kTimed) {
      if (auto r = f(std::forward<A>(args)...)) mapped.push_back(std::move(*r));
    } else {
      mapped.push_back(f(std::forward<A>(args)...));
    }
  }

  RDD<M> step(Time t) {
    auto in = parent_->getOrCompute(t);
    const std::size_t n = state_.size();
    auto pool = this->graph().pool();
    auto buckets = hashPartition(pool.get(), in ? in->partitions() : Partitions<KV>{}, n);
    Partitions<M> out(n);
    forEachIndex(pool.get(), n, [&](std::size_t p) {
      F f = f_;
      auto& m = state_[p];
      auto& timers = timers_[p];
      std::vector<M> mapped;
      auto invoke = [&](const SK& key, std::optional<V> value, State<S>& st) {
        if constexpr (MappedOf<K, V, S, F>::kTimed) call(f, mapped, t, key, std::move(value), st);
        else call(f, mapped, key, std::move(value), st);
      };
      for (auto& source : buckets) {
        for (auto& [k, v] : source[p]) {
          auto it = findStored(m, k);
          bool had = it != m.end();
          State<S> st(had ? std::optional<S>(std::move(it->second.value)) : std::nullopt, false);
          std::optional<SK> fresh;
          if (!had) fresh.emplace(k);
          invoke(had ? it->first : *fresh, std::optional<V>(std::move(v)), st);
          if (!st.exists()) {
            if (had) m.erase(it);
            continue;
          }
          if (!had) it = m.emplace(std::move(*fresh), Entry{std::move(*st.value()), Time{}}).first;
          else it->second.value = std::move(*st.value());
          if (timeout_ && it->second.updated != t) timers.emplace_back(t, it->first);
          it->second.updated = t;
        }
      }
      if (timeout_) {
        const Time threshold = t - *timeout_;
        while (!timers.empty() && timers.front().first < threshold) {
          auto [when, key] = std::move(timers.front());
          timers.pop_front();
          auto it = m.find(key);
          if (it == m.end() || it->second.updated != when) continue;  // refreshed or removed since
          State<S> st(std::optional<S>(std::move(it->second.value)), true);
          invoke(key, std::nullopt, st);
          m.erase(it);
        }
      }
      out[p] = std::make_shared<Partition<M>>(std::move(mapped));
    });
    lastTime_ = t;
    return makeRDD<M>(std::move(out), Owners{}, std::move(pool));
  }

  std::shared_ptr<TypedNode<KV>> parent_;
  F f_;
  std::optional<Duration> timeout_;
  std::vector<HashMap<SK, Entry>> state_;
  std::vector<std::deque<std::pair<Time, SK>>> timers_;  // per partition, in time order
  std::vector<std::pair<SK, Entry>> initial_;            // loaded by the first batch
  std::optional<Time> lastTime_;
  static constexpr bool kCheckpointable = Serializable<SK> && Serializable<S>;
};

}  // namespace dstream::detail
