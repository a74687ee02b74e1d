// The window family (Spark's window operations of DStream and PairDStreamFunctions).
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
// std::string_view), since they outlive the batches their keys came from. See
// doc/windows_and_state.md.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/nodes.h"
#include "dstream/detail/window_nodes.h"
#include "dstream/export.h"
#include "dstream/operations/common.h"
#include "dstream/operations/keyed.h"
#include "dstream/time.h"

namespace dstream {
namespace detail {

// Throws Error(kInvalidArgument) unless window and slide are positive multiples of `parent`.
DSTREAM_EXPORT void validateWindow(std::string_view operation, Duration window, Duration slide, Duration parent);

// invF(V, const V&) for the values of pairs T. A concept, because clang forms T::second_type
// in a member's requires-clause as soon as DStream<T> is instantiated, even when T is no pair.
template <class G, class T>
concept InverseReducer = std::invocable<G&, typename T::second_type, const typename T::second_type&>;

// A keyed stream's batches with their keys detached from the input's buffers (owned), so
// that windows can keep them past their batch.
template <class KV>
auto detachedKeys(const DStream<KV>& reduced) {
  using Node = DetachedNode<typename KV::first_type, typename KV::second_type>;
  const auto& graph = reduced.graph();
  return DStream<typename Node::Out>(graph, graph->template addNode<Node>(reduced.node()));
}

// `stream`'s batches reduced by key with f into n hash partitions (n = 0: the context's
// parallelism, written back), keys detached: what the keyed windows keep per batch.
template <class S, class F>
auto reducedBatches(const S& stream, std::string_view kind, F f, Duration window, Duration slide, std::size_t& n) {
  using V = typename S::value_type::second_type;
  validateWindow(kind, window, slide, stream.slideDuration());
  if (n == 0) n = static_cast<std::size_t>(stream.graph()->defaultParallelism());
  return detachedKeys(combineByKey(stream, std::string(kind), [](const V& v) { return v; }, f, f, n));
}

// The incremental keyed window (Spark's ReducedWindowedDStream) behind every window with an
// inverse function.
template <class S, class F, class G, class Filter>
auto inverseWindow(const S& stream, std::string_view kind, F f, G invF, Filter filter, Duration window,
                   Duration slide, std::size_t n) {
  using V = typename S::value_type::second_type;
  static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                "dstream: reduceByKeyAndWindow(f, invF, ...): f must be callable as f(V, V) and return V");
  static_assert(std::is_convertible_v<std::invoke_result_t<G&, V, const V&>, V>,
                "dstream: reduceByKeyAndWindow(f, invF, ...): invF must be callable as invF(V, V) and return V");
  auto reduced = reducedBatches(stream, kind, f, window, slide, n);
  using KV = typename decltype(reduced)::value_type;
  static_assert(std::predicate<Filter&, const KV&>,
                "dstream: reduceByKeyAndWindow: filterFunc must be callable as f(const std::pair<K, V>&) -> bool");
  using Node = ReducedWindowNode<typename KV::first_type, V, F, G, Filter>;
  const auto& graph = reduced.graph();
  return DStream<KV>(graph, graph->template addNode<Node>(std::string(kind), reduced.node(), std::move(f),
                                                          std::move(invF), std::move(filter), window, slide, n));
}

// Spark's reduceByKeyAndWindow(f, W, S) without an inverse function: the same results as
// its definition (reduced batches -> window(W, S) -> reduceByKey(f)), from suffix results
// (PaneWindowNode) instead of re-reducing the whole window at each slide.
template <class S, class F>
auto paneWindow(const S& stream, std::string_view kind, F f, Duration window, Duration slide, std::size_t n) {
  auto reduced = reducedBatches(stream, kind, f, window, slide, n);
  using KV = typename decltype(reduced)::value_type;
  using Node = PaneWindowNode<typename KV::first_type, typename KV::second_type, F>;
  const auto& graph = reduced.graph();
  return DStream<KV>(graph,
                     graph->template addNode<Node>(std::string(kind), reduced.node(), std::move(f), window, slide, n));
}

}  // namespace detail

