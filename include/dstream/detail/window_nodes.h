// The nodes behind the keyed window operations (stream.h, "Windowed and stateful
// operations"): DetachedNode makes a per-batch reduced batch safe to keep for a whole
// window, and ReducedWindowNode is reduceByKeyAndWindow with an inverse function (Spark's
// ReducedWindowedDStream), which updates the previous window's result instead of reducing
// the whole window again; PaneWindowNode is the same operation without an inverse function
// (Spark's definition, computed with suffix results instead of re-reducing the window).
//
// Thread-safety: as every node, these belong to the batch thread; inside compute() the
// partitions of the window's result are updated in parallel, one task per partition.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/node.h"
#include "dstream/detail/shuffle.h"
#include "dstream/detail/state_checkpoint.h"
#include "dstream/detail/state_size.h"
#include "dstream/rdd.h"
#include "dstream/state.h"

namespace dstream::detail {

// The filterFunc used when none is given: keeps every key.
struct KeepAll {
  template <class X>
  bool operator()(const X&) const { return true; }
};

// True for value types that cannot point into a batch's buffers, so a batch of them can
// drop the buffers' owners. Anything else keeps them (safe, but holds the buffers).
template <class V>
struct OwnsItsData : std::bool_constant<std::is_arithmetic_v<V> || std::is_enum_v<V>> {};
template <>
struct OwnsItsData<std::string> : std::true_type {};
template <class A, class B>
struct OwnsItsData<std::pair<A, B>> : std::bool_constant<OwnsItsData<A>::value && OwnsItsData<B>::value> {};
template <class A>
struct OwnsItsData<std::vector<A>> : OwnsItsData<A> {};
template <class A>
struct OwnsItsData<std::optional<A>> : OwnsItsData<A> {};

// A reduced batch with its keys as StoredKey<K> and, when the values allow it, without the
// owners of the source's buffers. It does not ask its parent to remember anything beyond
// its own batch: windows over it keep these compact batches, not the raw input. For that,
// the engine computes it every batch (computesEveryBatch).
template <class K, class V>
class DetachedNode final : public TypedNode<std::pair<StoredKey<K>, V>> {
 public:
  using Out = std::pair<StoredKey<K>, V>;
  DetachedNode(Graph* c, std::shared_ptr<TypedNode<std::pair<K, V>>> parent)
      : TypedNode<Out>(c, "detach", {parent.get()}, parent->slideDuration()), parent_(std::move(parent)) {}

  void rememberAtLeast(Duration d) override { this->remember_ = std::max(this->remember_, d); }
  // Its parent forgets each batch at once, so every batch must be detached as it happens:
  // a window that slides slower than the batch reads batches no output asked for.
  bool computesEveryBatch() const override { return true; }

 protected:
  std::optional<RDD<Out>> compute(Time t) override {
    auto in = parent_->getOrCompute(t);
    if (!in) return std::nullopt;
    Owners owners = OwnsItsData<V>::value ? Owners{} : in->owners();
    if constexpr (std::is_same_v<StoredKey<K>, K>) {
      return makeRDD<Out>(in->partitions(), std::move(owners), in->pool());
    } else {
      Partitions<Out> out(in->numPartitions());
      forEachIndex(in->pool().get(), out.size(), [&](std::size_t i) {
        auto part = std::make_shared<Partition<Out>>();
        part->reserve(in->partition(i).size());
        for (const auto& [k, v] : in->partition(i)) part->emplace_back(StoredKey<K>(k), v);
        out[i] = std::move(part);
      });
      return makeRDD<Out>(std::move(out), std::move(owners), in->pool());
    }
  }

