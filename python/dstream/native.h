// What the native module's files share: PyBlock (a Python object as an engine element), the
// GIL helpers, conversions between engine RDDs and Python lists of partitions, and Context
// (the engine's StreamingContext as Python holds it). Uses only the public API.
#pragma once

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/dstream.h"

namespace py = pybind11;

namespace dstream_python {

// An owned reference to a Python object that may be copied and destroyed on engine threads:
// the reference count is changed under the GIL (PyGILState_Ensure is re-entrant).
class PyBlock {
 public:
  PyBlock() = default;
  explicit PyBlock(py::object o) : obj_(o.release().ptr()) {}
  PyBlock(const PyBlock& other) : obj_(other.obj_) {
    if (obj_ != nullptr) {
      PyGILState_STATE s = PyGILState_Ensure();
      Py_INCREF(obj_);
      PyGILState_Release(s);
    }
  }
  PyBlock(PyBlock&& other) noexcept : obj_(std::exchange(other.obj_, nullptr)) {}
  PyBlock& operator=(PyBlock other) noexcept {
    std::swap(obj_, other.obj_);
    return *this;
  }
  ~PyBlock() {
    // After interpreter shutdown the object is gone with the interpreter: leak the pointer.
    if (obj_ != nullptr && Py_IsInitialized()) {
      PyGILState_STATE s = PyGILState_Ensure();
      Py_DECREF(obj_);
      PyGILState_Release(s);
    }
  }
  // REQUIRES: the GIL is held.
  py::object get() const { return obj_ ? py::reinterpret_borrow<py::object>(obj_) : py::list(); }

