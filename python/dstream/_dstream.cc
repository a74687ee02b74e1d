// The native half of the Python package: the C++ engine with Python objects as elements.
//
// An engine element is a PyBlock: one Python list holding one partition's records. The engine
// moves, windows and unions blocks without touching Python; Python functions run once per
// partition (per batch for transform and outputs) with the GIL held, so the GIL is taken once
// per partition, never per record. Calls that wait on the engine (start, stop,
// awaitTermination) release the GIL, so batches can take it. Uses only the public API
// (include/dstream/).
#include "native.h"

using namespace dstream_python;

namespace {

using Queue = dstream::RDDQueue<PyBlock>;
using dstream::Duration;
using dstream::Time;
using PyNode = dstream::detail::TypedNode<PyBlock>;

// A stream whose Python state lives across batches (updateStateByKey, windows with an
// inverse): every batch of the parent, step(ms, partitions, state, emit) returns
// (state, partitions); `emit` is true at this stream's slide times, where the partitions
// returned are its batch. The state is any picklable Python object: checkpoints hold it
// pickled, so it survives a restart as the engine's own state does.
class PyStateNode final : public PyNode {
 public:
  PyStateNode(dstream::detail::Graph* graph, std::string kind, std::shared_ptr<PyNode> parent, Duration slide,
              std::shared_ptr<py::function> step, PyBlock initialState)
      : PyNode(graph, std::move(kind), {parent.get()}, slide), parent_(std::move(parent)), step_(std::move(step)),
        state_(std::move(initialState)) {}

  // Sees every batch of its parent, also between its own slides.
  bool computesEveryBatch() const override { return true; }
  void computeBatch(Time t) override {
    advanceTo(t);
    if (isTimeValid(t)) getOrCompute(t);
  }

  bool hasState() const override { return true; }
  void writeState(dstream::BinaryWriter& w) const override {
    dstream::detail::writeStateHeader(w, lastTime_);
    py::gil_scoped_acquire gil;
    try {
      py::bytes pickled = py::module_::import("pickle").attr("dumps")(state_.get(), -1);
      w.writeBytes(std::string_view(pickled));
    } catch (py::error_already_set& e) {
      throw dstream::Error(dstream::ErrorCode::kInvalidArgument,
                           name() + ": its state cannot be pickled for the checkpoint: " + e.what());
    }
  }
  void readState(dstream::BinaryReader& r) override {
    lastTime_ = dstream::detail::readStateHeader(r, kind());
    std::string_view pickled = r.readBytes();
    py::gil_scoped_acquire gil;
    try {
      state_ = PyBlock(py::module_::import("pickle").attr("loads")(py::bytes(pickled.data(), pickled.size())));
    } catch (py::error_already_set& e) {
      throw dstream::Error(dstream::ErrorCode::kDataLoss, name() + ": its checkpointed state cannot be unpickled: " + e.what());
    }
  }

 protected:
  std::optional<dstream::RDD<PyBlock>> compute(Time t) override {
    advanceTo(t);
    auto it = pending_.find(t);
    if (it == pending_.end()) return std::nullopt;
    auto rdd = std::move(it->second);
    pending_.erase(it);
    return rdd;
  }

 private:
  std::string name() const {
    std::string n = kind() + " (stream " + std::to_string(id());
    if (!uid().empty()) n += ", uid \"" + uid() + "\"";
    return n + ")";
  }
  // Steps through the parent's batches after the last one seen, up to t. On the batch
  // thread, without the GIL: the parent's batch may need the pool, whose tasks take it.
  void advanceTo(Time t) {
    const Duration parentSlide = parent_->slideDuration();
    // The first step is at the parent's first batch (a windowed parent has none in between).
    if (!lastTime_ && !parent_->isTimeValid(t)) return;
    for (Time s = lastTime_ ? *lastTime_ + parentSlide : t; s <= t; s += parentSlide) {
      auto in = parent_->getOrCompute(s);
      const bool emit = isTimeValid(s);
      withGil([&] {
        py::list parts = in ? toPython(*in) : py::list();
        py::tuple result = (*step_)(dstream::toMillis(s), parts, state_.get(), emit);
        state_ = PyBlock(result[0]);
        if (emit) pending_.insert_or_assign(s, fromPython(result[1], in ? *in : Rdd()));
      });
      lastTime_ = s;
    }
  }

