// Every window operation checks its durations when it is defined, with a message naming the
// operation, the durations and a fix; and none can be defined after start().
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "dstream/dstream.h"
#include "testing/errors.h"

namespace dstream {
namespace {

using testing::expectInvalid;
using KV = std::pair<std::string, long>;

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

class WindowValidationTest : public ::testing::Test {
 protected:
  StreamingContext ssc_{"local[2]", Seconds(10)};
  DStream<KV> pairs_ = ssc_.queueStream(std::make_shared<RDDQueue<KV>>());
  DStream<long> longs_ = ssc_.queueStream(std::make_shared<RDDQueue<long>>());
};

TEST_F(WindowValidationTest, ReduceByKeyAndWindowWindowNotAMultiple) {
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(25), Seconds(10)); },
                "dstream: reduceByKeyAndWindow: window 25s is not a multiple of the parent's slide 10s; use 20s or 30s");
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, kSub, Seconds(25), Seconds(10)); },
                "dstream: reduceByKeyAndWindow: window 25s is not a multiple of the parent's slide 10s; use 20s or 30s");
}

TEST_F(WindowValidationTest, SlideNotAMultipleNamesTheOperation) {
  expectInvalid([&] { longs_.countByWindow(Seconds(30), Seconds(15)); },
                "dstream: countByWindow: slide 15s is not a multiple of the parent's slide 10s; use 10s or 20s");
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, kSub, Seconds(30), Seconds(5)); },
                "dstream: reduceByKeyAndWindow: slide 5s is not a multiple of the parent's slide 10s; use 10s");
  expectInvalid([&] { pairs_.groupByKeyAndWindow(Seconds(30), Seconds(15)); },
                "dstream: groupByKeyAndWindow: slide 15s is not a multiple of the parent's slide 10s; use 10s or 20s");
  expectInvalid([&] { longs_.countByValueAndWindow(Seconds(30), Seconds(15)); },
                "dstream: countByValueAndWindow: slide 15s is not a multiple of the parent's slide 10s; use 10s or 20s");
}

TEST_F(WindowValidationTest, ReduceByWindowChecksBothForms) {
  expectInvalid([&] { longs_.reduceByWindow(kAdd, Seconds(35), Seconds(10)); },
                "dstream: reduceByWindow: window 35s is not a multiple of the parent's slide 10s; use 30s or 40s");
  expectInvalid([&] { longs_.reduceByWindow(kAdd, kSub, Seconds(35), Seconds(10)); },
                "dstream: reduceByWindow: window 35s is not a multiple of the parent's slide 10s; use 30s or 40s");
}

TEST_F(WindowValidationTest, NonPositiveDurationsAreRejected) {
  expectInvalid([&] { longs_.countByWindow(Seconds(0), Seconds(10)); },
                "dstream: countByWindow: window 0ms must be positive");
  expectInvalid([&] { pairs_.reduceByKeyAndWindow(kAdd, Seconds(30), Seconds(-10)); },
                "dstream: reduceByKeyAndWindow: slide -10s must be positive");
  expectInvalid([&] { pairs_.groupByKeyAndWindow(Seconds(-20)); },
                "dstream: groupByKeyAndWindow: window -20s must be positive");
}

TEST_F(WindowValidationTest, WindowsOfAWindowedStreamUseItsSlide) {
  auto counts = longs_.countByWindow(Seconds(40), Seconds(20));
  expectInvalid([&] { counts.countByWindow(Seconds(50), Seconds(20)); },
                "dstream: countByWindow: window 50s is not a multiple of the parent's slide 20s; use 40s or 1min");
  EXPECT_NO_THROW(counts.countByWindow(Seconds(60), Seconds(20)));
}

TEST_F(WindowValidationTest, StateSpecTimeoutMustBePositive) {
  auto spec = StateSpec::function([](const std::string&, std::optional<long>, State<long>&) { return 0; });
  expectInvalid([&] { spec.timeout(Seconds(0)); }, "dstream: StateSpec::timeout: timeout 0ms must be positive");
}

TEST_F(WindowValidationTest, DefiningAfterStartFails) {
  longs_.countByWindow(Seconds(20), Seconds(10)).foreachRDD([](const RDD<long>&) {});
  ssc_.start();
  for (auto define : std::vector<std::function<void()>>{
           [&] { longs_.countByWindow(Seconds(20), Seconds(10)); },
           [&] { pairs_.reduceByKeyAndWindow(kAdd, kSub, Seconds(20), Seconds(10)); },
           [&] { pairs_.updateStateByKey([](std::span<const long>, std::optional<long> s) { return s; }); },
       }) {
    try {
      define();
      ADD_FAILURE() << "expected kFailedPrecondition";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
    }
  }
  ssc_.stop();
}

}  // namespace
}  // namespace dstream
