// The hand-written competitors: one thread, no framework, the data structures a careful
// C++ programmer would pick (absl::flat_hash_map keyed by string_view into the batch,
// memchr word splitting, simdjson's DOM parser reused across lines, incremental windows).
// Each produces exactly the outputs of the dstream program, batch by batch.
#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include "bench_util.h"
#include "datagen/datagen.h"
#include "workloads.h"

namespace dstream::bench {
namespace {

using CountMap = absl::flat_hash_map<std::string_view, long, StrHash, StrEq>;
using OwnedCountMap = absl::flat_hash_map<std::string, long, StrHash, StrEq>;

void countWords(const LineBatch& batch, CountMap& counts) {
  for (std::string_view line : batch.lines) forEachWord(line, [&](std::string_view w) { ++counts[w]; });
}

template <class Map>
void addAll(Checksum& sum, const Map& m) {
  for (const auto& [k, v] : m) sum.addPair(k, v);
}

template <class Map>
void addTop(Checksum& sum, const Map& m) {
  using KV = typename Map::value_type;
  std::vector<const KV*> all;
  all.reserve(m.size());
  for (const auto& kv : m) all.push_back(&kv);
  std::size_t n = std::min(kTopN, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    [](const KV* a, const KV* b) {
                      return a->second != b->second ? a->second > b->second : a->first < b->first;
                    });
  for (std::size_t i = 0; i < n; ++i) sum.addRanked(i, all[i]->first, all[i]->second);
}

// State carried across batches by the windowed and stateful loops.
struct LoopState {
  std::deque<CountMap> recent;          // per-batch counts still inside the window
  OwnedCountMap window;                 // the window's counts (or the running state)
  absl::flat_hash_map<std::string, std::string, StrHash, StrEq> ads;  // YSB join table
  simdjson::dom::parser parser;
  std::vector<long> venueCounts;        // per batch, for countByWindow
};

// The state before the first batch (--state-keys), as the engine's initial RDD has it.
void prefill(const RunConfig& cfg, OwnedCountMap& state) {
  state.reserve(static_cast<std::size_t>(cfg.stateKeys));
  for (long i = 0; i < cfg.stateKeys; ++i) state.emplace(stateKey(i), 1L);
}

void step(Workload w, const LineBatch& batch, std::int64_t b, const RunConfig& cfg, LoopState& st,
          RunResult& r, Checksum& sum) {
  switch (w) {
    case Workload::kGrep: {
      long n = 0;
      for (std::string_view line : batch.lines) n += containsAbc(line);
      sum.beginBatch(b), sum.addValue(n), sum.endBatch();
      ++r.outputs;
      return;
    }
    case Workload::kWordCount: {
      CountMap counts;
      countWords(batch, counts);
      sum.beginBatch(b), addAll(sum, counts), sum.endBatch();
      r.keys = static_cast<long>(counts.size());
      ++r.outputs;
      return;
    }
    case Workload::kWindowed:
    case Workload::kWindowedNoInv: {
      // Incremental: add the entering batch, subtract the one leaving, drop zero counts.
      // Both variants have the same result, so the best loop serves for both.
      st.recent.emplace_back();
      countWords(batch, st.recent.back());
      for (const auto& [k, v] : st.recent.back()) {
        auto it = st.window.find(k);
        if (it == st.window.end()) st.window.emplace(std::string(k), v); else it->second += v;
      }
      if (st.recent.size() > static_cast<std::size_t>(cfg.windowBatches)) {
        for (const auto& [k, v] : st.recent.front()) {
          auto it = st.window.find(k);
          if ((it->second -= v) == 0) st.window.erase(it);
        }
        st.recent.pop_front();
      }
      sum.beginBatch(b), addAll(sum, st.window), addTop(sum, st.window), sum.endBatch();
      r.keys = static_cast<long>(st.window.size());
      ++r.outputs;
      return;
    }
    case Workload::kRunning: {
      if (b == 0) prefill(cfg, st.window);
      CountMap counts;
      countWords(batch, counts);
      for (const auto& [k, v] : counts) {
        auto it = st.window.find(k);
        if (it == st.window.end()) st.window.emplace(std::string(k), v); else it->second += v;
      }
      sum.beginBatch(b), addAll(sum, st.window), sum.endBatch();
      r.keys = static_cast<long>(st.window.size());
      ++r.outputs;
      return;
    }
    case Workload::kMapWithState: {
      // The batch's counts, then each word's new total, emitted for the words of the batch.
      if (b == 0) prefill(cfg, st.window);
      CountMap counts;
      countWords(batch, counts);
      sum.beginBatch(b);
      for (const auto& [k, v] : counts) {
        auto it = st.window.find(k);
        if (it == st.window.end()) it = st.window.emplace(std::string(k), 0).first;
        sum.addPair(k, it->second += v);
      }
      sum.endBatch();
      r.keys = static_cast<long>(counts.size());
      ++r.outputs;
      return;
    }
    case Workload::kYsb:
    case Workload::kYsbEngineWindow: {
      if (st.ads.empty()) {
        for (auto& ad : datagen::ysbAds(1)) st.ads.emplace(ad.adId, ad.campaignId);
      }
      for (std::string_view line : batch.lines) {
        simdjson::dom::element doc;
        if (st.parser.parse(line.data(), line.size()).get(doc)) continue;
        std::string_view type, ad;
        if (doc["event_type"].get_string().get(type) || type != "view") continue;
        if (doc["ad_id"].get_string().get(ad)) continue;
        auto it = st.ads.find(ad);
        if (it != st.ads.end()) ++st.window[it->second];
      }
      if ((b + 1) % kYsbWindowBatches == 0) {
        sum.beginBatch(b), addAll(sum, st.window), sum.endBatch();
        r.keys = static_cast<long>(st.window.size());
        ++r.outputs;
        st.window.clear();
      }
      return;
    }
    case Workload::kVenue:
    case Workload::kVenueEngineWindow: {
      OwnedCountMap counts;
      long n = 0;
      for (std::string_view line : batch.lines) {
        simdjson::dom::element doc;
        std::string_view name;
        if (st.parser.parse(line.data(), line.size()).get(doc)) continue;
        if (doc["venue"]["venue_name"].get_string().get(name)) continue;
        auto it = counts.find(name);
        if (it == counts.end()) counts.emplace(std::string(name), 1); else ++it->second;
        ++n;
      }
      sum.beginBatch(b), addAll(sum, counts), sum.endBatch();
      r.keys = static_cast<long>(counts.size());
      ++r.outputs;
      st.venueCounts.push_back(n);
      if ((b + 1) % kVenueSlideBatches == 0) {
        long windowCount = 0;
        std::size_t from = st.venueCounts.size() > kVenueWindowBatches ? st.venueCounts.size() - kVenueWindowBatches : 0;
        for (std::size_t i = from; i < st.venueCounts.size(); ++i) windowCount += st.venueCounts[i];
        sum.beginBatch(-1 - b), sum.addValue(windowCount), sum.endBatch();
      }
      return;
    }
  }
}

}  // namespace

RunResult runLoop(Workload w, const Input& in, const RunConfig& cfg) {
  RunResult r;
  Checksum sum;
  sum.dumpAs("L");
  LoopState st;
  auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < cfg.warmup + cfg.measured; ++b) {
    if (b == cfg.warmup) start = std::chrono::steady_clock::now();
    auto batchStart = std::chrono::steady_clock::now();
    step(w, in.batch(static_cast<std::size_t>(b)), b, cfg, st, r, sum);
    if (cfg.onBatch) cfg.onBatch(b, secondsSince(batchStart));
  }
  r.seconds = secondsSince(start);
  r.checksum = sum.value();
  return r;
}

}  // namespace dstream::bench
