// Lab 10, Step 1: upper-case the lines of files copied into a directory (1 s batches).
//   $ step1_text_file_stream --dir /tmp/datastreams      then: cp words /tmp/datastreams/
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 step 1: textFileStream, map(upper), pprint", 1, lab::kDirectory,
                      [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());           // ssc = StreamingContext(sc, 1)
    auto lines = ssc.textFileStream(o.directory);               // lines = ssc.textFileStream("file:///tmp/datastreams")
    auto uclines = lines.map([](std::string_view w) { return dstream::toUpper(w); });  // uclines = lines.map(lambda word: word.upper())
    uclines.pprint();                                                          // uclines.pprint()
    return lab::runUntilDone(ssc, o);                                          // ssc.start()
  });
}
