// The hash shuffle's pieces: byte-string equality, packed keys, and combineByKey's merge of
// per-destination tables, checked against plain maps.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "dstream/detail/large_pages.h"
#include "dstream/detail/shuffle.h"
#include "dstream/hash.h"
#include "dstream/rdd.h"

namespace dstream {
namespace {

TEST(SameBytesTest, AgreesWithStringEqualityForEveryLengthAndPosition) {
  // Every length around the 4-, 8- and 16-byte paths, and a difference at each position.
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x');
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 7) % 26);
    // Compare views inside larger buffers, so that reading past a key would be caught.
    std::string left(n + 2, '[');
    std::string right(n + 2, '<');
    left.replace(1, n, a);
    right.replace(1, n, a);
    std::string_view l(left.data() + 1, n), r(right.data() + 1, n);
    EXPECT_TRUE(sameBytes(l, r)) << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string changed = right;
      changed[1 + i] ^= 0x20;
      EXPECT_FALSE(sameBytes(l, std::string_view(changed.data() + 1, n))) << n << " at " << i;
    }
    if (n > 0) {
      EXPECT_FALSE(sameBytes(l, std::string_view(right.data() + 1, n - 1))) << n;
    }
  }
}

TEST(PackedKeysTest, KeepsEveryKeyIntactAcrossChunksIncludingLongAndEmptyOnes) {
  detail::PackedKeys packed;
  std::vector<std::string> originals;
  std::vector<std::string_view> kept;
  for (int i = 0; i < 5000; ++i) originals.push_back(std::string("key-").append(std::to_string(i * 7919)));
  originals.push_back(std::string(3 << 20, 'L'));  // larger than any chunk
  originals.push_back("");
  originals.push_back("after");
  for (const auto& s : originals) kept.push_back(packed.keep(s));
  for (std::size_t i = 0; i < originals.size(); ++i) {
    EXPECT_EQ(kept[i], originals[i]) << i;
    if (!originals[i].empty()) {
      EXPECT_NE(kept[i].data(), originals[i].data());
    }
  }
}

// Words from buffers that the test drops before reading the result: the result's keys must
// stay readable (they point into packed copies owned by the result).
TEST(CombineByKeyTest, ReduceByKeyOfViewsMatchesAMapAndOutlivesItsInput) {
  for (std::size_t parts : {1u, 2u, 3u}) {
    for (std::size_t numOut : {1u, 2u, 5u}) {
      std::map<std::string, long> expected;
      RDD<std::pair<std::string_view, long>> counts;
      {
        auto text = std::make_shared<std::vector<std::string>>();
        for (int i = 0; i < 20000; ++i) text->push_back(std::string(1, 'w').append(std::to_string((i * 131) % 997)));
        std::vector<std::pair<std::string_view, long>> pairs;
        for (const auto& w : *text) {
          pairs.emplace_back(w, 1L);
          ++expected[w];
        }
        auto input = RDD<std::pair<std::string_view, long>>::parallelize(pairs, parts);
        counts = input.reduceByKey([](long a, long b) { return a + b; }, numOut);
        for (auto& w : *text) w.assign(w.size(), '#');  // the input's bytes are gone
        text.reset();
      }
      ASSERT_EQ(counts.numPartitions(), numOut);
      std::map<std::string, long> got;
      for (std::size_t p = 0; p < numOut; ++p) {
        for (const auto& [k, v] : counts.partition(p)) {
          EXPECT_EQ(detail::partitionOf(k, numOut), p) << k;
          EXPECT_TRUE(got.emplace(std::string(k), v).second) << "key twice: " << k;
        }
      }
      EXPECT_EQ(got, expected) << parts << " input partitions, " << numOut << " output partitions";
    }
  }
}

