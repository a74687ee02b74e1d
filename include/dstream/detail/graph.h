// The small interface that stream definitions and nodes see of a context: leveldb's DB to
// the engine's DBImpl (src/core/context_core.h). Templates in the public headers define
// nodes and outputs through it; threads, the batch loop, its history and the checkpoint
// manager stay behind it.
//
// Thread-safety: nodes and outputs are added on the user's thread before start(); the other
// calls are safe from any thread.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "dstream/clock.h"
#include "dstream/export.h"
#include "dstream/listener.h"
#include "dstream/log.h"
#include "dstream/options.h"
#include "dstream/time.h"

namespace dstream::detail {

class Node;
class ThreadPool;

struct OutputOperation {
  Node* node;
  std::string kind;               // "pprint", "foreachRDD", "saveAsTextFiles"...
  std::function<void(Time)> run;  // computes the node's batch and consumes it
};

class DSTREAM_EXPORT Graph {
 public:
  virtual ~Graph() = default;

  virtual Duration batchDuration() const = 0;
  virtual int defaultParallelism() const = 0;
  // The workers batches run on (local[N]).
  virtual const std::shared_ptr<ThreadPool>& pool() const = 0;
  virtual Clock& clock() const = 0;
  // The context's log sink; calls are serialised, so it may be used from any thread.
  virtual const LogSink& log() const = 0;

  // Throws Error(kFailedPrecondition) naming `operation` once the context has started.
  virtual void checkCanDefine(std::string_view operation) const = 0;
  // Whether start() has been called (the streams have their time grid).
  virtual bool started() const = 0;
  // True on the thread that runs the batches (inside output operations and transforms).
  virtual bool onBatchThread() const = 0;

  // Adds a node of type N, built as N(this, args...), to the graph. REQUIRES: not started.
  template <class N, class... Args>
  std::shared_ptr<N> addNode(Args&&... args) {
    auto node = std::make_shared<N>(this, std::forward<Args>(args)...);
    registerNode(node);
    return node;
  }
  // Adds an output operation. REQUIRES: not started.
  virtual void addOutput(OutputOperation output) = 0;

  // A source failed for good (Spark's reportError): the context stops, not gracefully, and
  // awaitTermination() rethrows `error`. Does not wait; safe from a receiver thread.
  virtual void reportError(std::exception_ptr error) = 0;

  // Adds a listener, as StreamingContext::addStreamingListener does; sources use it for
  // their rate control.
  virtual void addListener(std::shared_ptr<StreamingListener> listener) = 0;
  // The context's backpressure settings (options.h), for the sources' rate control.
  virtual const BackpressureOptions& backpressure() const = 0;

 protected:
  virtual void registerNode(std::shared_ptr<Node> node) = 0;
};

}  // namespace dstream::detail
