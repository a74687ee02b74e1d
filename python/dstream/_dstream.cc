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
               return std::vector<PyBlock>{withGil([&] {
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
      .def("slideDuration", [](const Stream& s) { return toSeconds(s.slideDuration()); });

  py::class_<Queue, std::shared_ptr<Queue>>(m, "Queue")
      .def(py::init<>())
      .def("push", [](Queue& q, const py::iterable& parts) {
        q.push(fromPython(parts, Rdd()));
      });

  py::class_<Context>(m, "Context")
      .def(py::init<const std::string&, double, bool, int>(), py::arg("master"), py::arg("batchSeconds"),
           py::arg("manualClock") = false, py::arg("logLevel") = static_cast<int>(dstream::LogLevel::kInfo))
      .def("setLogLevel", &Context::setLogLevel)
      .def("textFileStream", [](Context& c, const std::string& dir) { return linesToPython(c.ssc().textFileStream(dir)); })
      .def("socketTextStream",
           [](Context& c, const std::string& host, int port) { return linesToPython(c.ssc().socketTextStream(host, port)); })
      .def("queueStream",
           [](Context& c, std::shared_ptr<Queue> q, bool oneAtATime, const py::object& defaultParts) {
             std::optional<Rdd> def;
             if (!defaultParts.is_none()) def = fromPython(defaultParts, Rdd());
             return Stream(c.ssc().queueStream(std::move(q), oneAtATime, std::move(def)));
           })
      .def("checkpoint", [](Context& c, const std::string& dir) { c.ssc().checkpoint(dir); })
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
}
