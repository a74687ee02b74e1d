// The workloads as dstream programs, driven batch by batch with a ManualClock: each batch is
// pushed into a queueStream and the clock moves on as soon as the previous batch completed,
// so the figures measure processing, not waiting.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "bench_util.h"
#include "datagen/datagen.h"
#include "dstream/dstream.h"
#include "dstream/json.h"
#include "dstream/testing.h"
#include "workloads.h"

namespace dstream::bench {
namespace {

// What the output operations write into; read by the driver between batches
// (awaitBatchCompleted orders the accesses).
struct Sink {
  Checksum sum;
  long keys = 0;
  std::uint64_t outputs = 0;
  Time first{};
  std::int64_t index(Time t) const { return (t - first) / Seconds(1); }
};

const auto kAdd = [](long a, long b) { return a + b; };
const auto kSub = [](long a, long b) { return a - b; };

template <class KV>
void addPairs(Sink& s, const RDD<KV>& rdd, Time t) {
  s.sum.beginBatch(s.index(t));
  long n = 0;
  for (std::size_t p = 0; p < rdd.numPartitions(); ++p) {
    for (const auto& [k, v] : rdd.partition(p)) s.sum.addPair(k, v), ++n;
  }
  s.sum.endBatch();
  s.keys = n;
  ++s.outputs;
}

// The window's pairs plus its top 10 (count descending, then word).
template <class KV>
void addPairsAndTop(Sink& s, const RDD<KV>& rdd, Time t) {
  s.keys = checksumPairsAndTop(s.sum, s.index(t), rdd);
  ++s.outputs;
}

// The state before the first batch (--state-keys): stateKey(i) -> 1.
RDD<std::pair<std::string, long>> initialState(const RunConfig& cfg) {
  std::vector<std::pair<std::string, long>> keys;
  keys.reserve(static_cast<std::size_t>(cfg.stateKeys));
  for (long i = 0; i < cfg.stateKeys; ++i) keys.emplace_back(stateKey(i), 1L);
  return RDD<std::pair<std::string, long>>::parallelize(std::move(keys));
}

auto wordPairs(const DStream<std::string_view>& lines) {
  return lines.flatMap([](std::string_view l) { return dstream::words(l); }).map([](std::string_view w) {
    return std::pair<std::string_view, long>(w, 1L);
  });
}

void define(Workload w, const DStream<std::string_view>& lines, const RunConfig& cfg, Sink* s) {
  switch (w) {
    case Workload::kGrep:
      lines.filter(containsAbc).count().foreachRDD([s](const RDD<long>& rdd, Time t) {
        s->sum.beginBatch(s->index(t));
        for (long c : rdd.collect()) s->sum.addValue(c);
        s->sum.endBatch();
        ++s->outputs;
      });
      return;
    case Workload::kWordCount:
      wordPairs(lines).reduceByKey(kAdd).foreachRDD([s](const auto& rdd, Time t) { addPairs(*s, rdd, t); });
      return;
    case Workload::kWindowed:
      wordPairs(lines)
          .reduceByKeyAndWindow(kAdd, kSub, Seconds(cfg.windowBatches), Seconds(1), 0,
                                [](const auto& kv) { return kv.second != 0; })
          .foreachRDD([s](const auto& rdd, Time t) { addPairsAndTop(*s, rdd, t); });
      return;
    case Workload::kWindowedNoInv:
      wordPairs(lines)
          .reduceByKeyAndWindow(kAdd, Seconds(cfg.windowBatches), Seconds(1))
          .foreachRDD([s](const auto& rdd, Time t) { addPairsAndTop(*s, rdd, t); });
      return;
    case Workload::kRunning: {
      auto sum = [](std::span<const long> values, std::optional<long> old) -> std::optional<long> {
        long total = old.value_or(0);
        for (long v : values) total += v;
        return total;
      };
      auto out = [s](const auto& rdd, Time t) { addPairs(*s, rdd, t); };
      if (cfg.stateKeys == 0) {
        wordPairs(lines).updateStateByKey(sum).foreachRDD(out);
      } else {
        wordPairs(lines).updateStateByKey(sum, 0, initialState(cfg)).foreachRDD(out);
      }
      return;
    }
    case Workload::kMapWithState: {
      // Spark's idiom: the batch's counts per word, then one state update per word.
      auto spec = StateSpec::function([](const std::string& word, std::optional<long> count, State<long>& state) {
        long total = state.getOption().value_or(0) + count.value_or(0);
        state.update(total);
        return std::pair<std::string, long>(word, total);
      });
      auto counts = wordPairs(lines).reduceByKey(kAdd);
      auto out = [s](const auto& rdd, Time t) { addPairs(*s, rdd, t); };
      if (cfg.stateKeys == 0) {
        counts.mapWithState(spec).foreachRDD(out);
      } else {
        counts.mapWithState(spec.initialState(initialState(cfg))).foreachRDD(out);
      }
      return;
    }
    case Workload::kYsb:
    case Workload::kYsbEngineWindow: {
      // The join table, in process: ad id -> campaign id (views stay valid: the map outlives
      // the context).
      static const auto* table = [] {
        auto* m = new absl::flat_hash_map<std::string, std::string, StrHash, StrEq>();
        for (auto& ad : datagen::ysbAds(1)) m->emplace(ad.adId, ad.campaignId);
        return m;
      }();
      auto campaigns =
          lines
              .flatMap([](std::string_view l) -> std::optional<std::string_view> {
                auto r = json::Record::parse(l);
                if (!r) return std::nullopt;
                // Views into the parsed record: used before it goes, never kept.
                auto type = r->getStringView("event_type");
                if (!type || *type != "view") return std::nullopt;
                auto ad = r->getStringView("ad_id");
                if (!ad) return std::nullopt;
                auto it = table->find(*ad);
                if (it == table->end()) return std::nullopt;
                return std::string_view(it->second);
              })
              .map([](std::string_view c) { return std::pair<std::string_view, long>(c, 1L); });
      auto out = [s](const auto& rdd, Time t) { addPairs(*s, rdd, t); };
      const Duration window = Seconds(kYsbWindowBatches);
      if (w == Workload::kYsb) {
        // Spark's definition of reduceByKeyAndWindow without an inverse, spelled out.
        campaigns.reduceByKey(kAdd).window(window, window).reduceByKey(kAdd).foreachRDD(out);
      } else {
        campaigns.reduceByKeyAndWindow(kAdd, window, window).foreachRDD(out);
      }
      return;
    }
    case Workload::kVenue:
    case Workload::kVenueEngineWindow: {
      auto venues =
          lines.flatMap([](std::string_view l) { return json::getString(l, "venue.venue_name"); }).cache();
      venues.map([](const std::string& v) { return std::pair<std::string_view, long>(v, 1L); })
          .reduceByKey(kAdd)
          .foreachRDD([s](const auto& rdd, Time t) { addPairs(*s, rdd, t); });
      auto windowCount = [s](const RDD<long>& rdd, Time t) {
        s->sum.beginBatch(-1 - s->index(t));
        for (long c : rdd.collect()) s->sum.addValue(c);
        s->sum.endBatch();
      };
      const Duration window = Seconds(kVenueWindowBatches), slide = Seconds(kVenueSlideBatches);
      if (w == Workload::kVenue) {
        venues.window(window, slide).count().foreachRDD(windowCount);
      } else {
        venues.countByWindow(window, slide).foreachRDD(windowCount);
      }
      return;
    }
  }
}

}  // namespace

RunResult runEngine(Workload w, const Input& in, const RunConfig& cfg) {
  auto clock = std::make_shared<ManualClock>();
  StreamingContext ssc("local[" + std::to_string(cfg.threads) + "]", Seconds(1), {.clock = clock});
  if (!cfg.checkpointDir.empty()) {
    ssc.checkpoint(cfg.checkpointDir);
    ssc.setStateCheckpointInterval(Seconds(10));
  }
  auto queue = std::make_shared<RDDQueue<std::string_view>>();
  Sink sink;
  sink.sum.dumpAs("E");
  define(w, ssc.queueStream(queue), cfg, &sink);

  auto rdds = poolRDDs(in, cfg.threads);
  ssc.start();
  sink.first = dstream::testing::firstBatchTime(ssc);
  auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < cfg.warmup + cfg.measured; ++b) {
    if (b == cfg.warmup) start = std::chrono::steady_clock::now();
    queue->push(rdds[static_cast<std::size_t>(b) % rdds.size()]);
    Time t = sink.first + Seconds(b);
    clock->setTime(t);
    if (!dstream::testing::awaitBatchCompleted(ssc, t, Seconds(600))) {
      throw std::runtime_error("dstream batch " + std::to_string(b) + " did not complete");
    }
  }
  RunResult r;
  r.seconds = secondsSince(start);
  ssc.stop();
  ssc.awaitTermination();
  r.checksum = sink.sum.value();
  r.outputs = sink.outputs;
  r.keys = sink.keys;
  return r;
}

}  // namespace dstream::bench
