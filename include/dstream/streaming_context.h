// StreamingContext is the entry point, as in Spark: it owns the graph of streams, the
// worker threads and the batch loop. Define streams, call start(), then
// awaitTermination(). Batches run one at a time in time order; the partitions of a batch
// run in parallel on the workers ("local[N]").
//
//   dstream::StreamingContext ssc("local[2]", dstream::Seconds(1));
//   auto lines = ssc.textFileStream("/tmp/datastreams");
//   lines.map([](std::string_view w) { return toUpper(w); }).pprint();
//   ssc.start();
//   ssc.awaitTermination();
//
// Thread-safety: define streams from one thread, before start(). start, stop, the await
// calls and addStreamingListener may be made from any thread, concurrently; stop() may be
// called from inside an output operation or a listener (it then returns at once and the
// context stops after the running batch).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/clock.h"
#include "dstream/detail/graph.h"
#include "dstream/error.h"
#include "dstream/export.h"
#include "dstream/listener.h"
#include "dstream/log.h"
#include "dstream/options.h"
#include "dstream/rdd_queue.h"
#include "dstream/stream.h"
#include "dstream/time.h"

namespace dstream {

namespace detail {
class ContextCore;
struct EngineAccess;
}  // namespace detail

class DSTREAM_EXPORT StreamingContext {
 public:
  // master: "local" (1 worker), "local[N]" or "local[*]" (all hardware threads).
  // Throws Error(kInvalidArgument) for any other master or a batch duration <= 0.
  StreamingContext(std::string_view master, Duration batchDuration, ContextOptions options = {});
  ~StreamingContext();  // stops the context (not gracefully) if it is running
  StreamingContext(const StreamingContext&) = delete;
  StreamingContext& operator=(const StreamingContext&) = delete;

  // ---- Sources ----

  // The lines of text files that appear in `directory` (a path or file:// URI) while the
  // context runs, as Spark's textFileStream: files must appear atomically (moved or renamed
  // in); names starting with '.' or ending in "._COPYING_" and subdirectories are ignored.
  // Lines are views into batch-owned buffers (see rdd.h).
  // Throws Error(kInvalidArgument) for another URI scheme; a missing directory is reported
  // by start() (Error(kNotFound)).
  DStream<std::string_view> textFileStream(const std::string& directory, FileStreamOptions options = {});

  // Spark's binaryRecordsStream: the files that appear in `directory`, as textFileStream
  // watches it, cut into records of exactly `recordLength` bytes, in file order; each record
  // is a view of recordLength bytes (any bytes: '\n' and '\0' are data) into a batch-owned
  // buffer. A file whose size is not a multiple of recordLength yields its whole records; the
  // bytes left over are counted as one bad record naming the file, the byte offset and the
  // byte count (Spark hands out such a record padded with stale bytes). An empty file yields
  // nothing. Throws Error(kInvalidArgument) naming recordLength when it is not positive, and
  // as textFileStream for the directory.
  DStream<std::string_view> binaryRecordsStream(const std::string& directory, int recordLength,
                                                FileStreamOptions options = {});

  // The lines read from a TCP server at host:port, received on a thread of their own (the
  // workers stay free: local[1] works). Lines received in [t - batch, t) form batch t.
  // A refused or lost connection is logged and retried every options.retryInterval.
  DStream<std::string_view> socketTextStream(const std::string& host, int port,
                                             SocketStreamOptions options = {});

  // Batches pushed into `queue`: one per batch interval (oneAtATime) or all queued at once;
  // `defaultRDD` (or an empty batch) when the queue is empty.
  template <class T>
  DStream<T> queueStream(std::shared_ptr<RDDQueue<T>> queue, bool oneAtATime = true,
                         std::optional<std::type_identity_t<RDD<T>>> defaultRDD = std::nullopt) {
    graph_->checkCanDefine("queueStream");
    return DStream<T>(graph_, graph_->addNode<detail::QueueNode<T>>(std::move(queue), oneAtATime, std::move(defaultRDD)));
  }

  // Spark's ssc.union (a C++ keyword): the elements of all the streams in each batch.
  // REQUIRES: at least one stream, all with the same slide duration.
  template <class T>
  DStream<T> union_(const std::vector<DStream<T>>& streams) {
    if (streams.empty()) throw Error(ErrorCode::kInvalidArgument, "union_: needs at least one stream");
    DStream<T> all = streams.front();
    for (std::size_t i = 1; i < streams.size(); ++i) all = all.union_(streams[i]);
    return all;
  }
  // Spark's ssc.transform over several streams: f(RDD<A>, RDD<B>, ..., [Time]) -> RDD<U>.
  // REQUIRES: the same slide duration; a batch fails if a stream yields no batch (as union_).
  template <class F, class... S>
  auto transform(F f, const S&... streams) {
    auto nodes = std::make_tuple(streams.toDStream().node()...);
    using R = detail::ResultWithOptionalTime<F, const RDD<typename S::value_type>&...>;
    using U = typename R::value_type;
    graph_->checkCanDefine("transform");
    std::vector<std::shared_ptr<detail::Node>> parents{streams.toDStream().node()...};
    for (auto& p : parents) detail::validateSameSlide("transform", parents.front()->slideDuration(), p->slideDuration());
    return DStream<U>(graph_, graph_->addNode<detail::TransformNode<U>>(
        "transform", std::move(parents), [nodes, f](Time t) mutable -> std::optional<RDD<U>> {
          return std::apply([&](auto&... n) {
            return detail::invokeWithOptionalTime(f, t, detail::requireBatch(*n, t, "transform")...);
          }, nodes);
        }));
  }

