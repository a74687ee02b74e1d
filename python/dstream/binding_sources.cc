// StreamingContext.binaryRecordsStream: the engine's fixed-length records of the files that
// appear in a directory (StreamingContext::binaryRecordsStream), each record a Python bytes
// object, as pyspark hands them out. A bad argument (recordLength <= 0, a directory URI of
// another scheme) raises ValueError with the engine's message.
#include "native.h"

namespace dstream_python {

void bindBinaryRecords(py::class_<Context>& context) {
  context.def(
      "binaryRecordsStream",
      [](Context& c, const std::string& directory, int recordLength) {
        try {
          return toPythonBlocks(c.ssc().binaryRecordsStream(directory, recordLength), [](std::string_view r) {
            return PyBytes_FromStringAndSize(r.data(), static_cast<Py_ssize_t>(r.size()));
          });
        } catch (const dstream::Error& e) {
          if (e.code() == dstream::ErrorCode::kInvalidArgument) throw py::value_error(e.what());
          throw;
        }
      },
      py::arg("directory"), py::arg("recordLength"));
}

}  // namespace dstream_python
