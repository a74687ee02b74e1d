// StreamingContext.addStreamingListener: the engine's StreamingListener calls a Python
// function (dstream.listener's dispatcher), which builds pyspark's events and calls the user's
// listener. Called on engine threads (the batch thread, start()'s caller, the loop's end):
// every call takes the GIL. A Python exception becomes a PythonError (its traceback the
// message), which the engine logs and skips, as it does for a C++ listener that throws.
#include "native.h"

namespace dstream_python {
namespace {

class PyListener final : public dstream::StreamingListener {
 public:
  explicit PyListener(std::shared_ptr<py::function> dispatch) : dispatch_(std::move(dispatch)) {}

  // pyspark has no onBatchSubmitted apart from the start here: the engine starts a batch when
  // it is due, so "submitted" is reported just before "started", without a start time.
  void onBatchStarted(const dstream::BatchInfo& info) override {
    dstream::BatchInfo submitted = info;
    submitted.processingStartTime.reset();
    call("batchSubmitted", submitted);
    call("batchStarted", info);
  }
  void onBatchCompleted(const dstream::BatchInfo& info) override { call("batchCompleted", info); }
  void onStreamingStarted(dstream::Time t) override {
    withGil([&] { (*dispatch_)("streamingStarted", dstream::toMillis(t)); });
  }

 private:
  void call(const char* event, const dstream::BatchInfo& info) {
    withGil([&] {
      auto ms = [](const std::optional<dstream::Time>& t) -> py::object {
        return t ? py::int_(dstream::toMillis(*t)) : py::object(py::none());
      };
      py::object failure = info.failureReason ? py::object(py::str(*info.failureReason)) : py::object(py::none());
      (*dispatch_)(event, py::make_tuple(dstream::toMillis(info.batchTime), dstream::toMillis(info.submissionTime),
                                         ms(info.processingStartTime), ms(info.processingEndTime),
                                         info.numInputRecords, info.numBadRecords, failure));
    });
  }

  std::shared_ptr<py::function> dispatch_;
};

}  // namespace

void bindListeners(py::class_<Context>& context) {
  // dispatch(event, payload): payload is the batch's (batchTime, submissionTime,
  // processingStartTime, processingEndTime, numRecords, numBadRecords, failureReason), times in
  // ms (None when not yet known), or the first batch's time for "streamingStarted".
  context.def("addStreamingListener", [](Context& c, py::function dispatch) {
    c.ssc().addStreamingListener(std::make_shared<PyListener>(share(std::move(dispatch))));
  });
}

}  // namespace dstream_python