 private:
  std::shared_ptr<TypedNode<std::pair<K, V>>> parent_;
};

// Calls fn(key, value) for the pairs of `rdd` that belong in hash partition p of n. A
// reduced batch made with n partitions has exactly those in its partition p.
template <class K, class V, class Fn>
void forEachInPartition(const RDD<std::pair<K, V>>& rdd, std::size_t p, std::size_t n, Fn&& fn) {
  if (rdd.numPartitions() == n) {
    for (const auto& [k, v] : rdd.partition(p)) fn(k, v);
    return;
  }
  for (std::size_t q = 0; q < rdd.numPartitions(); ++q) {
    for (const auto& [k, v] : rdd.partition(q)) {
      if (partitionOf(k, n) == p) fn(k, v);
    }
  }
}

// reduceByKeyAndWindow(f, invF, W, S): the window at t, from the window at t - S.
//
//   reduced batches:   | o1 | o2 | x  | x  | x  | n1 | n2 |
//   window at t - S:   [ o1   o2   x    x    x  ]
//   window at t:                 [ x    x    x    n1   n2 ]
//   leaving = (t - S - W, t - W] (o1, o2): value = invF(value, v)
//   entering = (t - S, t]        (n1, n2): value = f(value, v), or v for a new key
//
// So a slide costs work for the batches entering and leaving (plus one copy of the result),
// whatever the window's length. The result lives in `numPartitions` hash maps, key k in map
// Hasher(k) % numPartitions, updated in parallel. After the update, filterFunc runs on the
// keys touched, and those it rejects are dropped (Spark filters every key; untouched keys
// passed it before and have the same value). A key absent from the previous window (dropped
// by filterFunc) ignores leaving values: a filterFunc should drop only keys whose value
// equals "no data" (a count of 0), as in Spark, which throws in that case instead.
//
// Checkpoint: the window's result, the time it is for, and every reduced batch the next
// window reads: those leaving it and those entering it, up to the snapshot's batch. A slide
// of several batches ends between snapshots, and recovery resumes after the snapshot, so the
// batches between the last window and the snapshot are saved too (they are not re-run). So
// a restored stream resumes exactly, whatever its source, with no replay of older batches.
//
// As Spark, a slide >= W also goes from the previous window: its keys are inverse-reduced
// (to 0 with +/-) and stay unless filterFunc drops them; countByWindow(W, W) over an empty
// window is 0. With S > W Spark's "leaving" and "entering" ranges both hold the batches
// between two windows, so a key new in a window also keeps those batches' values; dstream
// gives the same results. Only the first windows (t - S <= zero time) and a window whose
// predecessor was not computed (a downstream window that skips slides) are rebuilt from the
// batches in (t - W, t].
template <class K, class V, class F, class G, class Filter>
class ReducedWindowNode final : public TypedNode<std::pair<K, V>> {
 public:
  using KV = std::pair<K, V>;
  ReducedWindowNode(Graph* c, std::string kind, std::shared_ptr<TypedNode<KV>> parent, F f, G invF,
                    Filter filter, Duration window, Duration slide, std::size_t numPartitions)
      : TypedNode<KV>(c, std::move(kind), {parent.get()}, slide), parent_(std::move(parent)), f_(std::move(f)),
        invF_(std::move(invF)), filter_(std::move(filter)), window_(window), state_(numPartitions) {}

  // The leaving batches are up to W + S old: the parent keeps them (Spark remembers the
  // reduced stream for the window plus this stream's own remember duration).
  void rememberAtLeast(Duration d) override {
    this->remember_ = std::max(this->remember_, d);
    parent_->rememberAtLeast(this->remember_ + window_);
  }

  bool hasState() const override { return kCheckpointable; }
  std::string stateTypeWithoutSerializer() const override { return firstWithoutSerializer<K, V>(); }
  void writeState(BinaryWriter& w) const override {
    if constexpr (kCheckpointable) {
      writeStateHeader(w, lastTime_);
      writePartitionedMaps(w, state_, [](BinaryWriter& out, const V& v) { out.write(v); });
      // The next window reads the batches after lastTime_ - W (leaving, then entering), or
      // from the zero time on before the first window: all of them up to now.
      std::map<Time, std::vector<KV>> needed;
      const Duration step = parent_->slideDuration();
      Time from = lastTime_ ? *lastTime_ - window_ : this->zeroTime_;
      if (seen_) from = std::max(from, *seen_ - parent_->rememberDuration());  // older ones are gone
      for (Time s = from + step; seen_ && s <= *seen_; s += step) {
        if (auto it = restored_.find(s); it != restored_.end()) needed[s] = it->second.collect();
        else if (auto rdd = parent_->remembered(s)) needed[s] = rdd->collect();
      }
      w.write(needed);
    }
  }
  void readState(BinaryReader& r) override {
    if constexpr (kCheckpointable) {
      lastTime_ = readStateHeader(r, this->kind());
      readPartitionedMaps(r, state_, [](BinaryReader& in) { return in.read<V>(); });
      restored_.clear();
      for (auto& [s, pairs] : r.read<std::map<Time, std::vector<KV>>>()) {
        restored_.emplace(s, RDD<KV>::parallelize(std::move(pairs)));
        seen_ = s;
      }
    }
  }

