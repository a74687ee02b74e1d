// Sources in the graph. A source is a typed node with an InputNode side: the engine starts
// and stops it, computes its batch first in every batch (so that the batch's input count is
// known before any output runs) and asks it to record and replay its inputs for recovery.
// SourceNode<T> is what a source derives from; the graph finds sources through
// Node::asSource(), without casts.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "dstream/detail/node.h"
#include "dstream/listener.h"
#include "dstream/time.h"

namespace dstream::detail {

// Sources: started before the first batch, stopped first on stop().
class InputNode {
 public:
  virtual ~InputNode() = default;
  virtual void startInput() {}
  virtual void stopInput() {}
  // The records this source put into batch `t`, which the engine has computed already;
  // 0 when the batch is not (or no longer) remembered. Never computes.
  virtual long recordsIn(Time t) const = 0;
  // The input stream's id: its position among the context's sources (StreamInputInfo).
  int inputStreamId() const { return inputStreamId_; }
  void setInputStreamId(int id) { inputStreamId_ = id; }
  // How the UI and the listeners name this input ("socketTextStream localhost:9999").
  virtual std::string inputName() const = 0;
  // A receiver's state now (the socket source); nullopt for sources without a receiver.
  // Safe from any thread.
  virtual std::optional<ReceiverInfo> receiverInfo() const { return std::nullopt; }

  // Checkpoint hooks (doc/recovery.md), called on the batch thread. A source that cannot be
  // replayed (queueStream) keeps the defaults: it writes nothing and restarts empty. The
  // sources in src/sources/ implement them with a ReplayLog (src/sources/replay_log.h) of
  // what each batch read.
  //
  // Called by start() before startInput(). `checkpointDir` is empty without ssc.checkpoint();
  // inputs of the batches of the last `keepFor` must stay readable. Throws Error to refuse
  // (a write-ahead log without a checkpoint directory).
  virtual void prepareCheckpointing(const std::filesystem::path& /*checkpointDir*/, Duration /*keepFor*/) {}
  // Writes what the batches in (after, upTo] read, so that recovery can read it again.
  virtual void writeInputs(BinaryWriter& /*w*/, Time /*after*/, Time /*upTo*/) const {}
  // Reads what writeInputs wrote: batches up to `upTo` then re-read those inputs, later ones
  // read new data. Called after prepareCheckpointing, before startInput(). Throws
  // Error(kDataLoss) for malformed bytes.
  virtual void readInputs(BinaryReader& /*r*/, Time /*upTo*/) {}
  // No batch before `oldest` will be re-read: logs of them may go.
  virtual void forgetInputsBefore(Time /*oldest*/) {}

 private:
  int inputStreamId_ = -1;  // set when the context registers the source
};

// The base of every source of elements T: a node with no parents that slides with the batch.
template <class T>
class SourceNode : public TypedNode<T>, public InputNode {
 public:
  SourceNode(Graph* graph, std::string kind) : TypedNode<T>(graph, std::move(kind), {}, graph->batchDuration()) {}

  InputNode* asSource() final { return this; }
  long recordsIn(Time t) const final {
    auto rdd = this->remembered(t);
    return rdd ? rdd->count() : 0;
  }
  std::string inputName() const override { return this->kind(); }
};

}  // namespace dstream::detail
