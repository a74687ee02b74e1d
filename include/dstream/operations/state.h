// The state family (Spark's updateStateByKey and mapWithState of PairDStreamFunctions): keyed
// state carried across batches, checkpointed with the context (doc/windows_and_state.md,
// doc/recovery.md). numPartitions = 0 means the context's parallelism.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/state_nodes.h"
#include "dstream/operations/common.h"
#include "dstream/rdd.h"
#include "dstream/state.h"

namespace dstream {

template <class M, class SK, class S>
class MapWithStateDStream;

namespace detail {

template <class S, class Stream, class F, class SK>
auto updateStateByKey(const Stream& stream, F f, std::size_t n, std::vector<std::pair<SK, S>> initial) {
  using T = typename Stream::value_type;
  using K = typename T::first_type;
  using V = typename T::second_type;
  static_assert(!std::is_void_v<S>,
                "dstream: updateStateByKey(f): cannot see the state type S; f must return std::optional<S>, "
                "or name it: updateStateByKey<S>(f)");
  static_assert(updateFormOf<F, StoredKey<K>, V, S>() != UpdateForm::kNone,
                "dstream: updateStateByKey(f): f must be callable as f(std::span<const V> newValues, "
                "std::optional<S> oldState) -> std::optional<S>, as f(Time, const K& key, std::span<const V>, "
                "std::optional<S>) -> std::optional<S>, or as f(std::vector<std::tuple<K, std::span<const V>, "
                "std::optional<S>>>) -> a range of std::pair<K, S> (K: std::string for std::string_view keys)");
  const auto& graph = stream.graph();
  graph->checkCanDefine("updateStateByKey");
  if (n == 0) n = static_cast<std::size_t>(graph->defaultParallelism());
  // The groupByKey node is defined for the graph's shape (checkpoints match nodes by
  // position and kind); the state node groups the stream's records itself (state_nodes.h).
  auto grouped = stream.groupByKey(n);
  using Node = UpdateStateNode<typename Stream::SourceType, typename Stream::PipeType, S, F>;
  return DStream<typename Node::Out>(graph, graph->template addNode<Node>(grouped.node(), stream.sourceNode(), stream.pipe(),
                                                                          std::move(f), n, std::move(initial)));
}

}  // namespace detail

template <class Self, class T>
class StateOperations {
 public:
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
    return detail::updateStateByKey<St>(self(), std::move(f), numPartitions,
                                        std::vector<std::pair<StoredKey<KeyOf<T>>, St>>{});
  }
  template <class S = void, class F, class IK, class IS>
    requires KeyValue<T>
  auto updateStateByKey(F f, std::size_t numPartitions, const RDD<std::pair<IK, IS>>& initialRDD) const {
    using St = std::conditional_t<std::is_void_v<S>, IS, S>;
    std::vector<std::pair<StoredKey<KeyOf<T>>, St>> initial;
    for (const auto& [k, s] : initialRDD.collect()) initial.emplace_back(StoredKey<KeyOf<T>>(k), St(s));
    return detail::updateStateByKey<St>(self(), std::move(f), numPartitions, std::move(initial));
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
    const auto& graph = parent.graph();
    graph->checkCanDefine("mapWithState");
    std::size_t n = spec.partitions() ? spec.partitions() : static_cast<std::size_t>(graph->defaultParallelism());
    std::vector<std::pair<SK, S>> initial;
    if constexpr (!std::is_void_v<IK>) {
      for (const auto& [k, s] : spec.initial().collect()) initial.emplace_back(SK(k), s);
    }
    using Node = detail::MapWithStateNode<K, typename T::second_type, S, F>;
    auto node = graph->template addNode<Node>(parent.node(), spec.function(), n, spec.timeoutDuration(), std::move(initial));
    std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots = node;
    return MapWithStateDStream<typename Node::M, SK, S>(graph, std::move(node), std::move(snapshots));
  }

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace dstream