  // The window's result by key; the reduced batches it reads are its parent's.
  std::optional<StateSize> stateSize() const override {
    StateSize size;
    for (const auto& m : state_) {
      size.keys += static_cast<std::int64_t>(m.size());
      size.bytes += static_cast<std::int64_t>(hashMapBytes(m));
    }
    return size;
  }

  // The batch that just ran: writeState saves the reduced batches up to it, also between
  // slides, when this node computed nothing.
  void clearOldData(Time t) override {
    TypedNode<KV>::clearOldData(t);
    seen_ = t;
  }


 protected:
  std::optional<RDD<KV>> compute(Time t) override {
    const Duration step = parent_->slideDuration();
    const Time zero = this->zeroTime_;
    const Time prev = t - this->slide_;
    const bool continues = lastTime_ ? *lastTime_ == prev : prev <= zero;
    std::vector<RDD<KV>> leaving, entering;
    auto collect = [&](Time from, Time to, std::vector<RDD<KV>>& into) {  // batches in (from, to]
      for (Time s = from + step; s <= to; s += step) {
        if (auto it = restored_.find(s); it != restored_.end()) {
          into.push_back(it->second);  // from a checkpoint: older than this run's first batch
          continue;
        }
        if (s <= zero) continue;
        if (auto rdd = parent_->getOrCompute(s)) into.push_back(*rdd);
      }
    };
    if (continues) {
      collect(prev - window_, t - window_, leaving);
      collect(prev, t, entering);
    } else {
      for (auto& m : state_) m.clear();
      collect(t - window_, t, entering);
    }
    const std::size_t n = state_.size();
    auto pool = this->graph().pool();
    Partitions<KV> out(n);
    forEachIndex(pool.get(), n, [&](std::size_t p) {
      F f = f_;  // copies per task: user callables never race
      G invF = invF_;
      Filter keep = filter_;
      auto& m = state_[p];
      for (const auto& rdd : leaving) {
        forEachInPartition(rdd, p, n, [&](const K& k, const V& v) {
          if (auto it = m.find(k); it != m.end()) it->second = invF(std::move(it->second), v);
        });
      }
      for (const auto& rdd : entering) {
        forEachInPartition(rdd, p, n, [&](const K& k, const V& v) {
          auto [it, inserted] = m.try_emplace(k, v);
          if (!inserted) it->second = f(std::move(it->second), v);
        });
      }
      if constexpr (!std::is_same_v<Filter, KeepAll>) {
        auto check = [&](const K& k, const V&) {
          if (auto it = m.find(k); it != m.end() && !keep(std::as_const(*it))) m.erase(it);
        };
        for (const auto& rdd : leaving) forEachInPartition(rdd, p, n, check);
        for (const auto& rdd : entering) forEachInPartition(rdd, p, n, check);
      }
      auto part = std::make_shared<Partition<KV>>(m.begin(), m.end());
      out[p] = std::move(part);
    });
    lastTime_ = t;
    restored_.erase(restored_.begin(), restored_.upper_bound(t - window_));
    return makeRDD<KV>(std::move(out), Owners{}, std::move(pool));
  }