template <class Self, class T>
class WindowOperations {
 public:
  // Every `slide`, the union of the batches of the last `window` (Spark's window).
  // Before the first full window, holds what has arrived so far.
  auto window(Duration window, std::optional<Duration> slide = std::nullopt) const {
    DStream<T> parent = self().toDStream();
    Duration s = slide.value_or(parent.slideDuration());
    detail::validateWindow("window", window, s, parent.slideDuration());
    parent.graph()->checkCanDefine("window");
    return DStream<T>(parent.graph(), parent.graph()->template addNode<detail::WindowNode<T>>(parent.node(), window, s));
  }

  // The number of elements in the window (Spark: map(_ => 1).reduceByWindow(+, -)): no element
  // before any data arrives, then the count, which is 0 once all data has left the window.
  auto countByWindow(Duration window, Duration slide) const {
    auto ones = self().map([](const T&) { return std::pair<int, long>(0, 1L); });
    return detail::inverseWindow(ones, "countByWindow", [](long a, long b) { return a + b; },
                                 [](long a, long b) { return a - b; }, detail::KeepAll{}, window, slide, 1)
        .map([](const std::pair<int, long>& kv) { return kv.second; });
  }
  // The window's elements reduced with an associative f(T, T) -> T; an empty window emits
  // nothing (Spark: reduce(f).window(w, s).reduce(f), with the same results). Each batch's
  // result is merged about twice while in the window, whatever its length.
  template <class F>
  auto reduceByWindow(F f, Duration window, Duration slide) const {
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, T, const T&>, T>,
                  "dstream: reduceByWindow(f, ...): f must be callable as f(T, T) and return T");
    detail::validateWindow("reduceByWindow", window, slide, self().slideDuration());
    self().graph()->checkCanDefine("reduceByWindow");
    auto keyed = self().map([](const T& x) { return std::pair<int, T>(0, x); });
    return detail::paneWindow(keyed, "reduceByWindow", std::move(f), window, slide, 1)
        .map([](const std::pair<int, T>& kv) { return kv.second; });
  }
  // The same, incrementally: invF(a, b) undoes f(a', b), so each slide costs the batches
  // entering and leaving. Like countByWindow, emits nothing until data arrives and then the
  // value kept for the window, even once all data has left (with (+, -): 0).
  template <class F, class G>
    requires std::invocable<G&, T, const T&>
  auto reduceByWindow(F f, G invF, Duration window, Duration slide) const {
    auto keyed = self().map([](const T& x) { return std::pair<int, T>(0, x); });
    return detail::inverseWindow(keyed, "reduceByWindow", std::move(f), std::move(invF), detail::KeepAll{}, window,
                                 slide, 1)
        .map([](const std::pair<int, T>& kv) { return kv.second; });
  }
  // Per key, the values in the window reduced with an associative f(V, V) -> V (Spark:
  // reduceByKey per batch, window of the reduced batches, reduceByKey again; the same
  // results). The reduced batches are merged in time order, but within a batch values meet
  // in any order, so f must also be commutative, as for reduceByKey. Each reduced batch is
  // merged about twice while in the window, whatever its length (window_nodes.h).
  template <class F>
    requires KeyValue<T>
  auto reduceByKeyAndWindow(F f, Duration window, std::optional<Duration> slide = std::nullopt,
                            std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                  "dstream: reduceByKeyAndWindow(f, ...): f must be callable as f(V, V) and return V");
    Duration s = slide.value_or(self().slideDuration());
    return detail::paneWindow(self(), "reduceByKeyAndWindow", std::move(f), window, s, numPartitions);
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
    return detail::inverseWindow(self(), "reduceByKeyAndWindow", std::move(f), std::move(invF),
                                 std::move(filterFunc), window, slide, numPartitions);
  }
  // Per key, all its values in the window (Spark: groupByKey per batch, window, merge).
  auto groupByKeyAndWindow(Duration window, std::optional<Duration> slide = std::nullopt,
                           std::size_t numPartitions = 0) const
    requires KeyValue<T>
  {
    using V = typename T::second_type;
    Duration s = slide.value_or(self().slideDuration());
    detail::validateWindow("groupByKeyAndWindow", window, s, self().slideDuration());
    auto grouped = detail::detachedKeys(self().groupByKey(numPartitions));
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
    auto ones = self().map([](const T& x) { return std::pair<T, long>(x, 1L); });
    return detail::inverseWindow(ones, "countByValueAndWindow", [](long a, long b) { return a + b; },
                                 [](long a, long b) { return a - b; },
                                 [](const std::pair<StoredKey<T>, long>& kv) { return kv.second != 0; }, window,
                                 slide, numPartitions);
  }

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace dstream