  std::shared_ptr<PyNode> parent_;
  std::shared_ptr<py::function> step_;
  PyBlock state_;
  std::optional<Time> lastTime_;  // the parent's last batch stepped through
  std::map<Time, Rdd> pending_;   // stepped batches at this stream's slide times, not yet asked for
};

// reduceByKey's inner loop, native: for each (k, v) of `pairs`, d = targets[hash(k) % n];
// d[k] = func(d[k], v) if k in d else v. Python's own placement (hash(k) % n, non-negative)
// and errors (a pair that is not a 2-tuple or 2-list raises as unpacking it in Python would).
// REQUIRES: the GIL is held.
void reduceByKeyInto(const py::list& targets, const py::iterable& pairs, const py::object& func) {
  const Py_ssize_t n = PyList_GET_SIZE(targets.ptr());
  if (n == 0) throw py::value_error("reduceByKeyInto: no target dicts");
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!PyDict_Check(PyList_GET_ITEM(targets.ptr(), i))) throw py::type_error("reduceByKeyInto: targets must be dicts");
  }
  // Kept for the process's life: never released after the interpreter is gone.
  static PyObject* const add = py::object(py::module_::import("operator").attr("add")).release().ptr();
  const bool isAdd = func.ptr() == add;
  for (py::handle item : pairs) {
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    if (PyTuple_Check(item.ptr()) && PyTuple_GET_SIZE(item.ptr()) == 2) {
      key = PyTuple_GET_ITEM(item.ptr(), 0);
      value = PyTuple_GET_ITEM(item.ptr(), 1);
    } else if (PyList_Check(item.ptr()) && PyList_GET_SIZE(item.ptr()) == 2) {
      key = PyList_GET_ITEM(item.ptr(), 0);
      value = PyList_GET_ITEM(item.ptr(), 1);
    } else {
      throw py::type_error("reduceByKey: each element must be a (key, value) pair, not " +
                           py::repr(item).cast<std::string>());
    }
    PyObject* d = PyList_GET_ITEM(targets.ptr(), 0);
    if (n > 1) {
      Py_hash_t h = PyObject_Hash(key);
      if (h == -1 && PyErr_Occurred()) throw py::error_already_set();
      Py_ssize_t slot = static_cast<Py_ssize_t>(h % n);
      if (slot < 0) slot += n;
      d = PyList_GET_ITEM(targets.ptr(), slot);
    }
    PyObject* old = PyDict_GetItemWithError(d, key);  // borrowed
    if (old == nullptr) {
      if (PyErr_Occurred() != nullptr || PyDict_SetItem(d, key, value) != 0) throw py::error_already_set();
      continue;
    }
    Py_INCREF(old);  // func may change the dict
    PyObject* merged = isAdd ? PyNumber_Add(old, value) : PyObject_CallFunctionObjArgs(func.ptr(), old, value, nullptr);
    Py_DECREF(old);
    if (merged == nullptr) throw py::error_already_set();
    const int rc = PyDict_SetItem(d, key, merged);
    Py_DECREF(merged);
    if (rc != 0) throw py::error_already_set();
  }
}

using Lines = dstream::DStream<std::string_view>;

}  // namespace

