// The hash shuffle's pieces: byte-string equality, packed keys, and combineByKey's merge of
// per-destination tables, checked against plain maps.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dstream
