// RDD<T> is one batch of a stream: an immutable list of partitions (Spark's RDD, computed
// eagerly). A DStream produces one RDD per batch interval; transform() and foreachRDD()
// hand them to user code. Copying an RDD is cheap: partitions are shared, never copied.
//
// Transformations on an RDD run at once, partitions in parallel on the context's workers.
// Elements of type std::string_view point into buffers that the RDD (and every RDD derived
// from it) keeps alive: a view is valid while an RDD holding it lives; copy it into a
// std::string to keep it longer.
//
// Thread-safety: an RDD is immutable; any number of threads may read it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "dstream/detail/partitions.h"
#include "dstream/detail/pipeline.h"
#include "dstream/detail/shuffle.h"

namespace dstream {

template <class T>
concept KeyValue = detail::PairLike<T>;

namespace detail {
template <class T>
struct KeyTypeOf { using type = void; };
template <class T>
  requires PairLike<T>
struct KeyTypeOf<T> { using type = typename T::first_type; };
}  // namespace detail
// The key type of a pair element type (void for other types).
template <class T>
using KeyOf = typename detail::KeyTypeOf<T>::type;

template <class T>
class RDD;

namespace detail {
// The engine's way to make an RDD: partitions that may alias buffers kept alive by `owners`
// (e.g. the lines of a read block), computed on `pool`.
template <class T>
RDD<T> makeRDD(Partitions<T> partitions, Owners owners, std::shared_ptr<ThreadPool> pool);
}  // namespace detail

template <class T>
class RDD {
 public:
  using value_type = T;

  // An RDD with no partitions.
  RDD() = default;

  // Builds an RDD from element vectors, one per partition (for tests and queueStream).
  static RDD fromPartitions(std::vector<std::vector<T>> parts,
                            std::shared_ptr<detail::ThreadPool> pool = nullptr) {
    detail::Partitions<T> ps;
    for (auto& p : parts) ps.push_back(std::make_shared<const std::vector<T>>(std::move(p)));
    return RDD(std::move(ps), {}, std::move(pool));
  }
  // Splits `elements` into `numPartitions` contiguous, nearly equal partitions.
  static RDD parallelize(std::vector<T> elements, std::size_t numPartitions = 1,
                         std::shared_ptr<detail::ThreadPool> pool = nullptr) {
    return RDD(split(std::move(elements), numPartitions), {}, std::move(pool));
  }

  std::size_t numPartitions() const { return partitions_.size(); }
  std::span<const T> partition(std::size_t i) const { return *partitions_.at(i); }
  const detail::Partitions<T>& partitions() const { return partitions_; }
  const detail::Owners& owners() const { return owners_; }
  const std::shared_ptr<detail::ThreadPool>& pool() const { return pool_; }

  // All elements, partition by partition.
  std::vector<T> collect() const {
    std::vector<T> all;
    all.reserve(static_cast<std::size_t>(count()));
    for (const auto& p : partitions_) all.insert(all.end(), p->begin(), p->end());
    return all;
  }
  long count() const {
    long n = 0;
    for (const auto& p : partitions_) n += static_cast<long>(p->size());
    return n;
  }
  bool isEmpty() const { return count() == 0; }
  // The first `n` elements in partition order.
  std::vector<T> take(std::size_t n) const {
    std::vector<T> out;
    for (const auto& p : partitions_) {
      for (const auto& x : *p) {
        if (out.size() == n) return out;
        out.push_back(x);
      }
    }
    return out;
  }

  template <class F>
  auto map(F f) const { return piped(detail::MapStage<F>{std::move(f)}); }
  template <class F>
  auto flatMap(F f) const { return piped(detail::FlatMapStage<F>{std::move(f)}); }
  template <class F>
    requires std::predicate<F&, const T&>
  RDD filter(F f) const { return piped(detail::FilterStage<F>{std::move(f)}); }

