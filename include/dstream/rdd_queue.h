// RDDQueue<T> feeds queueStream(): tests and demos push batches into it, before or while
// the context runs (Spark's queueStream over a Queue[RDD[T]]).
//
// Thread-safety: push and size may be called from any thread.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "dstream/detail/input_node.h"
#include "dstream/detail/node.h"
#include "dstream/rdd.h"

namespace dstream {

template <class T>
class RDDQueue {
 public:
  // Adds one batch's elements, as one partition (or `numPartitions` nearly equal ones).
  void push(std::vector<T> elements, std::size_t numPartitions = 1) {
    push(RDD<T>::parallelize(std::move(elements), numPartitions));
  }
  void push(RDD<T> rdd) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(rdd));
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  // Takes the oldest batch (oneAtATime) or all queued batches merged into one.
  std::optional<RDD<T>> take(bool oneAtATime) {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return std::nullopt;
    RDD<T> first = std::move(queue_.front());
    queue_.pop_front();
    if (!oneAtATime) {
      while (!queue_.empty()) {
        first = first.union_(queue_.front());
        queue_.pop_front();
      }
    }
    return first;
  }

 private:
  mutable std::mutex mu_;
  std::deque<RDD<T>> queue_;  // guarded by mu_
};

namespace detail {

template <class T>
class QueueNode final : public SourceNode<T> {
 public:
  QueueNode(Graph* graph, std::shared_ptr<RDDQueue<T>> queue, bool oneAtATime,
            std::optional<RDD<T>> defaultRDD)
      : SourceNode<T>(graph, "queueStream"), queue_(std::move(queue)),
        oneAtATime_(oneAtATime), default_(std::move(defaultRDD)) {}

 protected:
  std::optional<RDD<T>> compute(Time) override {
    auto rdd = queue_->take(oneAtATime_);
    if (!rdd) rdd = default_ ? *default_ : RDD<T>();
    // Batches run on the context's workers whatever pool the user built them with.
    return makeRDD<T>(rdd->partitions(), rdd->owners(), this->graph().pool());
  }

 private:
  std::shared_ptr<RDDQueue<T>> queue_;
  bool oneAtATime_;
  std::optional<RDD<T>> default_;
};

}  // namespace detail
}  // namespace dstream