TEST(SliceQueueTest, CoversEveryElementOnceInOrderWithoutCrossingPartitions) {
  for (int workers : {1, 2, 4}) {
    detail::ThreadPool pool(workers);
    detail::Partitions<int> in;
    for (std::size_t size : {0u, 1u, 5000u, 100000u, 3u}) {
      in.push_back(std::make_shared<std::vector<int>>(size));
    }
    detail::SliceQueue slices(in, &pool);
    EXPECT_LE(slices.workers(), static_cast<std::size_t>(workers));
    if (workers == 1) {
      EXPECT_EQ(slices.size(), 4u) << "one worker: one slice per non-empty partition";
    } else {
      EXPECT_GT(slices.size(), static_cast<std::size_t>(workers)) << "enough slices to balance";
    }
    // Taken concurrently, as the map side takes them; then checked in index order.
    std::vector<detail::Slice> taken(slices.size());
    std::vector<std::atomic<int>> claims(slices.size());
    detail::forEachIndex(&pool, slices.workers(), [&](std::size_t) {
      std::size_t index = 0;
      while (const detail::Slice* s = slices.next(&index)) {
        taken[index] = *s;
        ++claims[index];
      }
    });
    EXPECT_EQ(slices.next(), nullptr);
    std::size_t partition = 0, at = 0;
    for (std::size_t i = 0; i < taken.size(); ++i) {
      EXPECT_EQ(claims[i].load(), 1) << "slice " << i;
      const detail::Slice& s = taken[i];
      while (partition < in.size() && at == in[partition]->size()) ++partition, at = 0;
      ASSERT_LT(partition, in.size()) << "slice " << i;
      EXPECT_EQ(s.partition, partition) << "slice " << i;
      EXPECT_EQ(s.begin, at) << "slice " << i;
      EXPECT_GT(s.end, s.begin) << "slice " << i;
      EXPECT_LE(s.end, in[partition]->size()) << "slice " << i;
      at = s.end;
    }
    while (partition < in.size() && at == in[partition]->size()) ++partition, at = 0;
    EXPECT_EQ(partition, in.size()) << workers << " workers: the slices end where the input ends";
  }
}

TEST(SliceQueueTest, AnEmptyInputHasNothingToTake) {
  detail::ThreadPool pool(2);
  detail::Partitions<int> in{std::make_shared<std::vector<int>>()};
  detail::SliceQueue slices(in, &pool);
  EXPECT_EQ(slices.size(), 0u);
  EXPECT_EQ(slices.workers(), 0u);
  EXPECT_EQ(slices.next(), nullptr);
}

TEST(CombineByKeyTest, LargeInputsTakenInSlicesByFourWorkersCountExactly) {
  // Enough records for many slices per worker: every slice's table reaches the reduce side.
  std::vector<std::pair<long, long>> pairs;
  for (long i = 0; i < 200000; ++i) pairs.emplace_back(i % 5003, 1);
  for (int workers : {2, 4}) {
    auto pool = std::make_shared<detail::ThreadPool>(workers);
    auto counts = RDD<std::pair<long, long>>::parallelize(pairs, 3, pool).reduceByKey([](long a, long b) { return a + b; }, 2);
    std::map<long, long> got;
    for (const auto& [k, n] : counts.collect()) EXPECT_TRUE(got.emplace(k, n).second) << "key twice: " << k;
    ASSERT_EQ(got.size(), 5003u) << workers;
    for (const auto& [k, n] : got) EXPECT_EQ(n, k < 200000 % 5003 ? 200000 / 5003 + 1 : 200000 / 5003) << k;
  }
}

TEST(CombineByKeyTest, GroupsEveryValueOfAKeyOnceWhateverThePartitioning) {
  std::vector<std::pair<long, long>> pairs;
  for (long i = 0; i < 30000; ++i) pairs.emplace_back(i % 1234, i);
  auto grouped = RDD<std::pair<long, long>>::parallelize(pairs, 4).groupByKey(3);
  std::map<long, long> sums, counts;
  for (const auto& [k, vs] : grouped.collect()) {
    for (long v : vs) sums[k] += v, ++counts[k];
  }
  ASSERT_EQ(counts.size(), 1234u);
  for (long k = 0; k < 1234; ++k) {
    long n = 0, sum = 0;
    for (long i = k; i < 30000; i += 1234) ++n, sum += i;
    EXPECT_EQ(counts[k], n) << k;
    EXPECT_EQ(sums[k], sum) << k;
  }
}

