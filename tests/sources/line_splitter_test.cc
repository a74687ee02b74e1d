#include "sources/line_splitter.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dstream/bad_records.h"
#include "sources/test_util.h"

namespace dstream::detail {
namespace {

std::vector<std::string> linesOf(const LineBlockPtr& block) {
  if (!block) return {};
  return testing::linesOf({block});
}

// Feeds `chunks` one by one, flushes, and returns the lines of the one sealed block.
std::vector<std::string> split(const std::vector<std::string>& chunks, std::size_t max = 100) {
  LineSplitter splitter("test", max);
  for (const auto& chunk : chunks) splitter.feed(chunk);
  splitter.flush();
  return linesOf(splitter.sealBlock());
}

using Lines = std::vector<std::string>;

TEST(LineSplitterTest, SplitsOnNewlineTable) {
  struct Case {
    std::vector<std::string> chunks;
    Lines lines;
  };
  const Case cases[] = {
      {{"a\nb\n"}, {"a", "b"}},
      {{"ab", "c\nd", "e\n"}, {"abc", "de"}},  // partial lines across chunks
      {{"a\r\nb\r\n"}, {"a", "b"}},            // CRLF
      {{"a\r", "\nb\n"}, {"a", "b"}},          // CR and LF in different chunks
      {{"a\r\r\n"}, {"a\r"}},                  // only one CR removed
      {{"x\rx\n"}, {"x\rx"}},                  // CR inside a line stays
      {{"\n\na\n\n"}, {"", "", "a", ""}},      // empty lines are records
      {{"a\nlast"}, {"a", "last"}},            // final line without newline
      {{"a\nla", "st\r"}, {"a", "last"}},
      {{""}, {}},
      {{"\xff\xfe\x80\n", "caf\xc3\xa9\n"}, {"\xff\xfe\x80", "caf\xc3\xa9"}},  // not UTF-8
      {{std::string("nul\0byte\n", 9)}, {std::string("nul\0byte", 8)}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(split(c.chunks), c.lines) << "first chunk: " << c.chunks[0];
  }
}

TEST(LineSplitterTest, ByteByByteFeedingGivesTheSameLines) {
  std::string text = "alpha\r\n\nbeta\ngamma\r\nend";
  std::vector<std::string> chunks;
  for (char c : text) chunks.emplace_back(1, c);
  EXPECT_EQ(split(chunks), (Lines{"alpha", "", "beta", "gamma", "end"}));
}

TEST(LineSplitterTest, SealKeepsThePartialLineForTheNextBlock) {
  LineSplitter splitter("test");
  EXPECT_EQ(splitter.sealBlock(), nullptr);
  splitter.feed("one\ntw");
  EXPECT_EQ(splitter.pendingLines(), 1u);
  LineBlockPtr first = splitter.sealBlock();
  EXPECT_EQ(linesOf(first), (Lines{"one"}));
  EXPECT_EQ(splitter.sealBlock(), nullptr);  // only the partial line is pending
  splitter.feed("o\nthree\n");
  LineBlockPtr second = splitter.sealBlock();
  EXPECT_EQ(linesOf(second), (Lines{"two", "three"}));
  EXPECT_EQ(linesOf(first), (Lines{"one"}));  // earlier blocks stay valid
  EXPECT_EQ(splitter.linesProduced(), 3);
}

TEST(LineSplitterTest, ViewsPointIntoTheBlocksOwnBytes) {
  LineSplitter splitter("test");
  splitter.feed("a\nbb\n");  // short: the bytes would fit a small string buffer
  LineBlockPtr block = splitter.sealBlock();
  ASSERT_EQ(block->lines.size(), 2u);
  const char* begin = block->bytes.data();
  const char* end = begin + block->bytes.size();
  for (std::string_view line : block->lines) {
    EXPECT_GE(line.data(), begin);
    EXPECT_LE(line.data() + line.size(), end);
  }
}

TEST(LineSplitterTest, OverLongLineIsDroppedCountedAndNeverBufferedWhole) {
  constexpr std::size_t kMax = 1000;
  LineSplitter splitter("socket test:1", kMax);
  std::int64_t badBefore = totalBadRecords();
  splitter.feed("before\n");
  std::string chunk(64 * 1024, 'x');
  std::size_t maxBuffered = 0;
  for (int i = 0; i < 160; ++i) {  // a 10 MiB line
    splitter.feed(chunk);
    maxBuffered = std::max(maxBuffered, splitter.bufferedBytes());
  }
  splitter.feed("tail of the long line\nafter\n");
  EXPECT_LE(maxBuffered, kMax + 1 + 16);
  EXPECT_EQ(splitter.linesDropped(), 1);
  EXPECT_EQ(totalBadRecords(), badBefore + 1);
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"before", "after"}));
}

