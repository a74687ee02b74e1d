// DStream<T> is a typed handle on one stream of a StreamingContext's graph: each batch
// interval it yields one RDD<T>. Handles are cheap to copy; nothing runs before start().
//
// Narrow operations (map, flatMap, filter, mapValues, flatMapValues) return a
// NarrowStream: the same API, with the chain of narrow steps kept as one compile-time
// pipeline, so that `lines.flatMap(split).map(pair).reduceByKey(add)` reads each line once
// and feeds the map-side combine directly, with no intermediate vectors. A NarrowStream
// converts to DStream<T> implicitly; using it twice (two outputs) runs its pipeline once per
// use, as Spark recomputes an uncached RDD: call cache() to compute it once per batch.
//
// All operations keep Spark's names and semantics. Defining an operation after the context
// has started throws Error(kFailedPrecondition).
#pragma once

#include <concepts>
#include <cstdio>
#include <functional>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/context_core.h"
#include "dstream/detail/nodes.h"
#include "dstream/detail/pipeline.h"
#include "dstream/detail/state_nodes.h"
#include "dstream/detail/window_nodes.h"
#include "dstream/error.h"
#include "dstream/format.h"
#include "dstream/rdd.h"
#include "dstream/state.h"
#include "dstream/time.h"

namespace dstream {

template <class T>
class DStream;
template <class In, class Pipe>
class NarrowStream;
template <class M, class SK, class S>
class MapWithStateDStream;

namespace detail {
// Text outputs, implemented in src/outputs/.
std::string pprintHeader(Time t);        // pyspark: dashes, "Time: " + str(datetime) in local time, dashes
std::string printHeader(Time t);         // Scala: dashes, "Time: <ms> ms", dashes
void writeToStdout(const std::string& text);
// Spark's rddToFileName: "<prefix>-<ms>.<suffix>", leaving out an empty prefix or suffix and its separator.
std::string batchDirectoryName(const std::string& prefix, const std::string& suffix, Time t);
void writeBatchDirectory(const std::string& directory, const std::vector<std::string>& parts);
// Throws Error(kInvalidArgument) unless window and slide are positive multiples of `parent`.
void validateWindow(std::string_view operation, Duration window, Duration slide, Duration parent);
void validateSameSlide(std::string_view operation, Duration a, Duration b);
// Throws Error(kInternal): `operation` needs a batch of `parent` at `t` and it has none.
[[noreturn]] void throwNoBatch(const Node& parent, Time t, std::string_view operation);

// The parent's batch at `t`, for operations that need a batch from every parent: Spark's
// union and transform fail, naming the time, when a parent (a custom source or node) yields
// none at one of its batch times, rather than silently emitting less.
template <class T>
RDD<T> requireBatch(TypedNode<T>& parent, Time t, std::string_view operation) {
  auto rdd = parent.getOrCompute(t);
  if (!rdd) throwNoBatch(parent, t, operation);
  return std::move(*rdd);
}

template <class F, class... Args>
decltype(auto) invokeWithOptionalTime(F& f, Time t, Args&&... args) {
  if constexpr (std::is_invocable_v<F&, Args..., Time>) {
    return std::invoke(f, std::forward<Args>(args)..., t);
  } else {
    return std::invoke(f, std::forward<Args>(args)...);
  }
}
template <class F, class... Args>
using ResultWithOptionalTime =
    std::decay_t<decltype(invokeWithOptionalTime(std::declval<F&>(), Time{}, std::declval<Args>()...))>;

// invF(V, const V&) for the values of pairs T. A concept, because clang forms T::second_type
// in a member's requires-clause as soon as DStream<T> is instantiated, even when T is no pair.
template <class G, class T>
concept InverseReducer = std::invocable<G&, typename T::second_type, const typename T::second_type&>;
}  // namespace detail

template <class Self, class T>
class StreamOps {
 public:
  using value_type = T;

  // ---- Narrow operations: fused into one pass ----