 private:
  std::shared_ptr<TypedNode<KV>> parent_;
  F f_;
  G invF_;
  Filter filter_;
  Duration window_;
  std::vector<HashMap<K, V>> state_;  // the window at lastTime_, by hash partition
  std::optional<Time> lastTime_;      // unset before the first window
  std::map<Time, RDD<KV>> restored_;  // reduced batches read from a checkpoint
  std::optional<Time> seen_;          // the newest batch run (or restored)
  static constexpr bool kCheckpointable = Serializable<K> && Serializable<V>;
};

// reduceByKeyAndWindow(f, W, S) without an inverse function (and reduceByWindow(f, W, S)):
// Spark's definition, the reduced batches of (t - W, t] reduced again by key with f, at a
// cost per slide that does not grow with the window. Only f's associativity is used (Spark
// requires it too): merges keep the batches' time order, so an associative f that is not
// commutative (concatenation) gives exactly what the definition gives.
//
// The "two stacks" scheme over the reduced batches of the window:
//
//   live batches:   | b1 | b2 | b3 | b4 | b5 | b6 |        the window (t - W, t]
//                   [ front           ][ back    ]
//   suffix(from)  = f-reduce of the front's batches after `from` (b2 f b3 f b4 for from = b1's time);
//                   kept only at the boundaries the next slides start from (t' - W, t' = t + kS)
//   back          = f-reduce of the batches since the front's end, updated as batches enter
//   window at t   = suffix(t - W) f back
//
// When the front is used up and a batch of the back must leave, the front is rebuilt from
// the back's live batches (one pass from the newest, a copy of the running result at each
// boundary) and the back starts empty. So each batch is merged about twice while it is in
// the window, whatever W is; a slide costs the batches entering, one merge of the suffix
// with the back to emit the result and, amortised, one boundary's copy. Memory: one map
// per boundary left in the front (at most W / S) besides the batches the window holds.
//
// Key k lives in hash partition Hasher(k) % numPartitions, as in the reduced batches, and
// the partitions are updated in parallel, one task each. Values that point into a batch's
// buffers stay valid: the result holds the owners of every batch in the window.
//
// Checkpoints: nothing of its own, as the definition (window + reduceByKey) it replaces. It
// asks its parent to remember the window, so a restored stream's sources replay the window's
// batches and the first window after a restart is rebuilt from them.
template <class K, class V, class F>
class PaneWindowNode final : public TypedNode<std::pair<K, V>> {
 public:
  using KV = std::pair<K, V>;
  PaneWindowNode(Graph* c, std::string kind, std::shared_ptr<TypedNode<KV>> parent, F f, Duration window,
                 Duration slide, std::size_t numPartitions)
      : TypedNode<KV>(c, std::move(kind), {parent.get()}, slide), parent_(std::move(parent)), f_(std::move(f)),
        window_(window), back_(numPartitions) {}

  void rememberAtLeast(Duration d) override {
    this->remember_ = std::max(this->remember_, d);
    parent_->rememberAtLeast(this->remember_ + window_);
  }

  // What the node holds between slides (tests check that it stays within the window).
  std::size_t numSuffixes() const { return front_.size(); }
  std::size_t numLiveBatches() const { return live_.size(); }

  // Keys: those of the last window; bytes: the partial results kept between slides (the
  // suffixes and the back), not the reduced batches of the window, which are its parent's.
  std::optional<StateSize> stateSize() const override {
    StateSize size;
    size.keys = windowKeys_;
    for (const auto& m : back_) size.bytes += static_cast<std::int64_t>(hashMapBytes(m));
    for (const auto& suffix : front_) {
      for (const auto& m : suffix.maps) size.bytes += static_cast<std::int64_t>(hashMapBytes(m));
    }
    return size;
  }