PYBIND11_MODULE(_dstream, m) {
  m.doc() = "dstream's engine with Python objects as elements (one Python list per partition)";
  static py::exception<PythonError> pythonError(m, "PythonFunctionError");
  static py::exception<dstream::Error> engineError(m, "EngineError");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const PythonError& e) {
      pythonError(e.what());
    } catch (const dstream::Error& e) {
      // A batch's failure may wrap a Python error's text: keep it readable as such.
      engineError(e.what());
    }
  });

  py::class_<Stream>(m, "Stream")
      .def("transform",
           [](const Stream& s, py::function f) {
             auto fn = share(std::move(f));
             return Stream(s.transform([fn](const Rdd& rdd, dstream::Time t) {
               return withGil([&] { return fromPython((*fn)(dstream::toMillis(t), toPython(rdd)), rdd); });
             }));
           })
      .def("transformWith",
           [](const Stream& s, const Stream& other, py::function f) {
             auto fn = share(std::move(f));
             return Stream(s.transformWith(other, [fn](const Rdd& a, const Rdd& b, dstream::Time t) {
               return withGil([&] { return fromPython((*fn)(dstream::toMillis(t), toPython(a), toPython(b)), a); });
             }));
           })
      .def("mapPartitions",
           [](const Stream& s, py::function f) {
             // f(list) -> iterable, once per partition, on the pool (GIL per partition).
             auto fn = share(std::move(f));
             return Stream(s.mapPartitions([fn](std::span<const PyBlock> part) {
               return std::vector<PyBlock>{withGilOnPool([&] {
                 return PyBlock(py::list(part.empty() ? (*fn)(py::list()) : (*fn)(part.front().get())));
               })};
             }));
           })
      .def("union", [](const Stream& s, const Stream& other) { return Stream(s.union_(other)); })
      .def("window", [](const Stream& s, double window, std::optional<double> slide) {
             std::optional<dstream::Duration> sl;
             if (slide) sl = toDuration(*slide);
             return Stream(s.window(toDuration(window), sl));
           }, py::arg("window"), py::arg("slide") = py::none())
      .def("foreachRDD",
           [](const Stream& s, py::function f) {
             auto fn = share(std::move(f));
             s.foreachRDD([fn](const Rdd& rdd, dstream::Time t) {
               withGil([&] { (*fn)(dstream::toMillis(t), toPython(rdd)); });
             });
           })
      .def("slideDuration", [](const Stream& s) { return toSeconds(s.slideDuration()); })
      .def("stateful",
           [](const Stream& s, const std::string& kind, std::optional<double> slide, py::function step,
              py::object initialState) {
             const Duration parentSlide = s.slideDuration();
             const Duration mine = slide ? toDuration(*slide) : parentSlide;
             s.graph()->checkCanDefine(kind);
             if (mine.count() <= 0 || mine.count() % parentSlide.count() != 0) {
               throw dstream::Error(dstream::ErrorCode::kInvalidArgument,
                                    kind + ": the slide " + dstream::formatDuration(mine) +
                                        " must be a positive multiple of the parent's slide " +
                                        dstream::formatDuration(parentSlide));
             }
             return Stream(s.graph(), s.graph()->addNode<PyStateNode>(kind, s.node(), mine, share(std::move(step)),
                                                                     PyBlock(std::move(initialState))));
           })
      .def("checkpoint", [](const Stream& s, double interval) { return Stream(s.checkpoint(toDuration(interval))); })
      .def("slice",
           [](const Stream& s, std::int64_t fromMs, std::int64_t toMs) {
             std::vector<Rdd> rdds;
             {
               // On the batch thread slice may compute batches, whose pool tasks take the GIL.
               py::gil_scoped_release release;
               rdds = s.slice(dstream::timeFromMillis(fromMs), dstream::timeFromMillis(toMs));
             }
             py::list out;
             for (const auto& rdd : rdds) out.append(toPython(rdd));
             return out;
           });

  m.def("reduceByKeyInto", &reduceByKeyInto, py::arg("targets"), py::arg("pairs"), py::arg("func"),
        "Reduces the (key, value) pairs into targets[hash(key) % len(targets)] (dicts) with func, "
        "as reduceByKey does, in one native loop; operator.add on numbers runs without a call.");

  // The lines of a native source (textFileStream, socketTextStream) before Python sees them:
  // what needs no Python function (counting, windows, unions) runs here, at the engine's speed.
  py::class_<Lines>(m, "Lines")
      .def("toPython", [](const Lines& l) { return linesToPython(l); })
      .def("count", [](const Lines& l) { return toPythonBlocks(l.count(), [](long n) { return PyLong_FromLong(n); }); })
      .def("countByWindow",
           [](const Lines& l, double window, double slide) {
             return toPythonBlocks(l.countByWindow(toDuration(window), toDuration(slide)),
                                   [](long n) { return PyLong_FromLong(n); });
           })
      .def("countByValue",
           [](const Lines& l) {
             using Counted = typename decltype(l.countByValue())::value_type;
             return toPythonBlocks(l.countByValue(), [](const Counted& kv) -> PyObject* {
               py::object key = py::reinterpret_steal<py::object>(utf8(std::string_view(kv.first)));
               if (!key) return nullptr;
               return py::make_tuple(key, kv.second).release().ptr();
             });
           })
      .def("window",
           [](const Lines& l, double window, std::optional<double> slide) {
             std::optional<Duration> sl;
             if (slide) sl = toDuration(*slide);
             return Lines(l.window(toDuration(window), sl));
           },
           py::arg("window"), py::arg("slide") = py::none())
      .def("union", [](const Lines& l, const Lines& other) { return Lines(l.union_(other)); })
      .def("repartition", [](const Lines& l, int n) {
        if (n < 1) throw py::value_error("repartition: numPartitions must be at least 1, not " + std::to_string(n));
        return Lines(l.repartition(static_cast<std::size_t>(n)));
      })
      .def("slideDuration", [](const Lines& l) { return toSeconds(l.slideDuration()); });

  py::class_<Queue, std::shared_ptr<Queue>>(m, "Queue")
      .def(py::init<>())
      .def("push", [](Queue& q, const py::iterable& parts) {
        q.push(fromPython(parts, Rdd()));
      });

  py::class_<Context> context(m, "Context");
  context
      .def(py::init<const std::string&, double, std::optional<double>, int, const py::dict&>(), py::arg("master"),
           py::arg("batchSeconds"), py::arg("manualClockStart") = py::none(),
           py::arg("logLevel") = static_cast<int>(dstream::LogLevel::kInfo), py::arg("engine") = py::dict())
      .def("setLogLevel", &Context::setLogLevel)
      .def("textFileStream", [](Context& c, const std::string& dir) { return c.ssc().textFileStream(dir); })
      .def("socketTextStream",
           [](Context& c, const std::string& host, int port) {
             return c.ssc().socketTextStream(host, port, c.socketOptions());
           })
      .def("uiWebUrl", [](Context& c) { return c.ssc().uiWebUrl(); })
      .def("queueStream",
           [](Context& c, std::shared_ptr<Queue> q, bool oneAtATime, const py::object& defaultParts) {
             std::optional<Rdd> def;
             if (!defaultParts.is_none()) def = fromPython(defaultParts, Rdd());
             return Stream(c.ssc().queueStream(std::move(q), oneAtATime, std::move(def)));
           })
      .def("checkpoint", [](Context& c, const std::string& dir) { c.ssc().checkpoint(dir); })
      .def("recoverFrom", &Context::recoverFrom)
      .def("transform",
           [](Context& c, const std::vector<Stream>& streams, py::function f) {
             // Spark's ssc.transform over a list of streams: f(ms, [partitions of each]) once per batch.
             if (streams.empty()) throw dstream::Error(dstream::ErrorCode::kInvalidArgument, "transform: needs at least one DStream");
             const auto& graph = c.ssc().graph();
             graph->checkCanDefine("transform");
             std::vector<std::shared_ptr<dstream::detail::Node>> parents;
             std::vector<std::shared_ptr<PyNode>> nodes;
             for (const auto& st : streams) {
               dstream::detail::validateSameSlide("transform", streams.front().slideDuration(), st.slideDuration());
               parents.push_back(st.node());
               nodes.push_back(st.node());
             }
             auto fn = share(std::move(f));
             return Stream(graph, graph->addNode<dstream::detail::TransformNode<PyBlock>>(
                 "transform", std::move(parents), [nodes, fn](Time t) -> std::optional<Rdd> {
                   std::vector<Rdd> batches;
                   for (const auto& n : nodes) batches.push_back(dstream::detail::requireBatch(*n, t, "transform"));
                   return withGil([&] {
                     py::list all;
                     for (const auto& b : batches) all.append(toPython(b));
                     return fromPython((*fn)(dstream::toMillis(t), all), batches.front());
                   });
                 }));
           })
      .def("remember", [](Context& c, double s) { c.ssc().remember(toDuration(s)); })
      .def("start", [](Context& c) { c.ssc().start(); }, py::call_guard<py::gil_scoped_release>())
      .def("stop", [](Context& c, bool graceful) { c.ssc().stop(graceful); }, py::arg("graceful") = false,
           py::call_guard<py::gil_scoped_release>())
      .def("awaitTerminationOrTimeout",
           [](Context& c, double seconds) { return c.ssc().awaitTerminationOrTimeout(toDuration(seconds)); },
           py::call_guard<py::gil_scoped_release>())
      .def("state", [](Context& c) { return static_cast<int>(c.ssc().getState()); })
      .def("defaultParallelism", [](Context& c) { return c.ssc().defaultParallelism(); })
      .def("batchDuration", [](Context& c) { return toSeconds(c.ssc().batchDuration()); })
      .def("advanceClock", &Context::advanceClock, py::call_guard<py::gil_scoped_release>())
      .def("now", &Context::now);
  bindListeners(context);
  bindBinaryRecords(context);
  bindKafka(context);
}