  // f(const T&) -> U for each element.
  template <class F>
  auto map(F f) const {
    static_assert(std::is_invocable_v<F&, const T&>,
                  "dstream: map(f): f must be callable as f(const T&) for the stream's element type T");
    return self().extend(detail::MapStage<F>{std::move(f)});
  }
  // f(const T&) -> a range (vector, array...) or std::optional of outputs.
  template <class F>
  auto flatMap(F f) const {
    static_assert(std::is_invocable_v<F&, const T&>,
                  "dstream: flatMap(f): f must be callable as f(const T&)");
    static_assert(detail::FlatMappable<std::invoke_result_t<F&, const T&>>,
                  "dstream: flatMap(f): f must return a range (e.g. std::vector<U>) or std::optional<U>");
    return self().extend(detail::FlatMapStage<F>{std::move(f)});
  }
  // Keeps the elements for which keep(const T&) is true.
  template <class F>
  auto filter(F keep) const {
    static_assert(std::predicate<F&, const T&>,
                  "dstream: filter(f): f must be callable as f(const T&) and return bool");
    return self().extend(detail::FilterStage<F>{std::move(keep)});
  }
  template <class F>
    requires KeyValue<T>
  auto mapValues(F f) const {
    return self().extend(detail::MapValuesStage<F>{std::move(f)});
  }
  template <class F>
    requires KeyValue<T>
  auto flatMapValues(F f) const {
    return self().extend(detail::FlatMapValuesStage<F>{std::move(f)});
  }

  // ---- Aggregations: the map side runs inside the pipeline's loop ----

  // One element per batch: the number of elements (0 for an empty batch).
  auto count() const {
    auto& s = self();
    s.core()->checkCanDefine("count");
    return DStream<long>(s.core(), s.core()->template addNode<detail::CountNode<typename Self::SourceType, typename Self::PipeType>>(
                          s.sourceNode(), s.pipe()));
  }
  // (element, number of occurrences) per batch.
  auto countByValue(std::size_t numPartitions = 0) const {
    auto pairs = map([](const T& x) { return std::pair<T, long>(x, 1L); });
    return pairs.reduceByKey([](long a, long b) { return a + b; }, numPartitions);
  }
  // Spark's combineByKey: create(v) -> C, mergeValue(C, v) -> C, mergeCombiners(C, C) -> C.
  // numPartitions = 0 means the context's parallelism (N of local[N]).
  template <class Create, class MergeValue, class MergeCombiners>
    requires KeyValue<T>
  auto combineByKey(Create create, MergeValue mergeValue, MergeCombiners mergeCombiners,
                    std::size_t numPartitions = 0) const {
    return combine("combineByKey", std::move(create), std::move(mergeValue),
                   std::move(mergeCombiners), numPartitions);
  }
  // Per batch, the values of each key reduced with an associative f(V, V) -> V.
  template <class F>
    requires KeyValue<T>
  auto reduceByKey(F f, std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                  "dstream: reduceByKey(f): f must be callable as f(V, V) and return V");
    return combine("reduceByKey", [](const V& v) { return v; }, f, f, numPartitions);
  }
  // Per batch, (key, all its values).
  auto groupByKey(std::size_t numPartitions = 0) const
    requires KeyValue<T>
  {
    using V = typename T::second_type;
    return combine(
        "groupByKey", [](const V& v) { return std::vector<V>{v}; },
        [](std::vector<V> c, const V& v) { c.push_back(v); return c; },
        [](std::vector<V> a, std::vector<V> b) {
          a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
          return a;
        },
        numPartitions);
  }

  // ---- Per-batch operations on whole RDDs ----