// Counts of `keys` distinct longs, `perKey` records each, combined by combineByKey on 2 workers.
std::map<long, long> combinedCounts(long keys, long perKey, std::size_t numOut, std::vector<std::size_t>* hint) {
  std::vector<std::pair<long, long>> pairs;
  for (long i = 0; i < keys * perKey; ++i) pairs.emplace_back(i % keys, 1);
  auto pool = std::make_shared<detail::ThreadPool>(2);
  auto input = RDD<std::pair<long, long>>::parallelize(pairs, 3, pool);
  auto add = [](long a, long b) { return a + b; };
  auto combined = detail::combineByKey(pool.get(), input.partitions(), detail::IdentityStage{},
                                       [](long v) { return v; }, add, add, numOut, hint);
  std::map<long, long> got;
  for (std::size_t o = 0; o < numOut; ++o) {
    for (const auto& [k, n] : *combined.partitions[o]) {
      EXPECT_EQ(detail::partitionOf(k, numOut), o) << k;
      EXPECT_TRUE(got.emplace(k, n).second) << "key twice: " << k;
    }
  }
  return got;
}

TEST(CombineByKeyTest, SizeHintKeepsTheLargestMapSideTablesAndChangesNoResult) {
  std::vector<std::size_t> hint;
  auto first = combinedCounts(100000, 3, 2, &hint);
  ASSERT_EQ(first.size(), 100000u);
  for (const auto& [k, n] : first) ASSERT_EQ(n, 3) << k;
  ASSERT_EQ(hint.size(), 2u);
  std::size_t keysIn[2] = {0, 0};
  for (const auto& kv : first) ++keysIn[detail::partitionOf(kv.first, 2)];
  for (std::size_t o = 0; o < 2; ++o) {
    // The largest of the two workers' tables for partition o: at least half its keys, at most all.
    EXPECT_GE(hint[o] * 2, keysIn[o]) << o;
    EXPECT_LE(hint[o], keysIn[o]) << o;
  }

  // Tables that large make the next batch prefetch its probes (the deferred path); a larger
  // batch then reserves too little and a much smaller one too much: all exact.
  ASSERT_GE(hint[0] + hint[1], detail::kLargeTableKeys);
  auto larger = combinedCounts(120000, 2, 2, &hint);
  EXPECT_EQ(larger.size(), 120000u);
  for (const auto& [k, n] : larger) ASSERT_EQ(n, 2) << k;
  auto smaller = combinedCounts(100, 7, 2, &hint);
  EXPECT_EQ(smaller.size(), 100u);
  for (const auto& [k, n] : smaller) EXPECT_EQ(n, 7) << k;
  EXPECT_LE(hint[0] + hint[1], 100u);

  // A hint for another number of partitions is ignored, then replaced.
  hint = {1u << 20, 5, 5};
  auto other = combinedCounts(1000, 2, 4, &hint);
  EXPECT_EQ(other.size(), 1000u);
  EXPECT_EQ(hint.size(), 4u);
  EXPECT_EQ(other, combinedCounts(1000, 2, 4, nullptr));
}

