// The narrow family (Spark's DStream basics): element-wise steps fused into one pass (map,
// flatMap, filter, mapValues, flatMapValues), count, functions of whole batches (reduce,
// mapPartitions, glom, repartition, transform, transformWith, union_), and persistence and
// identity (cache, uid, checkpoint).
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/nodes.h"
#include "dstream/detail/pipeline.h"
#include "dstream/error.h"
#include "dstream/operations/common.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {

template <class Self, class T>
class NarrowOperations {
 public:
  // ---- Element-wise: fused into one pass ----

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

  // One element per batch: the number of elements (0 for an empty batch). Counts inside the
  // fused pass, without materialising the elements.
  auto count() const {
    const Self& s = self();
    s.graph()->checkCanDefine("count");
    using Node = detail::CountNode<typename Self::SourceType, typename Self::PipeType>;
    return DStream<long>(s.graph(), s.graph()->template addNode<Node>(s.sourceNode(), s.pipe()));
  }

  // ---- Functions of whole batches ----

  // The batch's elements reduced with an associative f(T, T) -> T; an empty batch stays empty.
  template <class F>
  auto reduce(F f) const {
    return detail::perBatch(self(), [f](const RDD<T>& rdd) {
      auto r = rdd.reduce(f);
      return RDD<T>::fromPartitions(r ? std::vector<std::vector<T>>{{*r}} : std::vector<std::vector<T>>{{}}, rdd.pool());
    }, "reduce");
  }
  // f(std::span<const T>) -> range, once per partition.
  template <class F>
  auto mapPartitions(F f) const {
    return detail::perBatch(self(), [f](const RDD<T>& rdd) { return rdd.mapPartitions(f); }, "mapPartitions");
  }
  // One element per partition: the partition's elements as a vector.
  auto glom() const {
    return detail::perBatch(self(), [](const RDD<T>& rdd) { return rdd.glom(); }, "glom");
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
    return detail::addTransform<T>(a.graph(), "union_", {na, nb}, [na, nb](Time t) -> std::optional<RDD<T>> {
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
    return detail::addTransform<U>(self().graph(), kind, {parent}, [parent, f, kind](Time t) mutable -> std::optional<RDD<U>> {
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
    return detail::addTransform<V>(self().graph(), kind, {a, b}, [a, b, f, kind](Time t) mutable -> std::optional<RDD<V>> {
      return detail::invokeWithOptionalTime(f, t, detail::requireBatch(*a, t, kind), detail::requireBatch(*b, t, kind));
    });
  }

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
  // interval any stream asks for (default: max(batch, 1s)). Without ssc.checkpoint(dir) it
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

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

}  // namespace dstream