  // The batch's elements reduced with an associative f(T, T) -> T; an empty batch stays empty.
  template <class F>
  auto reduce(F f) const {
    return perBatch([f](const RDD<T>& rdd) {
      auto r = rdd.reduce(f);
      return RDD<T>::fromPartitions(r ? std::vector<std::vector<T>>{{*r}} : std::vector<std::vector<T>>{{}}, rdd.pool());
    }, "reduce");
  }
  // f(std::span<const T>) -> range, once per partition.
  template <class F>
  auto mapPartitions(F f) const {
    return perBatch([f](const RDD<T>& rdd) { return rdd.mapPartitions(f); }, "mapPartitions");
  }
  // One element per partition: the partition's elements as a vector.
  auto glom() const {
    return perBatch([](const RDD<T>& rdd) { return rdd.glom(); }, "glom");
  }
  // The same elements in `numPartitions` nearly equal partitions (Spark: transform(_.repartition(n))).
  auto repartition(std::size_t numPartitions) const {
    return transform([numPartitions](const RDD<T>& rdd) { return rdd.repartition(numPartitions); }, "repartition");
  }
  // Spark's union (a C++ keyword): both streams' elements in each batch.
  // REQUIRES: the same slide duration, else throws Error(kInvalidArgument). A batch fails
  // (Error naming the stream and time) if either stream yields no batch at a batch time.
  template <class Other>
  auto union_(const Other& other) const {
    DStream<T> a = self().toDStream();
    DStream<T> b = other.toDStream();
    detail::validateSameSlide("union_", a.slideDuration(), b.slideDuration());
    auto na = a.node(), nb = b.node();
    return makeTransform<T>("union_", {na, nb}, [na, nb](Time t) -> std::optional<RDD<T>> {
      return detail::requireBatch(*na, t, "union_").union_(detail::requireBatch(*nb, t, "union_"));
    });
  }
  // f(RDD<T>) -> RDD<U> or f(RDD<T>, Time) -> RDD<U>, once per batch. As in Spark, a batch
  // fails (Error naming the stream and time) if this stream yields no batch at a batch time.
  template <class F>
  auto transform(F f, std::string kind = "transform") const {
    using R = detail::ResultWithOptionalTime<F, const RDD<T>&>;
    using U = typename R::value_type;
    auto parent = self().toDStream().node();
    return makeTransform<U>(kind, {parent}, [parent, f, kind](Time t) mutable -> std::optional<RDD<U>> {
      return detail::invokeWithOptionalTime(f, t, detail::requireBatch(*parent, t, kind));
    });
  }
  // f(RDD<T>, RDD<U>) -> RDD<V> (optionally with the batch Time last), once per batch; fails
  // like transform when either stream yields no batch. The joins are built on it, as in Spark.
  template <class Other, class F>
  auto transformWith(const Other& other, F f, std::string kind = "transformWith") const {
    using U = typename Other::value_type;
    using R = detail::ResultWithOptionalTime<F, const RDD<T>&, const RDD<U>&>;
    using V = typename R::value_type;
    auto a = self().toDStream().node();
    auto b = other.toDStream().node();
    detail::validateSameSlide(kind, a->slideDuration(), b->slideDuration());
    return makeTransform<V>(kind, {a, b}, [a, b, f, kind](Time t) mutable -> std::optional<RDD<V>> {
      return detail::invokeWithOptionalTime(f, t, detail::requireBatch(*a, t, kind), detail::requireBatch(*b, t, kind));
    });
  }

