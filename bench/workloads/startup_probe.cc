// bench_startup_probe: the smallest dstream program. A 10 ms batch over a queue holding one
// line; it prints "first batch" when the first batch has been processed and exits. bench/run
// times it from fork/exec to that line. With the system clock the first batch is due at the
// next multiple of 10 ms, so up to 10 ms of the figure is waiting for it (5 ms on average).
#include <cstdio>
#include <memory>
#include <string>

#include "dstream/dstream.h"

int main() {
  using namespace dstream;
  StreamingContext ssc("local[1]", Milliseconds(10));
  auto queue = std::make_shared<RDDQueue<std::string>>();
  queue->push({"hello"});
  auto done = std::make_shared<bool>(false);
  ssc.queueStream(queue).count().foreachRDD([&ssc, done](const RDD<long>& rdd) {
    if (*done) return;
    *done = true;
    std::printf("first batch: %ld records\n", rdd.collect().at(0));
    std::fflush(stdout);
    ssc.stop();
  });
  ssc.start();
  ssc.awaitTermination();
  return 0;
}
