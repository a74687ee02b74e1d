// Lab 10, Step 2: upper-case lines typed into `nc -lk 9999` (try --batch 1 and --batch 30).
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 step 2: socketTextStream, map(upper), pprint", 1, lab::kSocket,
                      [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());           // ssc = StreamingContext(sc, 1) or (sc, 30)
    auto lines = ssc.socketTextStream(o.host, o.port);                         // lines = ssc.socketTextStream("localhost", 9999)
    lines.map([](std::string_view w) { return dstream::toUpper(w); }).pprint();  // uclines = lines.map(...); uclines.pprint()
    return lab::runUntilDone(ssc, o);
  });
}
