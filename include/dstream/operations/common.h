// What the operation families (narrow.h, keyed.h, window.h, state.h, output.h) share: the
// stream handle types they return and the few helpers that add a node to the graph. Each
// family is a CRTP mixin over Self (DStream<T> or NarrowStream<In, Pipe>, see stream.h), as
// Spark splits DStream and PairDStreamFunctions; a family reaches the others through self().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "dstream/detail/graph.h"
#include "dstream/detail/node.h"
#include "dstream/detail/nodes.h"
#include "dstream/export.h"
#include "dstream/rdd.h"
#include "dstream/time.h"

namespace dstream {

template <class T>
class DStream;
template <class In, class Pipe>
class NarrowStream;

namespace detail {

// Throws Error(kInvalidArgument) unless both streams slide alike (union_, transformWith, joins).
DSTREAM_EXPORT void validateSameSlide(std::string_view operation, Duration a, Duration b);
// Throws Error(kInternal): `operation` needs a batch of `parent` at `t` and it has none.
[[noreturn]] DSTREAM_EXPORT void throwNoBatch(const Node& parent, Time t, std::string_view operation);

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

// A stream computed by `fn` from whole batches of `parents` (transform, union_, joins...).
template <class U>
DStream<U> addTransform(const std::shared_ptr<Graph>& graph, std::string kind,
                        std::vector<std::shared_ptr<Node>> parents, typename TransformNode<U>::Fn fn) {
  graph->checkCanDefine(kind);
  return DStream<U>(graph, graph->addNode<TransformNode<U>>(kind, std::move(parents), std::move(fn)));
}

// f(RDD<T>) once per batch `stream` has; no batch in, no batch out (Spark's glom,
// mapPartitions and reduce pass a parent's missing batch on, unlike transform).
template <class S, class F>
auto perBatch(const S& stream, F f, std::string kind) {
  using T = typename S::value_type;
  using U = typename std::invoke_result_t<F&, const RDD<T>&>::value_type;
  auto parent = stream.toDStream().node();
  return addTransform<U>(stream.graph(), std::move(kind), {parent},
                         [parent, f](Time t) mutable -> std::optional<RDD<U>> {
                           auto rdd = parent->getOrCompute(t);
                           if (!rdd) return std::nullopt;
                           return f(*rdd);
                         });
}

}  // namespace detail
}  // namespace dstream
