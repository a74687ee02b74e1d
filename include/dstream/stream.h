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
// The operations come in families, each in its own header under operations/: narrow.h,
// keyed.h, window.h, state.h and output.h. DStreamApi<Self, T> gathers them for both
// handle types. All keep Spark's names and semantics. Defining an operation after the
// context has started throws Error(kFailedPrecondition).
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "dstream/detail/graph.h"
#include "dstream/detail/nodes.h"
#include "dstream/detail/pipeline.h"
#include "dstream/detail/state_nodes.h"
#include "dstream/error.h"
#include "dstream/operations/common.h"
#include "dstream/operations/keyed.h"
#include "dstream/operations/narrow.h"
#include "dstream/operations/output.h"
#include "dstream/operations/state.h"
#include "dstream/operations/window.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {

// The stream API: every operation of every family, for DStream<T> and NarrowStream.
template <class Self, class T>
class DStreamApi : public NarrowOperations<Self, T>,
                   public KeyedOperations<Self, T>,
                   public WindowOperations<Self, T>,
                   public StateOperations<Self, T>,
                   public OutputOperations<Self, T> {
 public:
  using value_type = T;
};

template <class T>
class DStream : public DStreamApi<DStream<T>, T> {
 public:
  using SourceType = T;
  using PipeType = detail::IdentityStage;

  DStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<detail::TypedNode<T>> node)
      : graph_(std::move(graph)), node_(std::move(node)) {}

  const std::shared_ptr<detail::TypedNode<T>>& node() const { return node_; }
  const std::shared_ptr<detail::Graph>& graph() const { return graph_; }
  const DStream& toDStream() const { return *this; }
  const std::shared_ptr<detail::TypedNode<T>>& sourceNode() const { return node_; }
  detail::IdentityStage pipe() const { return {}; }

  // A narrow step appended to this stream: the start of a fused pipeline.
  template <class Stage>
  NarrowStream<T, Stage> extend(Stage stage) const {
    graph_->checkCanDefine(Stage::name());
    return NarrowStream<T, Stage>(graph_, node_, std::move(stage));
  }

  // Spark's DStream.slice(fromTime, toTime): this stream's batches at its batch times in
  // [from, to], both ends included, oldest first; ends off the stream's time grid are rounded
  // down onto it, as Spark does. Inside an output operation or a transform function (on the
  // batch thread) a missing batch is computed, as in Spark. From any other thread (or after
  // stop()) only the batches the stream still remembers are returned: a stream forgets a
  // batch once no operation needs it; ssc.remember(d) keeps every batch for at least d.
  // Throws Error(kFailedPrecondition) before start(): the stream has no time grid yet.
  std::vector<RDD<T>> slice(Time from, Time to) const {
    if (!graph_->started()) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "slice: the stream has not been initialized; call slice after start()");
    }
    const Duration step = node_->slideDuration();
    const Time zero = node_->zeroTime();
    auto floorOnGrid = [&](Time x) { return zero + (floorTo(Time(x - zero), step) - Time{}); };
    const bool compute = graph_->onBatchThread();
    std::vector<RDD<T>> out;
    for (Time x = floorOnGrid(from), end = floorOnGrid(to); x <= end; x += step) {
      if (x <= zero) continue;  // no batch at or before the zero time
      auto rdd = compute ? node_->getOrCompute(x) : node_->remembered(x);
      if (rdd) out.push_back(std::move(*rdd));
    }
    return out;
  }

 private:
  std::shared_ptr<detail::Graph> graph_;
  std::shared_ptr<detail::TypedNode<T>> node_;
};

template <class In, class Pipe>
class NarrowStream : public DStreamApi<NarrowStream<In, Pipe>, detail::PipeOut<Pipe, In>> {
 public:
  using T = detail::PipeOut<Pipe, In>;
  using SourceType = In;
  using PipeType = Pipe;

  NarrowStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<detail::TypedNode<In>> source, Pipe pipe)
      : graph_(std::move(graph)), source_(std::move(source)), pipe_(std::move(pipe)),
        materialized_(std::make_shared<std::shared_ptr<detail::TypedNode<T>>>()) {}

  // The pipeline as a graph node, made once and shared by every copy of this handle.
  DStream<T> toDStream() const {
    if (!*materialized_) {
      graph_->checkCanDefine(Pipe::name());
      *materialized_ = graph_->template addNode<detail::PipelineNode<In, Pipe>>(source_, pipe_);
    }
    return DStream<T>(graph_, *materialized_);
  }
  operator DStream<T>() const { return toDStream(); }

  const std::shared_ptr<detail::Graph>& graph() const { return graph_; }
  const std::shared_ptr<detail::TypedNode<In>>& sourceNode() const { return source_; }
  const Pipe& pipe() const { return pipe_; }

  template <class Stage>
  auto extend(Stage stage) const {
    graph_->checkCanDefine(Stage::name());
    auto combined = detail::then(pipe_, std::move(stage));
    return NarrowStream<In, decltype(combined)>(graph_, source_, std::move(combined));
  }

 private:
  std::shared_ptr<detail::Graph> graph_;
  std::shared_ptr<detail::TypedNode<In>> source_;
  Pipe pipe_;
  std::shared_ptr<std::shared_ptr<detail::TypedNode<T>>> materialized_;
};

// What mapWithState returns: the stream of mapped values, plus stateSnapshots().
template <class M, class SK, class S>
class MapWithStateDStream : public DStream<M> {
 public:
  MapWithStateDStream(std::shared_ptr<detail::Graph> graph, std::shared_ptr<detail::TypedNode<M>> node,
                      std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots)
      : DStream<M>(std::move(graph), std::move(node)), snapshots_(std::move(snapshots)) {}

  // Every batch, (key, state) for every key, after the batch's updates and timeouts.
  // Throws Error(kFailedPrecondition) after start(). Costs a copy of the whole state per batch.
  DStream<std::pair<SK, S>> stateSnapshots() const {
    auto node = this->node();
    auto snapshots = snapshots_;
    return detail::addTransform<std::pair<SK, S>>(
        this->graph(), "stateSnapshots", {node}, [node, snapshots](Time t) -> std::optional<RDD<std::pair<SK, S>>> {
          if (!node->getOrCompute(t)) return std::nullopt;
          return snapshots->snapshot();
        });
  }

 private:
  std::shared_ptr<detail::SnapshotSource<SK, S>> snapshots_;
};

}  // namespace dstream
