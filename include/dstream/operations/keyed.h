// The keyed family (Spark's PairDStreamFunctions, per batch): operations on streams of
// std::pair<K, V> that group by key. The map side of an aggregation runs inside the fused
// narrow pass; numPartitions = 0 means the context's parallelism (N of local[N]).
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/nodes.h"
#include "dstream/operations/common.h"
#include "dstream/rdd.h"

namespace dstream {
namespace detail {

// Spark's combineByKey over `stream`'s fused pipeline, into numPartitions hash partitions.
template <class S, class Create, class MergeValue, class MergeCombiners>
auto combineByKey(const S& stream, std::string kind, Create create, MergeValue mergeValue,
                  MergeCombiners mergeCombiners, std::size_t numPartitions) {
  const auto& graph = stream.graph();
  graph->checkCanDefine(kind);
  using Node = CombineNode<typename S::SourceType, typename S::PipeType, Create, MergeValue, MergeCombiners>;
  if (numPartitions == 0) numPartitions = static_cast<std::size_t>(graph->defaultParallelism());
  return DStream<typename Node::Out>(
      graph, graph->template addNode<Node>(std::move(kind), stream.sourceNode(), stream.pipe(), std::move(create),
                                           std::move(mergeValue), std::move(mergeCombiners), numPartitions));
}

}  // namespace detail

template <class Self, class T>
class KeyedOperations {
 public:
  // Spark's combineByKey: create(v) -> C, mergeValue(C, v) -> C, mergeCombiners(C, C) -> C.
  template <class Create, class MergeValue, class MergeCombiners>
    requires KeyValue<T>
  auto combineByKey(Create create, MergeValue mergeValue, MergeCombiners mergeCombiners,
                    std::size_t numPartitions = 0) const {
    return detail::combineByKey(self(), "combineByKey", std::move(create), std::move(mergeValue),
                                std::move(mergeCombiners), numPartitions);
  }
  // Per batch, the values of each key reduced with f(V, V) -> V, associative and commutative
  // as Spark requires: the workers take the batch in slices, so which values meet first
  // varies from run to run.
  template <class F>
    requires KeyValue<T>
  auto reduceByKey(F f, std::size_t numPartitions = 0) const {
    using V = typename T::second_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<F&, V, const V&>, V>,
                  "dstream: reduceByKey(f): f must be callable as f(V, V) and return V");
    return detail::combineByKey(self(), "reduceByKey", [](const V& v) { return v; }, f, f, numPartitions);
  }
  // Per batch, (key, all its values).
  auto groupByKey(std::size_t numPartitions = 0) const
    requires KeyValue<T>
  {
    using V = typename T::second_type;
    return detail::combineByKey(
        self(), "groupByKey", [](const V& v) { return std::vector<V>{v}; },
        [](std::vector<V> c, const V& v) { c.push_back(v); return c; },
        [](std::vector<V> a, std::vector<V> b) {
          a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
          return a;
        },
        numPartitions);
  }
  // (element, number of occurrences) per batch; any element type, not only pairs.
  auto countByValue(std::size_t numPartitions = 0) const {
    auto pairs = self().map([](const T& x) { return std::pair<T, long>(x, 1L); });
    return pairs.reduceByKey([](long a, long b) { return a + b; }, numPartitions);
  }

  // ---- Joins of pair streams with the same key type, per batch (built on transformWith) ----
  template <class Other>
    requires KeyValue<T>
  auto cogroup(const Other& other, std::size_t n = 0) const {
    return self().transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.cogroup(b, n); }, "cogroup");
  }
  template <class Other>
    requires KeyValue<T>
  auto join(const Other& other, std::size_t n = 0) const {
    return self().transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.join(b, n); }, "join");
  }
  template <class Other>
    requires KeyValue<T>
  auto leftOuterJoin(const Other& other, std::size_t n = 0) const {
    return self().transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.leftOuterJoin(b, n); },
                                "leftOuterJoin");
  }
  template <class Other>
    requires KeyValue<T>
  auto rightOuterJoin(const Other& other, std::size_t n = 0) const {
    return self().transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.rightOuterJoin(b, n); },
                                "rightOuterJoin");
  }
  template <class Other>
    requires KeyValue<T>
  auto fullOuterJoin(const Other& other, std::size_t n = 0) const {
    return self().transformWith(other, [n](const RDD<T>& a, const auto& b) { return a.fullOuterJoin(b, n); },
                                "fullOuterJoin");
  }

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace dstream