  // ---- Joins (pair streams with the same key type) ----
  template <class Other>
    requires KeyValue<T>
  auto cogroup(const Other& other, std::size_t n = 0) const {
    return transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.cogroup(b, n); }, "cogroup");
  }
  template <class Other>
    requires KeyValue<T>
  auto join(const Other& other, std::size_t n = 0) const {
    return transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.join(b, n); }, "join");
  }
  template <class Other>
    requires KeyValue<T>
  auto leftOuterJoin(const Other& other, std::size_t n = 0) const {
    return transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.leftOuterJoin(b, n); }, "leftOuterJoin");
  }
  template <class Other>
    requires KeyValue<T>
  auto rightOuterJoin(const Other& other, std::size_t n = 0) const {
    return transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.rightOuterJoin(b, n); }, "rightOuterJoin");
  }
  template <class Other>
    requires KeyValue<T>
  auto fullOuterJoin(const Other& other, std::size_t n = 0) const {
    return transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.fullOuterJoin(b, n); }, "fullOuterJoin");
  }

  // ---- Windows ----

  // Every `slide`, the union of the batches of the last `window` (Spark's window).
  // REQUIRES: window and slide are multiples of this stream's slide; else throws
  // Error(kInvalidArgument). Before the first full window, holds what has arrived so far.
  auto window(Duration window, std::optional<Duration> slide = std::nullopt) const {
    DStream<T> parent = self().toDStream();
    Duration s = slide.value_or(parent.slideDuration());
    detail::validateWindow("window", window, s, parent.slideDuration());
    parent.core()->checkCanDefine("window");
    return DStream<T>(parent.core(), parent.core()->template addNode<detail::WindowNode<T>>(parent.node(), window, s));
  }

  // ---- Windowed and stateful operations (Spark's names; see doc/windows_and_state.md) ----
  //
  // Window picture: with batches every B, the window at slide time t covers the batches in
  // (t - window, t]; before the first full window it holds what has arrived so far.
  //
  //   batches:              | b1 | b2 | b3 | b4 | b5 |
  //   window 3B, slide B:   [ b1 ]                       at t1 (partial)
  //                         [ b1   b2   b3 ]             at t3
  //                              [ b2   b3   b4 ]        at t4
  //
  // Every operation REQUIRES window and slide to be positive multiples of this stream's
  // slide, or throws Error(kInvalidArgument) naming the operation and the durations, e.g.
  // "reduceByKeyAndWindow: window 25s is not a multiple of the parent's slide 10s; use 20s
  // or 30s"; defining one after start() throws Error(kFailedPrecondition). numPartitions = 0
  // means the context's parallelism. Keyed results have StoredKey<K> keys (std::string for
  // std::string_view), since they outlive the batches their keys came from.

  // The number of elements in the window (Spark: map(_ => 1).reduceByWindow(+, -)): no element
  // before any data arrives, then the count, which is 0 once all data has left the window.
  auto countByWindow(Duration window, Duration slide) const {
    auto ones = map([](const T&) { return std::pair<int, long>(0, 1L); });
    return ones.inverseWindow("countByWindow", [](long a, long b) { return a + b; },
                              [](long a, long b) { return a - b; }, detail::KeepAll{}, window, slide, 1)
        .map([](const std::pair<int, long>& kv) { return kv.second; });
  }
  // The window's elements reduced with an associative f(T, T) -> T; an empty window emits
  // nothing (Spark: reduce(f).window(w, s).reduce(f)). Cost grows with the window.
  template <class F>
  auto reduceByWindow(F f, Duration window, Duration slide) const {
    DStream<T> parent = self().toDStream();
    detail::validateWindow("reduceByWindow", window, slide, parent.slideDuration());
    return parent.reduce(f).window(window, slide).reduce(f);
  }
  // The same, incrementally: invF(a, b) undoes f(a', b), so each slide costs the batches
  // entering and leaving. Like countByWindow, emits nothing until data arrives and then the
  // value kept for the window, even once all data has left (with (+, -): 0).
  template <class F, class G>
    requires std::invocable<G&, T, const T&>
  auto reduceByWindow(F f, G invF, Duration window, Duration slide) const {
    auto keyed = map([](const T& x) { return std::pair<int, T>(0, x); });
    return keyed.inverseWindow("reduceByWindow", std::move(f), std::move(invF), detail::KeepAll{}, window, slide, 1)
        .map([](const std::pair<int, T>& kv) { return kv.second; });
  }
  // Per key, the values in the window reduced with f(V, V) -> V (Spark: reduceByKey per
  // batch, window of the reduced batches, reduceByKey again). Cost grows with the window.
  template <class F>
    requires KeyValue<T>
  auto reduceByKeyAndWindow(F f, Duration window, std::optional<Duration> slide = std::nullopt,
                            std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                  "dstream: reduceByKeyAndWindow(f, ...): f must be callable as f(V, V) and return V");
    Duration s = slide.value_or(slideDuration());
    auto reduced = reducedBatches("reduceByKeyAndWindow", f, window, s, numPartitions);
    return reduced.window(window, s).reduceByKey(f, numPartitions);
  }
  // The same, incrementally (Spark's ReducedWindowedDStream): the previous window's result
  // is kept per key, f adds the batches entering, invF(V, V) -> V removes those leaving.
  // filterFunc(const std::pair<K, V>&) -> bool keeps a key; use it to drop keys whose value
  // means "no data" (count 0), or the result keeps every key ever seen. No checkpoint
  // directory is needed (Spark requires one).
  template <class F, class G, class Filter = detail::KeepAll>
    requires KeyValue<T> && detail::InverseReducer<G, T>
  auto reduceByKeyAndWindow(F f, G invF, Duration window, Duration slide, std::size_t numPartitions = 0,
                            Filter filterFunc = {}) const {
    return inverseWindow("reduceByKeyAndWindow", std::move(f), std::move(invF), std::move(filterFunc), window,
                         slide, numPartitions);
  }
  // Per key, all its values in the window (Spark: groupByKey per batch, window, merge).
  auto groupByKeyAndWindow(Duration window, std::optional<Duration> slide = std::nullopt,
                           std::size_t numPartitions = 0) const
    requires KeyValue<T>
  {
    using V = typename T::second_type;
    Duration s = slide.value_or(slideDuration());
    detail::validateWindow("groupByKeyAndWindow", window, s, slideDuration());
    auto grouped = detached(groupByKey(numPartitions));
    return grouped.window(window, s).reduceByKey(
        [](std::vector<V> a, const std::vector<V>& b) {
          a.insert(a.end(), b.begin(), b.end());
          return a;
        },
        numPartitions);
  }
  // (element, occurrences in the window), incrementally; elements whose count drops to 0
  // leave the result (Spark's countByValueAndWindow).
  auto countByValueAndWindow(Duration window, Duration slide, std::size_t numPartitions = 0) const {
    auto ones = map([](const T& x) { return std::pair<T, long>(x, 1L); });
    return ones.inverseWindow("countByValueAndWindow", [](long a, long b) { return a + b; },
                              [](long a, long b) { return a - b; },
                              [](const std::pair<StoredKey<T>, long>& kv) { return kv.second != 0; }, window, slide,
                              numPartitions);
  }

  // Every batch, f(std::span<const V> newValues, std::optional<S> oldState) -> std::optional<S>
  // for every key with a state or new values; nullopt removes the key. S is read from f's
  // return type, or given: updateStateByKey<S>(f). Emits (key, state) for every key. Optional
  // initialRDD gives keys their states before the first batch. Spark's other forms work too:
  //   f(Time batchTime, const SK& key, std::span<const V>, std::optional<S>) -> std::optional<S>
  //   f(std::vector<std::tuple<SK, std::span<const V>, std::optional<S>>> rows) -> a range of
  //     std::pair<SK, S>: once per state partition with all its keys (Spark's iterator form);
  //     the pairs returned are the states kept, keys left out are removed.
  // SK is StoredKey<K> (std::string for std::string_view keys).
  template <class S = void, class F>
    requires KeyValue<T>
  auto updateStateByKey(F f, std::size_t numPartitions = 0) const {
    using St = std::conditional_t<std::is_void_v<S>, typename detail::UpdatedState<F>::type, S>;
    return updateState<St>(std::move(f), numPartitions, std::vector<std::pair<StoredKey<KeyOf<T>>, St>>{});
  }
  template <class S = void, class F, class IK, class IS>
    requires KeyValue<T>
  auto updateStateByKey(F f, std::size_t numPartitions, const RDD<std::pair<IK, IS>>& initialRDD) const {
    using St = std::conditional_t<std::is_void_v<S>, IS, S>;
    std::vector<std::pair<StoredKey<KeyOf<T>>, St>> initial;
    for (const auto& [k, s] : initialRDD.collect()) initial.emplace_back(StoredKey<KeyOf<T>>(k), St(s));
    return updateState<St>(std::move(f), numPartitions, std::move(initial));
  }
  // Spark's mapWithState: spec = StateSpec::function(f)[.initialState(rdd)][.numPartitions(n)]
  // [.timeout(d)]. f runs once per record with its key's State<S>; the stream emits what f
  // returns. stateSnapshots() on the result gives (key, state) for every key after each batch.
  template <class S, class F, class IK>
    requires KeyValue<T>
  auto mapWithState(const StateSpecOf<S, F, IK>& spec) const {
    using K = typename T::first_type;
    using SK = StoredKey<K>;
    DStream<T> parent = self().toDStream();
    auto core = parent.core();
    core->checkCanDefine("mapWithState");
    std::size_t n = spec.partitions() ? spec.partitions() : static_cast<std::size_t>(core->defaultParallelism());
    std::vector<std::pair<SK, S>> initial;
    if constexpr (!std::is_void_v<IK>) {
      for (const auto& [k, s] : spec.initial().collect()) initial.emplace_back(SK(k), s);
    }
    using Node = detail::MapWithStateNode<K, typename T::second_type, S, F>;
    auto node = core->template addNode<Node>(parent.node(), spec.function(), n, spec.timeoutDuration(), std::move(initial));
    std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots = node;
    return MapWithStateDStream<typename Node::M, SK, S>(core, std::move(node), std::move(snapshots));
  }

 protected:
  template <class, class>
  friend class StreamOps;

  // The batches reduced by key into n hash partitions, keys detached from the input's buffers.
  template <class F>
  auto reducedBatches(std::string_view kind, F f, Duration window, Duration slide, std::size_t& n) const {
    using V = typename T::second_type;
    detail::validateWindow(kind, window, slide, slideDuration());
    if (n == 0) n = static_cast<std::size_t>(self().core()->defaultParallelism());
    return detached(combine(std::string(kind), [](const V& v) { return v; }, f, f, n));
  }
  template <class KV>
  static auto detached(const DStream<KV>& reduced) {
    using Node = detail::DetachedNode<typename KV::first_type, typename KV::second_type>;
    auto core = reduced.core();
    return DStream<typename Node::Out>(core, core->template addNode<Node>(reduced.node()));
  }
  template <class F, class G, class Filter>
  auto inverseWindow(std::string_view kind, F f, G invF, Filter filter, Duration window, Duration slide,
                     std::size_t n) const {
    using V = typename T::second_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                  "dstream: reduceByKeyAndWindow(f, invF, ...): f must be callable as f(V, V) and return V");
    static_assert(std::is_convertible_v<std::invoke_result_t<G&, V, const V&>, V>,
                  "dstream: reduceByKeyAndWindow(f, invF, ...): invF must be callable as invF(V, V) and return V");
    auto reduced = reducedBatches(kind, f, window, slide, n);
    using KV = typename decltype(reduced)::value_type;
    static_assert(std::predicate<Filter&, const KV&>,
                  "dstream: reduceByKeyAndWindow: filterFunc must be callable as f(const std::pair<K, V>&) -> bool");
    using Node = detail::ReducedWindowNode<typename KV::first_type, V, F, G, Filter>;
    auto core = reduced.core();
    return DStream<KV>(core, core->template addNode<Node>(std::string(kind), reduced.node(), std::move(f),
                                                          std::move(invF), std::move(filter), window, slide, n));
  }
  template <class S, class F, class SK>
  auto updateState(F f, std::size_t n, std::vector<std::pair<SK, S>> initial) const {
    using K = typename T::first_type;
    using V = typename T::second_type;
    static_assert(!std::is_void_v<S>,
                  "dstream: updateStateByKey(f): cannot see the state type S; f must return std::optional<S>, "
                  "or name it: updateStateByKey<S>(f)");
    static_assert(detail::updateFormOf<F, StoredKey<K>, V, S>() != detail::UpdateForm::kNone,
                  "dstream: updateStateByKey(f): f must be callable as f(std::span<const V> newValues, "
                  "std::optional<S> oldState) -> std::optional<S>, as f(Time, const K& key, std::span<const V>, "
                  "std::optional<S>) -> std::optional<S>, or as f(std::vector<std::tuple<K, std::span<const V>, "
                  "std::optional<S>>>) -> a range of std::pair<K, S> (K: std::string for std::string_view keys)");
    self().core()->checkCanDefine("updateStateByKey");
    if (n == 0) n = static_cast<std::size_t>(self().core()->defaultParallelism());
    auto grouped = groupByKey(n);
    using Node = detail::UpdateStateNode<K, V, S, F>;
    auto core = grouped.core();
    return DStream<typename Node::Out>(core, core->template addNode<Node>(grouped.node(), std::move(f), n, std::move(initial)));
  }

 public:

  // ---- Persistence and identity ----

  // Computes this stream once per batch however many streams use it. Every DStream node
  // already remembers its batch; this makes a NarrowStream one, too.
  auto cache() const { return DStream<T>(self().toDStream()); }
  auto persist() const { return cache(); }
  // Names the stream for checkpoints (Flink's uid): a stable name lets the checkpoint find
  // this stream's state after the program's graph changed elsewhere.
  auto uid(std::string name) const {
    DStream<T> d = self().toDStream();
    d.node()->setUid(std::move(name));
    return d;
  }
  // Spark's dstream.checkpoint(interval): how often this stream's state is written to the
  // checkpoint directory. dstream snapshots all stateful streams together, at the smallest
  // interval any stream asks for (default: max(batch, 10s)). Without ssc.checkpoint(dir) it
  // has no effect. Throws Error(kInvalidArgument) unless `interval` is a positive multiple of
  // this stream's slide.
  auto checkpoint(Duration interval) const {
    DStream<T> d = self().toDStream();
    if (interval.count() <= 0 || !isMultipleOf(interval, d.slideDuration())) {
      throw Error(ErrorCode::kInvalidArgument, "checkpoint: interval " + formatDuration(interval) +
                                                   " must be a positive multiple of the stream's slide " +
                                                   formatDuration(d.slideDuration()));
    }
    d.node()->setCheckpointInterval(interval);
    return d;
  }
  // Spark's checkpointDuration: the interval given to checkpoint(interval), or nullopt.
  std::optional<Duration> checkpointDuration() const { return self().toDStream().node()->checkpointInterval(); }
  Duration slideDuration() const { return self().sourceNode()->slideDuration(); }

  // ---- Output operations ----

  // f(const RDD<T>&) or f(const RDD<T>&, Time), on the batch thread, for every batch.
  template <class F>
  void foreachRDD(F f, std::string kind = "foreachRDD") const {
    DStream<T> d = self().toDStream();
    d.core()->checkCanDefine(kind);
    auto node = d.node();
    d.core()->addOutput({node.get(), std::move(kind), [node, f](Time t) mutable {
                           if (auto rdd = node->getOrCompute(t)) detail::invokeWithOptionalTime(f, t, *rdd);
                         }});
  }
  // pyspark's pprint: a header with the batch's local time, then the first `num` elements.
  void pprint(std::size_t num = 10) const {
    static_assert(Formattable<T>, "dstream: pprint needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([num](const RDD<T>& rdd, Time t) { detail::writeToStdout(render(detail::pprintHeader(t), rdd, num)); }, "pprint");
  }
  // Scala's print: like pprint, with "Time: <ms> ms", and elements as Scala's toString shows
  // them: pairs and tuples "(a,1)", optionals "Some(x)" / "None" (see format.h).
  void print(std::size_t num = 10) const {
    static_assert(Formattable<T>, "dstream: print needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([num](const RDD<T>& rdd, Time t) {
      detail::writeToStdout(render<true>(detail::printHeader(t), rdd, num));
    }, "print");
  }
  // One directory per batch, named as Spark names it: "prefix-<batch time ms>.suffix", without
  // "prefix-" when the prefix is empty and without ".suffix" when the suffix is; one
  // part-NNNNN file per partition (an element per line) and a _SUCCESS marker. The directory
  // appears atomically and a re-run of the same batch replaces it whole.
  void saveAsTextFiles(std::string prefix, std::string suffix = "") const {
    static_assert(Formattable<T>, "dstream: saveAsTextFiles needs a text form for the element type: specialise dstream::Formatter<T>");
    foreachRDD([prefix, suffix](const RDD<T>& rdd, Time t) {
      std::vector<std::string> parts(rdd.numPartitions());
      detail::forEachIndex(rdd.pool().get(), parts.size(), [&](std::size_t i) {
        for (const auto& x : rdd.partition(i)) {
          formatTo(parts[i], x);
          parts[i] += '\n';
        }
      });
      detail::writeBatchDirectory(detail::batchDirectoryName(prefix, suffix, t), parts);
    }, "saveAsTextFiles");
  }

 protected:
  const Self& self() const { return static_cast<const Self&>(*this); }

  // f(RDD<T>) once per batch this stream has; no batch in, no batch out (Spark's glom,
  // mapPartitions and reduce pass a parent's missing batch on, unlike transform).
  template <class F>
  auto perBatch(F f, std::string kind) const {
    using U = typename std::invoke_result_t<F&, const RDD<T>&>::value_type;
    auto parent = self().toDStream().node();
    return makeTransform<U>(std::move(kind), {parent}, [parent, f](Time t) mutable -> std::optional<RDD<U>> {
      auto rdd = parent->getOrCompute(t);
      if (!rdd) return std::nullopt;
      return f(*rdd);
    });
  }

  template <class U>
  auto makeTransform(std::string kind, std::vector<std::shared_ptr<detail::Node>> parents,
                           typename detail::TransformNode<U>::Fn fn) const {
    auto core = self().core();
    core->checkCanDefine(kind);
    return DStream<U>(core, core->template addNode<detail::TransformNode<U>>(kind, std::move(parents), std::move(fn)));
  }

  template <class Create, class MergeValue, class MergeCombiners>
  auto combine(std::string kind, Create create, MergeValue mergeValue, MergeCombiners mergeCombiners,
               std::size_t numPartitions) const {
    auto& s = self();
    s.core()->checkCanDefine(kind);
    using Node = detail::CombineNode<typename Self::SourceType, typename Self::PipeType, Create, MergeValue, MergeCombiners>;
    if (numPartitions == 0) numPartitions = static_cast<std::size_t>(s.core()->defaultParallelism());
    return DStream<typename Node::Out>(
        s.core(), s.core()->template addNode<Node>(std::move(kind), s.sourceNode(), s.pipe(), std::move(create),
                                                   std::move(mergeValue), std::move(mergeCombiners), numPartitions));
  }

  // A print block: `text` (the header), then up to `num` elements, "..." if there are more.
  template <bool kScala = false>
  static std::string render(std::string text, const RDD<T>& rdd, std::size_t num) {
    auto first = rdd.take(num + 1);
    for (std::size_t i = 0; i < first.size() && i < num; ++i) {
      if constexpr (kScala) scalaFormatTo(text, first[i]);
      else formatTo(text, first[i]);
      text += '\n';
    }
    if (first.size() > num) text += "...\n";
    text += '\n';
    return text;
  }
};

