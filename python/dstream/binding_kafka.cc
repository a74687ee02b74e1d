// KafkaUtils.createDirectStream's native side: the engine's Kafka direct stream
// (dstream/kafka.h), each record handed to Python as pyspark's default message handler does:
// a (key, value) tuple of str (UTF-8, invalid bytes replaced), key None when the record has
// none. A bad argument raises ValueError with the engine's message.
#include "dstream/kafka.h"
#include "native.h"

namespace dstream_python {

void bindKafka(py::class_<Context>& context) {
  context.def(
      "kafkaDirectStream",
      [](Context& c, const std::vector<std::string>& topics, const std::map<std::string, std::string>& kafkaParams,
         const std::map<std::pair<std::string, int>, long long>& fromOffsets, long long maxRatePerPartition) {
        dstream::kafka::DirectStreamOptions o;
        o.topics = topics;
        o.kafkaParams = kafkaParams;
        for (const auto& [tp, offset] : fromOffsets) o.fromOffsets[{tp.first, tp.second}] = offset;
        o.maxRatePerPartition = maxRatePerPartition;
        try {
          return toPythonBlocks(dstream::kafka::createDirectStream(c.ssc(), std::move(o)),
                                [](const dstream::kafka::ConsumerRecord& r) -> PyObject* {
                                  py::object key = r.hasKey ? py::reinterpret_steal<py::object>(utf8(r.key)) : py::none();
                                  py::object value = py::reinterpret_steal<py::object>(utf8(r.value));
                                  if (!key || !value) return nullptr;
                                  return py::make_tuple(key, value).release().ptr();
                                });
        } catch (const dstream::Error& e) {
          if (e.code() == dstream::ErrorCode::kInvalidArgument) throw py::value_error(e.what());
          throw;
        }
      },
      py::arg("topics"), py::arg("kafkaParams"), py::arg("fromOffsets"), py::arg("maxRatePerPartition"));
}

}  // namespace dstream_python
