// Lab 10, Step 6: venuecounter2.py: lines in the last batch, lines in the last 30 s (a window
// sliding every 10 s), and venues in the last batch. Submission 4a: the windowed count is the
// sum of the three latest batch counts. --kafka BOOTSTRAP --topic NAME reads a Kafka topic
// instead of the socket (examples/lab10/README.md).
#include "dstream/json.h"
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 step 6: venuecounter2 with countByWindow", 10,
                      lab::kSocket | lab::kKafka | lab::kWindow | lab::kCheckpoint, [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());             // ssc = StreamingContext(sc, 10)
    ssc.checkpoint(o.checkpointDirectory);                       // ssc.checkpoint("file:///tmp/checkpointing")
    auto lines = lab::inputLines(ssc, o);                                        // lines = ssc.socketTextStream("localhost", 9999)
    auto wlcnt = lines.countByWindow(o.window(), o.slide());                     // wlcnt = lines.countByWindow(30, 10)
    auto jslines = lines.flatMap([](std::string_view x) { return dstream::json::field(x, "venue"); }).cache();
    auto lcnt = lines.count();                                                   // lcnt = lines.count()
    wlcnt.pprint();                                                              // wlcnt.pprint()
    lcnt.pprint();                                                               // lcnt.pprint()
    auto c = jslines.count();                                                    // c = jslines.count()
    c.pprint();                                                                  // c.pprint()
    jslines.pprint();                                                            // jslines.pprint()
    return lab::runUntilDone(ssc, o);                                            // ssc.start(); ssc.awaitTermination()
  });
}