template <class T>
class DStream : public StreamOps<DStream<T>, T> {
 public:
  using SourceType = T;
  using PipeType = detail::IdentityStage;

  DStream(std::shared_ptr<detail::ContextCore> core, std::shared_ptr<detail::TypedNode<T>> node)
      : core_(std::move(core)), node_(std::move(node)) {}

  const std::shared_ptr<detail::TypedNode<T>>& node() const { return node_; }
  const std::shared_ptr<detail::ContextCore>& core() const { return core_; }
  const DStream& toDStream() const { return *this; }
  const std::shared_ptr<detail::TypedNode<T>>& sourceNode() const { return node_; }
  detail::IdentityStage pipe() const { return {}; }

  template <class Stage>
  NarrowStream<T, Stage> extend(Stage stage) const {
    core_->checkCanDefine("map");
    return NarrowStream<T, Stage>(core_, node_, std::move(stage));
  }

  // Spark's DStream.slice(fromTime, toTime): this stream's batches at its batch times in
  // [from, to], both ends included, oldest first; ends off the stream's time grid are rounded
  // down onto it, as Spark does. Inside an output operation or a transform function (on the
  // batch thread) a missing batch is computed, as in Spark. From any other thread (or after
  // stop()) only the batches the stream still remembers are returned: a stream forgets a
  // batch once no operation needs it; ssc.remember(d) keeps every batch for at least d.
  // Throws Error(kFailedPrecondition) before start(): the stream has no time grid yet.
  std::vector<RDD<T>> slice(Time from, Time to) const {
    if (core_->state() == detail::ContextCore::State::kInitialized) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "slice: the stream has not been initialized; call slice after start()");
    }
    const Duration step = node_->slideDuration();
    const Time zero = node_->zeroTime();
    auto floorOnGrid = [&](Time x) { return zero + (floorTo(Time(x - zero), step) - Time{}); };
    const bool compute = core_->onBatchThread();
    std::vector<RDD<T>> out;
    for (Time x = floorOnGrid(from), end = floorOnGrid(to); x <= end; x += step) {
      if (x <= zero) continue;  // no batch at or before the zero time
      auto rdd = compute ? node_->getOrCompute(x) : node_->remembered(x);
      if (rdd) out.push_back(std::move(*rdd));
    }
    return out;
  }

 private:
  std::shared_ptr<detail::ContextCore> core_;
  std::shared_ptr<detail::TypedNode<T>> node_;
};

