// Must not compile: printing a stream of a type with no text form.
#include "dstream/dstream.h"

struct Opaque {};

int main() {
  dstream::StreamingContext ssc("local", dstream::Seconds(1));
  ssc.queueStream(std::make_shared<dstream::RDDQueue<Opaque>>()).pprint();
}
