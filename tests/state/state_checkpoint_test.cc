// Checkpoint hooks of the stateful nodes: a run stopped after k batches, its state written
// with writeState and read into a fresh graph with readState, continues exactly as an
// uninterrupted run; damaged state is reported as data loss.
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/serialize.h"
#include "dstream/testing.h"
#include "testing/batches.h"

namespace dstream {
namespace {

using KV = std::pair<std::string, long>;
using Out = std::vector<std::vector<KV>>;

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

std::vector<std::vector<std::string>> input() {
  std::vector<std::vector<std::string>> in;
  for (int b = 0; b < 10; ++b) in.push_back({b % 4 == 3 ? "" : std::string("w") + std::to_string(b % 3) + " w" + std::to_string(b % 4) + " x"});
  return in;
}

auto wordPairs(DStream<std::string> s) {
  return s.flatMap([](const std::string& l) { return split(l, ' '); })
      .map([](std::string_view w) { return std::pair<std::string_view, long>(w, 1L); });
}

// Runs batches [from, to) of input() on a clock whose first batch is at from + 1 s. `build`
// returns the output stream and the node whose state is saved/restored.
template <class Build>
Out runSegment(int from, int to, Build build, const std::string* restore, std::string* save) {
  auto clock = std::make_shared<ManualClock>();
  clock->setTime(Time(Seconds(from)));
  StreamingContext ssc("local[2]", Seconds(1), {.clock = clock});
  auto queue = std::make_shared<RDDQueue<std::string>>();
  auto all = input();
  for (int b = from; b < to; ++b) queue->push(all[static_cast<std::size_t>(b)], 2);
  auto [stream, node] = build(ssc.queueStream(queue));
  Out out;
  stream.foreachRDD([&out](const RDD<KV>& rdd) {
    auto batch = rdd.collect();
    std::sort(batch.begin(), batch.end());
    out.push_back(batch);
  });
  if (restore) {
    BinaryReader r(*restore, "test");
    node->readState(r);
  }
  ssc.start();
  Time first = dstream::testing::firstBatchTime(ssc);
  EXPECT_EQ(first, Time(Seconds(from + 1)));
  EXPECT_TRUE(testing::runBatches(ssc, *clock, first, to - from));
  if (save) {
    BinaryWriter w;
    EXPECT_TRUE(node->hasState());
    node->writeState(w);
    *save = w.release();
  }
  ssc.stop();
  ssc.awaitTermination();
  return out;
}

template <class Build>
void expectResumesExactly(Build build, int stopAfter) {
  Out whole = runSegment(0, 10, build, nullptr, nullptr);
  std::string saved;
  Out first = runSegment(0, stopAfter, build, nullptr, &saved);
  Out rest = runSegment(stopAfter, 10, build, &saved, nullptr);
  first.insert(first.end(), rest.begin(), rest.end());
  EXPECT_EQ(first, whole);
}

TEST(StateCheckpointTest, InverseWindowResumesExactly) {
  for (int stopAfter : {2, 5, 7}) {
    expectResumesExactly([](DStream<std::string> s) {
      auto counts = wordPairs(s).reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1), 2);
      return std::pair{DStream<KV>(counts), static_cast<detail::Node*>(counts.node().get())};
    }, stopAfter);
  }
}

TEST(StateCheckpointTest, UpdateStateByKeyResumesExactlyWithOtherPartitioning) {
  auto counts = [](std::size_t n) {
    return [n](DStream<std::string> s) {
      auto c = wordPairs(s).updateStateByKey([](std::span<const long> vs, std::optional<long> st) {
        return std::optional<long>(st.value_or(0) + std::accumulate(vs.begin(), vs.end(), 0L));
      }, n);
      return std::pair{DStream<KV>(c), static_cast<detail::Node*>(c.node().get())};
    };
  };
  expectResumesExactly(counts(2), 4);
  Out whole = runSegment(0, 10, counts(2), nullptr, nullptr);
  std::string saved;
  Out first = runSegment(0, 4, counts(2), nullptr, &saved);
  Out rest = runSegment(4, 10, counts(3), &saved, nullptr);
  first.insert(first.end(), rest.begin(), rest.end());
  EXPECT_EQ(first, whole);
}

TEST(StateCheckpointTest, MapWithStateResumesWithTimeouts) {
  for (int stopAfter : {3, 6}) {
    expectResumesExactly([](DStream<std::string> s) {
      auto mapped = wordPairs(s).mapWithState(
          StateSpec::function([](const std::string& k, std::optional<long> v, State<long>& st) {
            if (st.isTimingOut()) return KV("timeout:" + k, st.get());
            st.update(st.getOption().value_or(0) + *v);
            return KV(k, st.get());
          }).timeout(Seconds(2)));
      detail::Node* node = mapped.node().get();
      return std::pair{DStream<KV>(mapped), node};
    }, stopAfter);
  }
}

TEST(StateCheckpointTest, DamagedStateIsDataLoss) {
  StreamingContext ssc("local", Seconds(1));
  auto pairs = ssc.queueStream(std::make_shared<RDDQueue<KV>>());
  auto counts = pairs.reduceByKeyAndWindow(kAdd, kSub, Seconds(3), Seconds(1));
  auto state = pairs.updateStateByKey([](std::span<const long>, std::optional<long> s) { return s; });
  for (detail::Node* node : {static_cast<detail::Node*>(counts.node().get()), static_cast<detail::Node*>(state.node().get())}) {
    BinaryWriter w;
    node->writeState(w);
    std::string good = w.release();
    std::string badVersion = good;
    badVersion[0] = 9;
    std::string truncated = good.substr(0, good.size() - 1);
    for (const std::string& bytes : {badVersion, truncated}) {
      BinaryReader r(bytes, "ckpt");
      try {
        node->readState(r);
        ADD_FAILURE() << "expected kDataLoss";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
      }
    }
  }
}

}  // namespace
}  // namespace dstream
