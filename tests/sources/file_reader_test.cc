#include "sources/file_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "dstream/bad_records.h"
#include "sources/test_util.h"

namespace dstream::detail {
namespace {

using testing::linesOf;
using testing::TempDir;
using testing::writeFile;
using Lines = std::vector<std::string>;

// The lines of `text` by the simplest reading of the rules.
Lines naiveLines(const std::string& text) {
  Lines lines;
  std::string current;
  for (char c : text) {
    if (c == '\n') {
      if (!current.empty() && current.back() == '\r') current.pop_back();
      lines.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) {
    if (current.back() == '\r') current.pop_back();
    lines.push_back(current);
  }
  return lines;
}

Lines readAllSplits(const std::filesystem::path& path, int numSplits) {
  std::vector<LineBlockPtr> blocks;
  for (int i = 0; i < numSplits; ++i) {
    std::optional<LineBlockPtr> block = readSplit(path, i, numSplits);
    EXPECT_TRUE(block.has_value());
    if (!block) return {};
    EXPECT_NE(*block, nullptr);
    blocks.push_back(*block);
  }
  return linesOf(blocks);
}

TEST(FileReaderTest, SplitsCoverEveryLineExactlyOnce) {
  TempDir dir;
  std::mt19937 rng(20170327);
  for (int round = 0; round < 12; ++round) {
    // Random line lengths, including empty lines, CRLF and long lines; sometimes no final '\n'.
    std::string text;
    int lineCount = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int i = 0; i < lineCount; ++i) {
      int len = std::uniform_int_distribution<int>(0, 3)(rng) == 0
                    ? 0
                    : std::uniform_int_distribution<int>(1, round % 3 == 0 ? 70'000 : 40)(rng);
      for (int j = 0; j < len; ++j) text.push_back(static_cast<char>('a' + (i + j) % 26));
      if (std::uniform_int_distribution<int>(0, 4)(rng) == 0) text.push_back('\r');
      text.push_back('\n');
    }
    if (round % 2 == 1) text += "tail without newline";
    auto path = dir.path() / std::string("f").append(std::to_string(round));
    writeFile(path, text);
    Lines expected = naiveLines(text);
    for (int n : {1, 2, 3, 4, 5, 7, 8, 13, 16, 64, 1000}) {
      EXPECT_EQ(readAllSplits(path, n), expected) << "round " << round << " splits " << n;
    }
  }
}

TEST(FileReaderTest, SplitBoundaryExactlyAtALineStart) {
  TempDir dir;
  auto path = dir.path() / "f";
  writeFile(path, "abc\ndef\n");  // 8 bytes; split 1 of 2 starts at 4, a line start
  EXPECT_EQ(linesOf({*readSplit(path, 0, 2)}), (Lines{"abc"}));
  EXPECT_EQ(linesOf({*readSplit(path, 1, 2)}), (Lines{"def"}));
  writeFile(path, "abcd\nef\n");  // split 1 starts at 4, the '\n': split 0 owns "abcd"
  EXPECT_EQ(linesOf({*readSplit(path, 0, 2)}), (Lines{"abcd"}));
  EXPECT_EQ(linesOf({*readSplit(path, 1, 2)}), (Lines{"ef"}));
}

TEST(FileReaderTest, SplitsReadTheSizeTheyWerePlannedWithWhileTheFileGrows) {
  TempDir dir;
  auto path = dir.path() / "copying";
  writeFile(path, "abc\ndef\nghi\njkl\n");  // planned at 8 bytes; 8 more were appended since
  EXPECT_EQ(linesOf({*readSplit(path, 0, 2, 8)}), (Lines{"abc"}));
  EXPECT_EQ(linesOf({*readSplit(path, 1, 2, 8)}), (Lines{"def"}));
  EXPECT_EQ(linesOf({*readSplit(path, 0, 1, 6)}), (Lines{"abc", "de"}));  // cut where planned
  EXPECT_EQ(linesOf({*readSplit(path, 0, 1, 100)}), (Lines{"abc", "def", "ghi", "jkl"}));  // shrank
}

TEST(FileReaderTest, SmallFileIsOneSplitAndBigFilesAreCapped) {
  EXPECT_EQ(splitCountFor(0, 8), 1);
  EXPECT_EQ(splitCountFor(1000, 8), 1);
  EXPECT_EQ(splitCountFor(3 * kMinSplitBytes, 8), 3);
  EXPECT_EQ(splitCountFor(100 * kMinSplitBytes, 8), 8);
  EXPECT_EQ(splitCountFor(100, 8, 10), 8);
  EXPECT_EQ(splitCountFor(100, 0), 1);

  TempDir dir;
  auto path = dir.path() / "small.txt";
  writeFile(path, "one\ntwo\n");
  auto blocks = readFileSplits(path, 8);
  ASSERT_TRUE(blocks.has_value());
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ(linesOf(*blocks), (Lines{"one", "two"}));
}

TEST(FileReaderTest, LargeFileReadInSeveralSplits) {
  TempDir dir;
  auto path = dir.path() / "big.txt";
  std::string text;
  for (int i = 0; text.size() < 3 * kMinSplitBytes + 100; ++i) {
    text += "record number " + std::to_string(i) + "\r\n";
  }
  writeFile(path, text);
  auto blocks = readFileSplits(path, 4);
  ASSERT_TRUE(blocks.has_value());
  EXPECT_EQ(blocks->size(), 3u);
  EXPECT_EQ(linesOf(*blocks), naiveLines(text));
}

TEST(FileReaderTest, LongLinesAcrossReadPiecesAndSplitEndsAreWhole) {
  // Lines up to 300 KB: longer than the 64 KiB scans that finish a split's last line, and
  // crossing the 1 MiB pieces a split is read in, so a block's buffer grows under its views.
  TempDir dir;
  std::mt19937 rng(42);
  std::string text;
  while (text.size() < 5 * kMinSplitBytes) {
    std::size_t length = std::uniform_int_distribution<std::size_t>(0, 300'000)(rng);
    text += std::string(length, static_cast<char>('a' + text.size() % 26));
    text += (length % 3 == 0) ? "\r\n" : "\n";
  }
  text += "no newline at the end";
  auto path = dir.path() / "long.txt";
  writeFile(path, text);
  Lines expected = naiveLines(text);
  for (int n : {1, 2, 3, 5}) EXPECT_EQ(readAllSplits(path, n), expected) << n << " splits";
}

TEST(FileReaderTest, EdgeFilesTable) {
  struct Case {
    std::string text;
    Lines lines;
  };
  const Case cases[] = {
      {"", {}},
      {"\n", {""}},
      {"\n\n", {"", ""}},
      {"no newline", {"no newline"}},
      {"a\r\nb\r\n", {"a", "b"}},
      {"a\r\nlast\r", {"a", "last"}},
      {"\xff\xfe\n\xc3\x28\n", {"\xff\xfe", "\xc3\x28"}},  // invalid UTF-8 passes through
  };
  TempDir dir;
  auto path = dir.path() / "edge.txt";
  for (const auto& c : cases) {
    writeFile(path, c.text);
    auto blocks = readFileSplits(path, 4);
    ASSERT_TRUE(blocks.has_value());
    ASSERT_EQ(blocks->size(), 1u);
    EXPECT_EQ(linesOf(*blocks), c.lines) << c.text;
    for (int n : {2, 3, 5}) EXPECT_EQ(readAllSplits(path, n), c.lines) << c.text << " " << n;
  }
}

TEST(FileReaderTest, VanishedOrUnreadableFileIsNulloptAndReported) {
  TempDir dir;
  std::int64_t before = totalBadRecords();
  EXPECT_FALSE(readFileSplits(dir.path() / "vanished.txt", 4).has_value());
  EXPECT_FALSE(readSplit(dir.path() / "vanished.txt", 0, 1).has_value());
  EXPECT_FALSE(readFileSplits(dir.path(), 4).has_value());  // a directory
  EXPECT_FALSE(readSplit(dir.path(), 0, 1).has_value());
  EXPECT_EQ(totalBadRecords(), before + 4);

  if (::geteuid() != 0) {  // root reads anything
    auto path = dir.path() / "secret.txt";
    writeFile(path, "x\n");
    ::chmod(path.c_str(), 0);
    EXPECT_FALSE(readFileSplits(path, 1).has_value());
  }
}

}  // namespace
}  // namespace dstream::detail
