// Lab 10, Steps 4 and 5: venuecounter.py, reading RSVPs from a socket (10 s batches).
//   $ dstream-gen meetup --count 100000 | dstream-replay --port 9999 --rate 50 -
//   $ step5_venuecounter
// or from a Kafka topic fed with kcat (examples/lab10/README.md):
//   $ step5_venuecounter --kafka 127.0.0.1:PORT --topic meetups
#include "dstream/json.h"
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 steps 4-5: venuecounter", 10, lab::kSocket | lab::kKafka, [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());             // ssc = StreamingContext(sc, 10)
    auto lines = lab::inputLines(ssc, o);                                        // lines = ssc.socketTextStream("localhost", 9999)
    auto jslines = lines.flatMap([](std::string_view x) { return dstream::json::field(x, "venue"); }).cache();
    auto lcnt = lines.count();                                                   // lcnt = lines.count()
    lcnt.pprint();                                                               // lcnt.pprint()
    auto c = jslines.count();                                                    // c = jslines.count()
    c.pprint();                                                                  // c.pprint()
    jslines.pprint();                                                            // jslines.pprint()
    return lab::runUntilDone(ssc, o);                                            // ssc.start(); ssc.awaitTermination()
  });
}