  // f(std::span<const T>) returns a range of outputs for the whole partition.
  template <class F>
  auto mapPartitions(F f) const {
    using R = std::invoke_result_t<F&, std::span<const T>>;
    using U = typename detail::FlatElement<R>::type;
    detail::Partitions<U> out(partitions_.size());
    detail::forEachIndex(pool_.get(), partitions_.size(), [&](std::size_t i) {
      F g = f;
      auto part = std::make_shared<std::vector<U>>();
      for (auto&& y : g(std::span<const T>(*partitions_[i]))) part->push_back(std::forward<decltype(y)>(y));
      out[i] = std::move(part);
    });
    return RDD<U>(std::move(out), owners_, pool_);
  }
  // One element per partition: the partition's elements as a vector.
  RDD<std::vector<T>> glom() const {
    detail::Partitions<std::vector<T>> out;
    for (const auto& p : partitions_) out.push_back(std::make_shared<std::vector<std::vector<T>>>(1, *p));
    return RDD<std::vector<T>>(std::move(out), owners_, pool_);
  }
  // The same elements in `n` nearly equal partitions. REQUIRES: n >= 1.
  RDD repartition(std::size_t n) const { return RDD(split(collect(), n), owners_, pool_); }
  // Spark's union (a C++ keyword): the partitions of both RDDs.
  RDD union_(const RDD& other) const {
    auto parts = partitions_;
    parts.insert(parts.end(), other.partitions_.begin(), other.partitions_.end());
    auto owners = owners_;
    detail::appendOwners(owners, other.owners_);
    return RDD(std::move(parts), std::move(owners), pool_ ? pool_ : other.pool_);
  }
  // The elements reduced with an associative f; nullopt for an empty RDD.
  template <class F>
  std::optional<T> reduce(F f) const {
    std::vector<std::optional<T>> partial(partitions_.size());
    detail::forEachIndex(pool_.get(), partitions_.size(), [&](std::size_t i) {
      for (const auto& x : *partitions_[i]) partial[i] = partial[i] ? f(std::move(*partial[i]), x) : x;
    });
    std::optional<T> result;
    for (auto& p : partial) {
      if (p) result = result ? f(std::move(*result), std::move(*p)) : std::move(*p);
    }
    return result;
  }
  // (element, count) pairs.
  RDD<std::pair<T, long>> countByValue(std::size_t numPartitions = 0) const {
    return map([](const T& x) { return std::pair<T, long>(x, 1L); })
        .reduceByKey([](long a, long b) { return a + b; }, numPartitions);
  }
  // The elements sorted by key(x), in one partition.
  template <class F>
  RDD sortBy(F key, bool ascending = true) const {
    auto all = collect();
    std::stable_sort(all.begin(), all.end(), [&](const T& a, const T& b) {
      return ascending ? key(a) < key(b) : key(b) < key(a);
    });
    return RDD(split(std::move(all), 1), owners_, pool_);
  }

  // ---- Pair RDDs ----
  template <class F>
    requires KeyValue<T>
  auto mapValues(F f) const { return piped(detail::MapValuesStage<F>{std::move(f)}); }
  template <class F>
    requires KeyValue<T>
  auto flatMapValues(F f) const { return piped(detail::FlatMapValuesStage<F>{std::move(f)}); }

