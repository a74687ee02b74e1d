// Lab 10, Submission 1: print only words longer than 5 characters.
#include "lab_options.h"

int main(int argc, char** argv) {
  return lab::labMain(argc, argv, "Lab 10 submission 1: words longer than 5 characters", 1, lab::kDirectory,
                      [](lab::Options& o) {
    dstream::StreamingContext ssc(o.master, o.batch(), o.context());
    auto lines = ssc.textFileStream(o.directory);
    auto longWords = lines.flatMap([](std::string_view l) { return dstream::words(l); })  // one word per line in the lab's file
                         .filter([](std::string_view w) { return w.size() > 5; });          // filter(lambda word: len(word) > 5)
    longWords.pprint();
    return lab::runUntilDone(ssc, o);
  });
}
