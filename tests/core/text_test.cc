// The text helpers: the lazy words()/pieces() ranges against their vector forms and against
// Python's str.split semantics, and words() in a flatMap.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "dstream/dstream.h"
#include "dstream/testing.h"
#include "dstream/text.h"

namespace dstream {
namespace {

template <class Range>
std::vector<std::string> collectAll(const Range& range) {
  std::vector<std::string> out;
  for (std::string_view piece : range) out.emplace_back(piece);
  return out;
}

using Strings = std::vector<std::string>;

TEST(TextTest, WordsSplitsOnEveryAsciiWhitespaceAndDropsEmptyWords) {
  EXPECT_EQ(collectAll(words("")), Strings{});
  EXPECT_EQ(collectAll(words(" \t\r\n\v\f ")), Strings{});
  EXPECT_EQ(collectAll(words("one")), Strings{"one"});
  EXPECT_EQ(collectAll(words("  a  bb\tccc\r\nd\ve\ff  ")), (Strings{"a", "bb", "ccc", "d", "e", "f"}));
  // Views into the argument, not copies.
  std::string line = "x yz";
  auto it = words(line).begin();
  EXPECT_EQ((*it).data(), line.data());
  ++it;
  EXPECT_EQ((*it).data(), line.data() + 2);
}

TEST(TextTest, PiecesKeepsEmptyPiecesAsPythonsSplitWithASeparator) {
  EXPECT_EQ(collectAll(pieces("", ',')), Strings{""});
  EXPECT_EQ(collectAll(pieces(",", ',')), (Strings{"", ""}));
  EXPECT_EQ(collectAll(pieces("a,,b", ',')), (Strings{"a", "", "b"}));
  EXPECT_EQ(collectAll(pieces("a,b,", ',')), (Strings{"a", "b", ""}));
  EXPECT_EQ(collectAll(pieces("no separator", ',')), Strings{"no separator"});
}

TEST(TextTest, TheVectorFormsHoldWhatTheLazyRangesYield) {
  for (std::string_view s : {"", " ", "a", "a b", "  lead and trail  ", "a,,b,", ",", "tab\tnew\nline"}) {
    EXPECT_EQ(collectAll(splitWords(s)), collectAll(words(s))) << s;
    EXPECT_EQ(collectAll(split(s, ',')), collectAll(pieces(s, ','))) << s;
    EXPECT_EQ(collectAll(split(s, ' ')), collectAll(pieces(s, ' '))) << s;
  }
}

TEST(TextTest, WordsFeedsFlatMapWithoutAVectorPerLine) {
  auto out = testing::runStream<std::string>(
      {{"a b", "a"}, {}, {"  b\tc  "}}, [](auto s) {
        return s.flatMap([](const std::string& l) { return words(l); })
            .map([](std::string_view w) { return std::pair<std::string, long>(w, 1); })
            .reduceByKey([](long a, long b) { return a + b; });
      });
  ASSERT_EQ(out.size(), 3u);
  std::map<std::string, long> first(out[0].begin(), out[0].end()), third(out[2].begin(), out[2].end());
  EXPECT_EQ(first, (std::map<std::string, long>{{"a", 2}, {"b", 1}}));
  EXPECT_TRUE(out[1].empty());
  EXPECT_EQ(third, (std::map<std::string, long>{{"b", 1}, {"c", 1}}));
}

}  // namespace
}  // namespace dstream