TEST(CombineByKeyTest, PrefetchingPathKeepsEachKeysValuesInArrivalOrderAndPacksViewKeys) {
  // One worker, so every key's values meet in input order; view keys whose bytes are
  // overwritten after the combine must still read back (they are packed copies).
  auto text = std::make_shared<std::vector<std::string>>();
  for (long i = 0; i < 3 * 60000; ++i) text->push_back("key" + std::to_string((i * 7919) % 60000));
  std::vector<std::pair<std::string_view, long>> pairs;
  for (long i = 0; i < static_cast<long>(text->size()); ++i) pairs.emplace_back((*text)[i], i);
  auto pool = std::make_shared<detail::ThreadPool>(1);
  auto input = RDD<std::pair<std::string_view, long>>::parallelize(pairs, 2, pool);
  auto create = [](long v) { return std::vector<long>{v}; };
  auto append = [](std::vector<long> c, long v) { c.push_back(v); return c; };
  auto concat = [](std::vector<long> a, const std::vector<long>& b) { a.insert(a.end(), b.begin(), b.end()); return a; };
  std::vector<std::size_t> hint;
  std::map<std::string, std::vector<long>> direct, deferred;
  for (auto* got : {&direct, &deferred}) {
    if (got == &deferred) {
      ASSERT_GE(hint[0] + hint[1], detail::kLargeTableKeys);
    }
    auto combined = detail::combineByKey(pool.get(), input.partitions(), detail::IdentityStage{}, create, append,
                                         concat, 2, &hint);
    for (auto& w : *text) w.assign(w.size(), '#');
    for (const auto& part : combined.partitions) {
      for (const auto& [k, vs] : *part) EXPECT_TRUE(got->emplace(std::string(k), vs).second) << k;
    }
    for (long i = 0; i < static_cast<long>(text->size()); ++i) (*text)[i] = "key" + std::to_string((i * 7919) % 60000);
  }
  ASSERT_EQ(deferred.size(), 60000u);
  EXPECT_EQ(deferred, direct);
  for (const auto& [k, vs] : deferred) {
    ASSERT_EQ(vs.size(), 3u) << k;
    EXPECT_LT(vs[0], vs[1]) << k;
    EXPECT_LT(vs[1], vs[2]) << k;
  }
}

TEST(LargePageAllocatorTest, LargeArraysAreHugePageAlignedAndUsableSmallOnesAsUsual) {
  detail::LargePageAllocator<std::uint64_t> alloc;
  const std::size_t large = (std::size_t{5} << 20) / sizeof(std::uint64_t);  // 5 MB
  const std::size_t mappedBefore = detail::largeArrayBytes().load();
  std::uint64_t* big = alloc.allocate(large);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big) % (std::size_t{2} << 20), 0u);
  EXPECT_EQ(detail::largeArrayBytes().load(), mappedBefore + (std::size_t{6} << 20));  // 5 MB in 2 MB pages
  for (std::size_t i = 0; i < large; ++i) big[i] = i;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < large; ++i) sum += big[i];
  EXPECT_EQ(sum, large * (large - 1) / 2);
  alloc.deallocate(big, large);
  EXPECT_EQ(detail::largeArrayBytes().load(), mappedBefore);  // unmapped, not kept

  std::uint64_t* small = alloc.allocate(100);
  std::memset(small, 0xab, 100 * sizeof(std::uint64_t));
  EXPECT_EQ(small[99], 0xababababababababull);
  alloc.deallocate(small, 100);

  // A table whose slot array crosses the threshold while it grows: every size is freed by the
  // branch that allocated it (ASan checks the pairing, the byte count the mapped ones), and
  // the contents survive each rehash.
  absl::flat_hash_map<long, long, absl::Hash<long>, std::equal_to<long>,
                      detail::LargePageAllocator<std::pair<const long, long>>> table;
  for (long i = 0; i < 400000; ++i) table[i * 7] = i;
  ASSERT_EQ(table.size(), 400000u);
  for (long i = 0; i < 400000; i += 997) EXPECT_EQ(table.at(i * 7), i);
  EXPECT_GT(detail::largeArrayBytes().load(), mappedBefore);
  decltype(table)().swap(table);
  EXPECT_EQ(detail::largeArrayBytes().load(), mappedBefore);
}

}  // namespace
}  // namespace dstream
