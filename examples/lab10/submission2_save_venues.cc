// Lab 10, Submission 2: save the venues of each batch with saveAsTextFiles.
#include "dstream/json.h"
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 submission 2: save venues with saveAsTextFiles", 10,
                      lab::kDirectory | lab::kOutput, [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());
    auto lines = ssc.textFileStream(o.directory);
    auto slines = lines.flatMap([](std::string_view x) { return dstream::json::field(x, "venue"); });
    slines.count().pprint();
    slines.saveAsTextFiles(o.outputPrefix, "json");  // one directory per batch: <prefix>-<ms>.json/part-00000...
    return lab::runUntilDone(ssc, o);
  });
}
