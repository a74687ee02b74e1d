// Lab 10, Step 3: the venues of Meetup RSVPs copied into a directory (10 s batches).
//   $ cp meetup.data.1 /tmp/datastreams/
#include "dstream/json.h"
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 step 3: venues of RSVP records from files", 10, lab::kDirectory,
                      [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());             // ssc = StreamingContext(sc, 10)
    auto lines = ssc.textFileStream(o.directory);
    auto slines = lines.flatMap([](std::string_view x) { return dstream::json::field(x, "venue"); });
    //                          slines = lines.flatMap(lambda x: [j['venue'] for j in json.loads('['+x+']') if 'venue' in j])
    auto cnt = slines.count();                                                   // cnt = slines.count()
    cnt.pprint();                                                                // cnt.pprint()
    slines.pprint();                                                             // slines.pprint()
    return lab::runUntilDone(ssc, o);
  });
}