template <class In, class Pipe>
class NarrowStream : public StreamOps<NarrowStream<In, Pipe>, detail::PipeOut<Pipe, In>> {
 public:
  using T = detail::PipeOut<Pipe, In>;
  using SourceType = In;
  using PipeType = Pipe;

  NarrowStream(std::shared_ptr<detail::ContextCore> core, std::shared_ptr<detail::TypedNode<In>> source, Pipe pipe)
      : core_(std::move(core)), source_(std::move(source)), pipe_(std::move(pipe)),
        materialized_(std::make_shared<std::shared_ptr<detail::TypedNode<T>>>()) {}

  // The pipeline as a graph node, made once and shared by every copy of this handle.
  DStream<T> toDStream() const {
    if (!*materialized_) {
      core_->checkCanDefine("map");
      *materialized_ = core_->template addNode<detail::PipelineNode<In, Pipe>>(source_, pipe_);
    }
    return DStream<T>(core_, *materialized_);
  }
  operator DStream<T>() const { return toDStream(); }

  const std::shared_ptr<detail::ContextCore>& core() const { return core_; }
  const std::shared_ptr<detail::TypedNode<In>>& sourceNode() const { return source_; }
  const Pipe& pipe() const { return pipe_; }

  template <class Stage>
  auto extend(Stage stage) const {
    core_->checkCanDefine("map");
    auto combined = detail::then(pipe_, std::move(stage));
    return NarrowStream<In, decltype(combined)>(core_, source_, std::move(combined));
  }