 private:
  PyObject* obj_ = nullptr;
};

using Stream = dstream::DStream<PyBlock>;

// A Python function held by engine nodes, which may be destroyed on any thread: the last
// reference is dropped under the GIL.
inline std::shared_ptr<py::function> share(py::function f) {
  return std::shared_ptr<py::function>(new py::function(std::move(f)), [](py::function* p) {
    if (!Py_IsInitialized()) return;  // the interpreter is gone: leak
    PyGILState_STATE s = PyGILState_Ensure();
    delete p;
    PyGILState_Release(s);
  });
}
using Rdd = dstream::RDD<PyBlock>;

// A Python function raised: its traceback text (formatted by the package's wrapper) is the message.
struct PythonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs f under the GIL; a Python exception becomes a PythonError carrying its traceback as
// Python prints it, so that nothing Python-owned crosses to the engine's threads.
template <class F>
auto withGil(F&& f) {
  py::gil_scoped_acquire gil;
  try {
    return f();
  } catch (py::error_already_set& e) {
    std::string text;
    try {
      py::object lines = py::module_::import("traceback").attr("format_exception")(e.type(), e.value(), e.trace());
      text = py::str("").attr("join")(lines).cast<std::string>();
    } catch (const std::exception&) {
      text = e.what();
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    throw PythonError(text);
  }
}

// withGil for a task on the engine's pool (one partition's Python work). Such tasks take turns
// before the GIL, not at it: two threads that both run Python hand the GIL over every switch
// interval (5 ms), and on a busy machine each handover waits for the other thread to be
// scheduled, which cost local[2] a third of local[1]'s speed. A thread that already holds the
// GIL never waits for the turn, so the turn cannot deadlock with the GIL.
inline std::mutex& pythonTurn() {
  static std::mutex turn;
  return turn;
}
template <class F>
auto withGilOnPool(F&& f) {
  if (PyGILState_Check()) return withGil(std::forward<F>(f));
  std::lock_guard turn(pythonTurn());
  return withGil(std::forward<F>(f));
}

// REQUIRES: the GIL is held.
inline py::list toPython(const Rdd& rdd) {
  py::list parts;
  for (std::size_t i = 0; i < rdd.numPartitions(); ++i) {
    auto p = rdd.partition(i);
    parts.append(p.empty() ? py::list() : p.front().get());
  }
  return parts;
}

// REQUIRES: the GIL is held. `parts` is an iterable of iterables (partitions).
inline Rdd fromPython(const py::handle& parts, const Rdd& like) {
  std::vector<std::vector<PyBlock>> out;
  for (auto p : parts) out.push_back({PyBlock(py::list(py::reinterpret_borrow<py::object>(p)))});
  return Rdd::fromPartitions(std::move(out), like.pool());
}

inline dstream::Duration toDuration(double seconds) {
  return std::chrono::duration_cast<dstream::Duration>(std::chrono::duration<double>(seconds) +
                                                       std::chrono::microseconds(500));
}

inline double toSeconds(dstream::Duration d) { return std::chrono::duration<double>(d).count(); }

// A native stream's elements as Python objects: one list per partition, made on the pool under
// the GIL by toObject(element) -> PyObject* (a new reference, or null with a Python error set).
template <class NativeStream, class ToObject>
Stream toPythonBlocks(const NativeStream& stream, ToObject toObject) {
  using T = typename NativeStream::value_type;
  return stream.mapPartitions([toObject](std::span<const T> part) {
    return std::vector<PyBlock>{withGilOnPool([&] {
      py::list l(part.size());
      for (std::size_t i = 0; i < part.size(); ++i) {
        PyObject* o = toObject(part[i]);
        if (o == nullptr) throw py::error_already_set();
        PyList_SET_ITEM(l.ptr(), static_cast<Py_ssize_t>(i), o);
      }
      return PyBlock(std::move(l));
    })};
  });
}

// Text as Python str: UTF-8, invalid bytes replaced.
inline PyObject* utf8(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
}

// Lines of a native source become one Python list of str per partition.
inline Stream linesToPython(const dstream::DStream<std::string_view>& lines) { return toPythonBlocks(lines, utf8); }

class Context {
 public:
  // logLevel: the least dstream::LogLevel written to stderr; past kError, nothing (pyspark's OFF).
  // manualClockStart: seconds since the epoch where a manual clock starts (tests); none for the
  // system clock.
  // engine: the SparkConf keys that reach the engine, checked by dstream/_conf.py
  // (engine_options); missing keys keep the engine's defaults.
  Context(const std::string& master, double batchSeconds, std::optional<double> manualClockStart, int logLevel,
          const py::dict& engine = py::dict())
      : logLevel_(std::make_shared<std::atomic<int>>(logLevel)) {
    dstream::ContextOptions options;
    auto get = [&engine]<class T>(const char* key, T fallback) {
      return engine.contains(key) && !engine[key].is_none() ? engine[key].cast<T>() : fallback;
    };
    dstream::BackpressureOptions& bp = options.backpressure;
    bp.enabled = get("backpressure", bp.enabled);
    bp.initialRate = get("initialRate", bp.initialRate);
    bp.proportional = get("proportional", bp.proportional);
    bp.integral = get("integral", bp.integral);
    bp.derived = get("derived", bp.derived);
    bp.minRate = get("minRate", bp.minRate);
    options.ui.enabled = get("uiEnabled", options.ui.enabled);
    options.ui.port = get("uiPort", options.ui.port);
    socket_.maxRatePerSecond = get("receiverMaxRate", socket_.maxRatePerSecond);
    socket_.maxReceivedBytes = get("maxReceivedBytes", socket_.maxReceivedBytes);
    options.log = [level = logLevel_, sink = dstream::stderrLogSink(dstream::LogLevel::kDebug)](
                      dstream::LogLevel l, std::string_view message) {
      if (static_cast<int>(l) >= level->load()) sink(l, message);
    };
    if (manualClockStart) {
      clock_ = std::make_shared<dstream::ManualClock>(dstream::Time{} + toDuration(*manualClockStart));
      options.clock = clock_;
    }
    ssc_ = std::make_unique<dstream::StreamingContext>(master, toDuration(batchSeconds), options);
  }
  // The engine's destructor stops it and waits for the running batch, which may need the GIL.
  ~Context() {
    py::gil_scoped_release release;
    ssc_.reset();
  }
  dstream::StreamingContext& ssc() {
    if (!ssc_) {
      throw dstream::Error(dstream::ErrorCode::kFailedPrecondition,
                           "this StreamingContext cannot be used: getOrCreate failed on it");
    }
    return *ssc_;
  }
  // Spark's getOrCreate once the program has defined the graph: checkpoints to `directory`
  // and resumes from its checkpoint at start() when it holds one. Returns whether it will.
  bool recoverFrom(const std::string& directory) {
    ssc();  // throws when a failed getOrCreate left no context
    std::unique_ptr<dstream::StreamingContext> lent = std::move(ssc_);
    ssc_ = dstream::StreamingContext::getOrCreate(directory, [&lent] { return std::move(lent); });
    return ssc_->isRecovering();
  }
  void advanceClock(double seconds) {
    if (!clock_) throw dstream::Error(dstream::ErrorCode::kFailedPrecondition, "advanceClock: the context has no manual clock");
    clock_->advance(toDuration(seconds));
  }
  void setLogLevel(int level) { logLevel_->store(level); }
  // socketTextStream's settings from the conf (spark.streaming.receiver.maxRate...).
  const dstream::SocketStreamOptions& socketOptions() const { return socket_; }
  double now() const { return toSeconds(ssc_->clock().now().time_since_epoch()); }

 private:
  std::shared_ptr<dstream::ManualClock> clock_;
  std::shared_ptr<std::atomic<int>> logLevel_;  // read by the log sink on any thread
  dstream::SocketStreamOptions socket_;
  std::unique_ptr<dstream::StreamingContext> ssc_;
};

// Bindings that live in files of their own, called by PYBIND11_MODULE (_dstream.cc).
void bindListeners(py::class_<Context>& context);  // binding_listener.cc
void bindBinaryRecords(py::class_<Context>& context);  // binding_sources.cc
void bindKafka(py::class_<Context>& context);          // binding_kafka.cc

}  // namespace dstream_python