  template <class Create, class MergeValue, class MergeCombiners>
    requires KeyValue<T>
  auto combineByKey(Create create, MergeValue mergeValue, MergeCombiners mergeCombiners,
                    std::size_t numPartitions = 0) const {
    auto combined = detail::combineByKey(pool_.get(), partitions_, detail::IdentityStage{}, create,
                                         mergeValue, mergeCombiners, defaultPartitions(numPartitions));
    detail::Owners owners = owners_;
    detail::appendOwners(owners, combined.packedKeys);
    using Out = typename decltype(combined.partitions)::value_type::element_type::value_type;
    return RDD<Out>(std::move(combined.partitions), std::move(owners), pool_);
  }
  template <class F>
    requires KeyValue<T>
  RDD reduceByKey(F f, std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    return combineByKey([](const V& v) { return v; }, f, f, numPartitions);
  }
  auto groupByKey(std::size_t numPartitions = 0) const
    requires KeyValue<T>
  {
    using V = typename T::second_type;
    return combineByKey([](const V& v) { return std::vector<V>{v}; },
                        [](std::vector<V> c, const V& v) { c.push_back(v); return c; },
                        [](std::vector<V> a, std::vector<V> b) {
                          a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
                          return a;
                        },
                        numPartitions);
  }
  // (k, ([v...], [w...])) for every key in either RDD.
  template <class W>
    requires KeyValue<T>
  auto cogroup(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions = 0) const {
    auto parts = detail::cogroup(pool_.get(), partitions_, other.partitions(), defaultPartitions(numPartitions));
    auto owners = owners_;
    detail::appendOwners(owners, other.owners());
    using E = typename decltype(parts)::value_type::element_type::value_type;
    return RDD<E>(std::move(parts), std::move(owners), pool_);
  }
  // Inner join: (k, (v, w)) for every pair of values with the same key.
  template <class W>
    requires KeyValue<T>
  auto join(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    return cogroup(other, numPartitions).flatMap([](const auto& kg) {
      std::vector<std::pair<typename T::first_type, std::pair<V, W>>> out;
      for (const auto& v : kg.second.first)
        for (const auto& w : kg.second.second) out.push_back({kg.first, {v, w}});
      return out;
    });
  }
  // (k, (v, optional w)): every left value, with each matching right value or nullopt.
  template <class W>
    requires KeyValue<T>
  auto leftOuterJoin(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions = 0) const {
    return outerJoin<W, true, false>(other, numPartitions);
  }
  template <class W>
    requires KeyValue<T>
  auto rightOuterJoin(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions = 0) const {
    return outerJoin<W, false, true>(other, numPartitions);
  }
  template <class W>
    requires KeyValue<T>
  auto fullOuterJoin(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions = 0) const {
    return outerJoin<W, true, true>(other, numPartitions);
  }

 private:
  template <class>
  friend class RDD;
  template <class U>
  friend RDD<U> detail::makeRDD(detail::Partitions<U>, detail::Owners, std::shared_ptr<detail::ThreadPool>);

  RDD(detail::Partitions<T> partitions, detail::Owners owners, std::shared_ptr<detail::ThreadPool> pool)
      : partitions_(std::move(partitions)), owners_(std::move(owners)), pool_(std::move(pool)) {}

  template <class Pipe>
  RDD<detail::PipeOut<Pipe, T>> piped(const Pipe& pipe) const {
    return RDD<detail::PipeOut<Pipe, T>>(detail::runPipe(pool_.get(), partitions_, pipe), owners_, pool_);
  }
  std::size_t defaultPartitions(std::size_t n) const {
    if (n > 0) return n;
    return pool_ ? static_cast<std::size_t>(pool_->workers()) : 1;
  }
  static detail::Partitions<T> split(std::vector<T> all, std::size_t n) {
    if (n == 0) n = 1;
    detail::Partitions<T> parts;
    std::size_t size = all.size();
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t b = size * i / n, e = size * (i + 1) / n;
      parts.push_back(std::make_shared<const std::vector<T>>(std::make_move_iterator(all.begin() + b),
                                                             std::make_move_iterator(all.begin() + e)));
    }
    return parts;
  }
  template <class W, bool kLeft, bool kRight>
  auto outerJoin(const RDD<std::pair<KeyOf<T>, W>>& other, std::size_t numPartitions) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    using LeftV = std::conditional_t<kRight, std::optional<V>, V>;
    using RightV = std::conditional_t<kLeft, std::optional<W>, W>;
    return cogroup(other, numPartitions).flatMap([](const auto& kg) {
      std::vector<std::pair<K, std::pair<LeftV, RightV>>> out;
      const auto& vs = kg.second.first;
      const auto& ws = kg.second.second;
      if (vs.empty()) {
        if constexpr (kRight) for (const auto& w : ws) out.push_back({kg.first, {LeftV{}, RightV{w}}});
      } else if (ws.empty()) {
        if constexpr (kLeft) for (const auto& v : vs) out.push_back({kg.first, {LeftV{v}, RightV{}}});
      } else {
        for (const auto& v : vs)
          for (const auto& w : ws) out.push_back({kg.first, {LeftV{v}, RightV{w}}});
      }
      return out;
    });
  }

  detail::Partitions<T> partitions_;
  detail::Owners owners_;
  std::shared_ptr<detail::ThreadPool> pool_;
};

template <class T>
RDD<T> detail::makeRDD(Partitions<T> partitions, Owners owners, std::shared_ptr<ThreadPool> pool) {
  return RDD<T>(std::move(partitions), std::move(owners), std::move(pool));
}

}  // namespace dstream