 private:
  std::shared_ptr<detail::ContextCore> core_;
  std::shared_ptr<detail::TypedNode<In>> source_;
  Pipe pipe_;
  std::shared_ptr<std::shared_ptr<detail::TypedNode<T>>> materialized_;
};

// What mapWithState returns: the stream of mapped values, plus stateSnapshots().
template <class M, class SK, class S>
class MapWithStateDStream : public DStream<M> {
 public:
  MapWithStateDStream(std::shared_ptr<detail::ContextCore> core, std::shared_ptr<detail::TypedNode<M>> node,
                      std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots)
      : DStream<M>(std::move(core), std::move(node)), snapshots_(std::move(snapshots)) {}

  // Every batch, (key, state) for every key, after the batch's updates and timeouts.
  // Throws Error(kFailedPrecondition) after start(). Costs a copy of the whole state per batch.
  DStream<std::pair<SK, S>> stateSnapshots() const {
    auto node = this->node();
    auto snapshots = snapshots_;
    return this->template makeTransform<std::pair<SK, S>>(
        "stateSnapshots", {node}, [node, snapshots](Time t) -> std::optional<RDD<std::pair<SK, S>>> {
          if (!node->getOrCompute(t)) return std::nullopt;
          return snapshots->snapshot();
        });
  }

 private:
  std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots_;
};

}  // namespace dstream