  // ---- Checkpoints and recovery (doc/recovery.md) ----

  // Checkpoints the context to `directory` (a local path or file:// URI, created if
  // missing) after every batch, so that getOrCreate() can recover it after a crash.
  // Throws Error(kInvalidArgument) for another URI scheme or a path under a regular file,
  // Error(kFailedPrecondition) when the directory cannot be created or written, or after
  // start(). Messages name the directory.
  void checkpoint(const std::string& directory);
  // How often the states of stateful streams are written (every checkpoint records the
  // batch times and inputs). Default max(batch, 1s) rounded up to a multiple of the batch
  // (Spark's is 10s; see doc/recovery.md). Shorter: less to re-run after a crash, more
  // state written. Throws
  // Error(kInvalidArgument) unless a positive multiple of the batch duration,
  // Error(kFailedPrecondition) before checkpoint() or after start().
  void setStateCheckpointInterval(Duration interval);
  // Spark's ssc.remember: every stream keeps the batches of the last `duration` (at least),
  // so that DStream::slice() can read them from outside the batch loop. Throws
  // Error(kInvalidArgument) unless positive, Error(kFailedPrecondition) if set twice or after start().
  void remember(Duration duration);

  // Spark's StreamingContext.getOrCreate: calls setup() to build the context and its graph
  // (always: C++ cannot serialise closures), makes sure it checkpoints to `directory`, and
  // if the directory holds a usable checkpoint, marks the context to resume from it at
  // start(). An empty or missing directory means a fresh start. Damaged checkpoint files
  // are skipped with a warning to the log sink naming them. start() then throws
  // Error(kFailedPrecondition) if the graph no longer matches the checkpoint (a stream with
  // state or a source is missing). Throws what setup() and checkpoint() throw, and
  // Error(kInvalidArgument) when setup() returns null or checkpoints elsewhere.
  static std::unique_ptr<StreamingContext> getOrCreate(const std::string& directory,
                                                       const std::function<std::unique_ptr<StreamingContext>()>& setup);
  // Whether start() will resume from a checkpoint (set by getOrCreate).
  bool isRecovering() const { return recovering_; }

  // ---- Lifecycle ----

  // Starts the sources and the batch loop. Throws Error(kFailedPrecondition) when called
  // twice or when no output operation was defined; Error(kNotFound) for a missing watched
  // directory.
  void start();
  // Stops the sources and the batch loop and waits for them. Not graceful: at most the
  // running batch finishes, even when the loop is behind (overdue batches are dropped).
  // Graceful: the sources stop first, then every batch up to the current time runs, so all
  // received data is processed. A non-graceful stop() during a graceful one cuts it short;
  // other repeated calls just wait. From inside an output operation or a listener it
  // returns at once, and the context stops after the running batch.
  void stop(bool stopGracefully = false);
  // Waits for the context to stop. If a batch failed (a user function threw), rethrows that
  // failure as Error(kInternal) naming the batch time; if a source failed for good (a
  // receiver could not write its write-ahead log), rethrows that error, naming the source.
  void awaitTermination();
  // Like awaitTermination, for at most `timeout`; returns true when the context stopped.
  bool awaitTerminationOrTimeout(Duration timeout);

  enum class State { kInitialized, kActive, kStopped };
  State getState() const;

  // Reports each batch's metrics to `listener` (see listener.h).
  void addStreamingListener(std::shared_ptr<StreamingListener> listener);

  // The Streaming UI's address, e.g. "http://127.0.0.1:4040" (Spark's sc.uiWebUrl): the UI
  // serves the Streaming tab, Spark's REST API for streaming (/api/v1/...) and Prometheus
  // metrics (/metrics) from start() until stop() (doc/monitoring.md).
  // nullopt before start(), after stop(), when ContextOptions::ui.enabled is false or when no
  // port was free. The constructor throws Error(kInvalidArgument) for bad ui options.
  std::optional<std::string> uiWebUrl() const;

  Duration batchDuration() const { return graph_->batchDuration(); }
  int defaultParallelism() const { return graph_->defaultParallelism(); }
  Clock& clock() const { return graph_->clock(); }

  // The graph's interface (detail/graph.h), for extensions that define nodes of their own:
  // DStream<T>(ssc.graph(), ssc.graph()->addNode<MyNode>(...)). Not the engine.
  const std::shared_ptr<detail::Graph>& graph() const { return graph_; }

 private:
  friend struct detail::EngineAccess;  // the engine's own code and dstream::testing

  std::shared_ptr<detail::ContextCore> core_;  // the engine; the same object as graph_
  std::shared_ptr<detail::Graph> graph_;
  bool recovering_ = false;
};

// Parses "local", "local[N]", "local[*]" into a worker count. Throws Error(kInvalidArgument).
int parseMaster(std::string_view master);

}  // namespace dstream