 protected:
  std::optional<RDD<KV>> compute(Time t) override {
    const Duration step = parent_->slideDuration();
    const Duration slide = this->slide_;
    const Time lo = t - window_;  // the window is (lo, t]
    const Time prev = t - slide;
    const std::size_t n = back_.size();
    Time enterAfter = std::max(prev, lo);  // batches after it enter (S > W: the window's only)
    bool rebuild = false;
    if (!lastTime_ || *lastTime_ != prev) {
      // The first window, the first after a restart, or a downstream window skipped slides.
      live_.clear();
      front_.clear();
      for (auto& m : back_) m.clear();
      frontEnd_ = lo;
      enterAfter = lo;
    } else {
      while (!live_.empty() && live_.front().time <= lo) live_.pop_front();
      while (!front_.empty() && front_.front().from < lo) front_.pop_front();
      // Batches of the back leave: the front, used up, is rebuilt from the back's live ones.
      rebuild = frontEnd_ < lo;
      if (rebuild) {
        if (!live_.empty()) {
          for (Time b = lo; b < enterAfter; b += slide) front_.push_back({b, std::vector<HashMap<K, V>>(n)});
        }
        frontEnd_ = enterAfter;
      }
    }
    std::vector<Batch> entering;
    for (Time s = enterAfter + step; s <= t; s += step) {
      if (s <= this->zeroTime_) continue;  // before the first batch: a partial window
      if (auto rdd = parent_->getOrCompute(s)) entering.push_back({s, std::move(*rdd)});
    }

    auto pool = this->graph().pool();
    Partitions<KV> out(n);
    forEachIndex(pool.get(), n, [&](std::size_t p) {
      F f = f_;  // copies per task: user callables never race
      auto& back = back_[p];
      if (rebuild) {
        back.clear();
        HashMap<K, V> run;  // the suffix after the boundary being built, newest batches first
        std::size_t i = live_.size();
        for (std::size_t j = front_.size(); j-- > 0;) {
          for (; i > 0 && live_[i - 1].time > front_[j].from; --i) {
            forEachInPartition(live_[i - 1].rdd, p, n, [&](const K& k, const V& v) {
              auto [it, inserted] = run.try_emplace(k, v);
              if (!inserted) it->second = f(V(v), std::as_const(it->second));  // older value on the left
            });
          }
          if (j == 0) {
            front_[j].maps[p] = std::move(run);
          } else {
            front_[j].maps[p] = run;
          }
        }
      }
      for (const auto& b : entering) {
        forEachInPartition(b.rdd, p, n, [&](const K& k, const V& v) {
          auto [it, inserted] = back.try_emplace(k, v);
          if (!inserted) it->second = f(std::move(it->second), v);
        });
      }
      // The window: suffix(lo) (the front's oldest boundary is lo), then the back.
      const HashMap<K, V>* suffix = front_.empty() ? nullptr : &front_.front().maps[p];
      auto part = std::make_shared<Partition<KV>>();
      if (!suffix || suffix->empty()) {
        part->assign(back.begin(), back.end());
      } else if (back.empty()) {
        part->assign(suffix->begin(), suffix->end());
      } else {
        part->reserve(suffix->size() + back.size());
        for (const auto& [k, v] : *suffix) {
          if (auto it = back.find(k); it != back.end()) part->emplace_back(k, f(V(v), it->second));
          else part->emplace_back(k, v);
        }
        for (const auto& kv : back) {
          if (!suffix->contains(kv.first)) part->emplace_back(kv.first, kv.second);
        }
      }
      out[p] = std::move(part);
    });
    windowKeys_ = 0;
    for (const auto& part : out) windowKeys_ += static_cast<std::int64_t>(part->size());
    for (auto& b : entering) live_.push_back(std::move(b));
    Owners owners;
    for (const auto& b : live_) appendOwners(owners, b.rdd.owners());
    lastTime_ = t;
    return makeRDD<KV>(std::move(out), std::move(owners), std::move(pool));
  }

 private:
  struct Batch {
    Time time;
    RDD<KV> rdd;
  };
  struct Suffix {
    Time from;                          // the results of the front's batches after `from`
    std::vector<HashMap<K, V>> maps;    // by hash partition
  };
  std::shared_ptr<TypedNode<KV>> parent_;
  F f_;
  Duration window_;
  std::deque<Batch> live_;             // the reduced batches of the last window, oldest first
  std::deque<Suffix> front_;           // oldest boundary first: the next slides' window starts
  Time frontEnd_{};                    // the front holds the batches up to it, the back those after
  std::vector<HashMap<K, V>> back_;    // by hash partition
  std::optional<Time> lastTime_;       // the last window computed; unset before the first
  std::int64_t windowKeys_ = 0;        // the keys of the last window computed
};

}  // namespace dstream::detail