TEST(LineSplitterTest, LengthLimitIsExactAndIgnoresTheCarriageReturn) {
  std::string atLimit(10, 'a');
  std::string over(11, 'b');
  EXPECT_EQ(split({atLimit + "\n", over + "\n", "ok\n"}, 10), (Lines{atLimit, "ok"}));
  EXPECT_EQ(split({atLimit + "\r\n"}, 10), (Lines{atLimit}));
  EXPECT_EQ(split({over + "\r\n", "ok"}, 10), (Lines{"ok"}));
  EXPECT_EQ(split({atLimit.substr(0, 5), atLimit.substr(5) + "\r", "\n"}, 10), (Lines{atLimit}));
  EXPECT_EQ(split({over}, 10), Lines{});  // an over-long final line without newline
  EXPECT_EQ(split({std::string(50, 'c')}, 10), Lines{});
}

TEST(LineSplitterTest, ConsecutiveOverLongLinesAreEachCounted) {
  LineSplitter splitter("test", 4);
  splitter.feed("123456\n1234567890\nok\n");
  splitter.feed("abcdefg");
  splitter.flush();
  EXPECT_EQ(splitter.linesDropped(), 3);
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"ok"}));
}

TEST(LineSplitterTest, FlushWithNothingPendingAddsNoLine) {
  LineSplitter splitter("test");
  splitter.feed("a\n");
  splitter.flush();
  splitter.flush();
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"a"}));
}

TEST(LineSplitterTest, DiscardPartialDropsAndCountsTheCutLineOnly) {
  LineSplitter splitter("socket test:1");
  std::int64_t badBefore = totalBadRecords();
  splitter.feed("{\"venue\":\"a\"}\n{\"venue\":{\"x\":\"tr");
  splitter.discardPartial("the receiver stopped");
  splitter.flush();  // nothing left to turn into a line
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"{\"venue\":\"a\"}"}));
  EXPECT_EQ(splitter.linesDropped(), 1);
  EXPECT_EQ(totalBadRecords(), badBefore + 1);
  splitter.discardPartial("again");  // no partial line: nothing to count
  splitter.feed("next\n");
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"next"}));
  EXPECT_EQ(splitter.linesDropped(), 1);
}

TEST(LineSplitterTest, DiscardPartialInsideAnOverLongLineCountsItOnce) {
  LineSplitter splitter("test", 4);
  splitter.feed("abcdefgh");  // over-long: counted already, being skipped
  splitter.discardPartial("the receiver stopped");
  splitter.feed("ok\n");
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"ok"}));
  EXPECT_EQ(splitter.linesDropped(), 1);
}

TEST(LineSplitterTest, ReadingIntoTheTailSplitsAsFeedingDoes) {
  LineSplitter splitter("test", 100);
  std::string text = "alpha\r\n\nbeta\ngam";
  char* tail = splitter.tailForOverwrite(text.size());
  std::memcpy(tail, text.data(), text.size());
  splitter.commit(text.size());
  std::string rest = "ma\nend";
  tail = splitter.tailForOverwrite(64);  // asks for more than it uses
  std::memcpy(tail, rest.data(), rest.size());
  splitter.commit(rest.size());
  splitter.flush();
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"alpha", "", "beta", "gamma", "end"}));
}

TEST(LineSplitterTest, ABlockThatGrowsKeepsItsEarlierLinesAndSealedBlocksStayValid) {
  LineSplitter splitter("test", std::size_t{8} << 20);
  Lines expected;
  for (int i = 0; i < 1000; ++i) {
    expected.push_back("line " + std::to_string(i));
    splitter.feed(expected.back() + "\n");
  }
  LineBlockPtr first = splitter.sealBlock();
  // One line larger than any room the splitter gave its blocks: the open block grows (the
  // buffer moves), and the lines before it must move with it.
  splitter.feed("before\n");
  std::string longLine(std::size_t{3} << 20, 'x');
  splitter.feed(longLine.substr(0, 1000));
  splitter.feed(longLine.substr(1000) + "\nafter\n");
  LineBlockPtr second = splitter.sealBlock();
  EXPECT_EQ(linesOf(first), expected);
  EXPECT_EQ(linesOf(second), (Lines{"before", longLine, "after"}));
}

TEST(LineSplitterTest, TailRoomShrinksAsBytesArriveAndSealingGivesANewBlock) {
  LineSplitter splitter("test");
  std::size_t room = splitter.tailRoom();
  EXPECT_GT(room, 0u);
  splitter.feed("abc\nde");
  EXPECT_EQ(splitter.tailRoom(), room - 6);
  LineBlockPtr block = splitter.sealBlock();
  EXPECT_EQ(linesOf(block), (Lines{"abc"}));
  EXPECT_EQ(splitter.bufferedBytes(), 2u);  // the partial line moved on
  splitter.feed("f\n");
  EXPECT_EQ(linesOf(splitter.sealBlock()), (Lines{"def"}));
}

}  // namespace
}  // namespace dstream::detail
