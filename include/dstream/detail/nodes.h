// The node kinds behind the stream operations. Each is a template on the user's callable,
// stored by value and called directly in the per-record loop; the engine sees only Node.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "dstream/detail/node.h"
#include "dstream/detail/pipeline.h"
#include "dstream/detail/shuffle.h"
#include "dstream/rdd.h"

namespace dstream::detail {

// A fused chain of narrow operations (map, flatMap, filter, mapValues...) over one parent.
template <class In, class Pipe>
class PipelineNode final : public TypedNode<PipeOut<Pipe, In>> {
 public:
  using Out = PipeOut<Pipe, In>;
  PipelineNode(Graph* c, std::shared_ptr<TypedNode<In>> parent, Pipe pipe)
      : TypedNode<Out>(c, Pipe::name(), {parent.get()}, parent->slideDuration()),
        parent_(std::move(parent)), pipe_(std::move(pipe)) {}

 protected:
  std::optional<RDD<Out>> compute(Time t) override {
    auto in = parent_->getOrCompute(t);
    if (!in) return std::nullopt;
    return makeRDD<Out>(runPipe(in->pool().get(), in->partitions(), pipe_), in->owners(), in->pool());
  }

 private:
  std::shared_ptr<TypedNode<In>> parent_;
  Pipe pipe_;
};

// count(): the number of elements the pipeline emits, as a one-element batch (0 when empty).
template <class In, class Pipe>
class CountNode final : public TypedNode<long> {
 public:
  CountNode(Graph* c, std::shared_ptr<TypedNode<In>> parent, Pipe pipe)
      : TypedNode<long>(c, "count", {parent.get()}, parent->slideDuration()),
        parent_(std::move(parent)), pipe_(std::move(pipe)) {}

 protected:
  std::optional<RDD<long>> compute(Time t) override {
    auto in = parent_->getOrCompute(t);
    if (!in) return std::nullopt;
    long n = countPipe(in->pool().get(), in->partitions(), pipe_);
    return RDD<long>::fromPartitions({{n}}, in->pool());
  }

 private:
  std::shared_ptr<TypedNode<In>> parent_;
  Pipe pipe_;
};

// combineByKey (and reduceByKey, groupByKey, countByValue): the map-side combine runs inside
// the parent pipeline's loop, so records go straight from the source into the hash maps.
template <class In, class Pipe, class Create, class MergeValue, class MergeCombiners>
class CombineNode final
    : public TypedNode<std::pair<typename PipeOut<Pipe, In>::first_type,
                                 std::decay_t<std::invoke_result_t<
                                     Create&, const typename PipeOut<Pipe, In>::second_type&>>>> {
 public:
  using K = typename PipeOut<Pipe, In>::first_type;
  using C = std::decay_t<std::invoke_result_t<Create&, const typename PipeOut<Pipe, In>::second_type&>>;
  using Out = std::pair<K, C>;
  CombineNode(Graph* c, std::string kind, std::shared_ptr<TypedNode<In>> parent, Pipe pipe,
              Create create, MergeValue mergeValue, MergeCombiners mergeCombiners,
              std::size_t numPartitions)
      : TypedNode<Out>(c, std::move(kind), {parent.get()}, parent->slideDuration()),
        parent_(std::move(parent)), pipe_(std::move(pipe)), create_(std::move(create)),
        mergeValue_(std::move(mergeValue)), mergeCombiners_(std::move(mergeCombiners)),
        numPartitions_(numPartitions) {}

 protected:
  std::optional<RDD<Out>> compute(Time t) override {
    auto in = parent_->getOrCompute(t);
    if (!in) return std::nullopt;
    auto combined = combineByKey(in->pool().get(), in->partitions(), pipe_, create_, mergeValue_,
                                 mergeCombiners_, numPartitions_, &tableSizes_);
    Owners owners = in->owners();
    appendOwners(owners, combined.packedKeys);
    return makeRDD<Out>(std::move(combined.partitions), std::move(owners), in->pool());
  }

 private:
  std::shared_ptr<TypedNode<In>> parent_;
  Pipe pipe_;
  Create create_;
  MergeValue mergeValue_;
  MergeCombiners mergeCombiners_;
  std::size_t numPartitions_;
  std::vector<std::size_t> tableSizes_;  // the previous batch's map-side table sizes; compute() only
};

// Any per-batch function of one or more parents' batches (transform, union, join, glom...).
// The std::function is called once per batch, never per record.
template <class T>
class TransformNode final : public TypedNode<T> {
 public:
  using Fn = std::function<std::optional<RDD<T>>(Time)>;
  TransformNode(Graph* c, std::string kind, std::vector<std::shared_ptr<Node>> parents, Fn fn)
      : TypedNode<T>(c, std::move(kind), rawPointers(parents), parents.front()->slideDuration()),
        keepAlive_(std::move(parents)), fn_(std::move(fn)) {}

 protected:
  std::optional<RDD<T>> compute(Time t) override { return fn_(t); }

 private:
  static std::vector<Node*> rawPointers(const std::vector<std::shared_ptr<Node>>& ps) {
    std::vector<Node*> raw;
    for (auto& p : ps) raw.push_back(p.get());
    return raw;
  }
  std::vector<std::shared_ptr<Node>> keepAlive_;
  Fn fn_;
};

// window(W, S): at a slide time t, the union of the parent's batches in (t - W, t].
//
//   parent batches:  |  1  |  2  |  3  |  4  |  5  |
//   window W=3, S=1:             [  1  2  3  ]        at t = 3
//                                      [  2  3  4  ]  at t = 4
template <class T>
class WindowNode final : public TypedNode<T> {
 public:
  WindowNode(Graph* c, std::shared_ptr<TypedNode<T>> parent, Duration window, Duration slide)
      : TypedNode<T>(c, "window", {parent.get()}, slide), parent_(std::move(parent)), window_(window) {}

  void rememberAtLeast(Duration d) override {
    this->remember_ = std::max(this->remember_, d);
    parent_->rememberAtLeast(this->remember_ + window_);
  }

 protected:
  std::optional<RDD<T>> compute(Time t) override {
    // The window shares its batches' partitions: one list of pointers, no element copied.
    Partitions<T> parts;
    Owners owners;
    Duration step = parent_->slideDuration();
    for (Time s = t - window_ + step; s <= t; s += step) {
      if (s <= parent_->zeroTime()) continue;  // before the first batch: a partial window
      if (auto rdd = parent_->getOrCompute(s)) {
        parts.insert(parts.end(), rdd->partitions().begin(), rdd->partitions().end());
        appendOwners(owners, rdd->owners());
      }
    }
    return makeRDD<T>(std::move(parts), std::move(owners), this->graph().pool());
  }

 private:
  std::shared_ptr<TypedNode<T>> parent_;
  Duration window_;
};

}  // namespace dstream::detail
