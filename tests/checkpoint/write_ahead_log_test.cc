#include "checkpoint/write_ahead_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dstream/error.h"
#include "testing/files.h"

namespace dstream::detail {
namespace {

using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::uint64_t kRecordHeader = 20;
constexpr std::uint64_t kSegmentHeader = 16;

// A log whose warnings are collected for inspection.
struct WarnedLog {
  explicit WarnedLog(const std::filesystem::path& dir, std::uint64_t segmentBytes = 1 << 20,
                     WalSync sync = WalSync::kEveryAppend)
      : log(dir.string(), WriteAheadLogOptions{segmentBytes, sync, [this](const std::string& w) {
                                                 warnings.push_back(w);
                                               }}) {}
  std::vector<std::string> warnings;
  WriteAheadLog log;
};

std::vector<std::string> payloads(const std::vector<WalRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.payload);
  return out;
}

std::vector<std::uint64_t> tags(const std::vector<WalRecord>& records) {
  std::vector<std::uint64_t> out;
  for (const auto& r : records) out.push_back(r.tag);
  return out;
}

std::filesystem::path segmentPath(const TempDir& dir, std::uint64_t n) {
  return dir / WriteAheadLog::segmentFileName(n);
}

TEST(WriteAheadLogTest, AppendedRecordsReadBackWithTagsAndHandles) {
  TempDir dir;
  WarnedLog w(dir.path());
  EXPECT_THAT(w.log.readAll(), IsEmpty());
  auto h1 = w.log.append(0, "first");
  auto h2 = w.log.append(std::numeric_limits<std::uint64_t>::max(), "");
  auto h3 = w.log.append(1700000000000, std::string("bin\0ary", 7));
  EXPECT_EQ(h1, (RecordHandle{1, kSegmentHeader, 5}));
  EXPECT_EQ(h2, (RecordHandle{1, kSegmentHeader + kRecordHeader + 5, 0}));
  EXPECT_LT(h1, h2);
  EXPECT_LT(h2, h3);
  auto all = w.log.readAll();
  EXPECT_THAT(payloads(all), ElementsAre("first", "", std::string("bin\0ary", 7)));
  EXPECT_THAT(tags(all), ElementsAre(0, std::numeric_limits<std::uint64_t>::max(), 1700000000000));
  EXPECT_EQ(all[2].handle, h3);
  EXPECT_EQ(w.log.read(h3).payload, std::string("bin\0ary", 7));
  EXPECT_EQ(w.log.read(h1).tag, 0u);
  EXPECT_THAT(w.warnings, IsEmpty());
}

TEST(WriteAheadLogTest, ReopenedLogHasTheRecordsAndAppendsAfterThem) {
  TempDir dir;
  { WarnedLog(dir.path()).log.append(1, "a"); }
  {
    WarnedLog w(dir.path());
    EXPECT_THAT(payloads(w.log.readAll()), ElementsAre("a"));
    w.log.append(2, "b");
    EXPECT_THAT(w.warnings, IsEmpty());
  }
  WarnedLog w(dir.path());
  EXPECT_THAT(payloads(w.log.readAll()), ElementsAre("a", "b"));
  EXPECT_THAT(w.log.segments(), ElementsAre(1));
}

TEST(WriteAheadLogTest, SegmentsRollAtTheConfiguredSize) {
  TempDir dir;
  // 16-byte segment header + two 40-byte records = 96 <= 100; a third would not fit.
  WarnedLog w(dir.path(), 100);
  std::vector<RecordHandle> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(w.log.append(i, std::string(20, 'a' + i)));
  EXPECT_THAT(w.log.segments(), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(handles[2], (RecordHandle{2, kSegmentHeader, 20}));
  EXPECT_EQ(std::filesystem::file_size(segmentPath(dir, 1)), 96u);
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  // A record larger than a segment gets one of its own.
  auto big = w.log.append(10, std::string(500, 'z'));
  EXPECT_EQ(big.segment, 6u);
  EXPECT_EQ(w.log.append(11, "small").segment, 7u);
  EXPECT_EQ(w.log.read(big).payload, std::string(500, 'z'));
}

TEST(WriteAheadLogTest, ReadFromAHandleSkipsEarlierRecords) {
  TempDir dir;
  WarnedLog w(dir.path(), 100);
  std::vector<RecordHandle> handles;
  for (int i = 0; i < 7; ++i) handles.push_back(w.log.append(i, std::string(20, 'x')));
  auto tagsFrom = [&](const RecordHandle& from) {
    std::vector<std::uint64_t> out;
    w.log.forEach(from, [&](WalRecord&& r) { out.push_back(r.tag); });
    return out;
  };
  EXPECT_THAT(tagsFrom(handles[3]), ElementsAre(3, 4, 5, 6));
  EXPECT_THAT(tagsFrom(handles[4]), ElementsAre(4, 5, 6));
  EXPECT_THAT(tagsFrom(RecordHandle{99, 0, 0}), IsEmpty());
}

TEST(WriteAheadLogTest, CleanupDeletesWholeSegmentsOnly) {
  TempDir dir;
  WarnedLog w(dir.path(), 100);
  std::vector<RecordHandle> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(w.log.append(i, std::string(20, 'x')));
  // Record i has tag i. Record 5 is the second of segment 3: segments 1 and 2 go, record 4
  // stays with it.
  EXPECT_EQ(w.log.deleteSegmentsWithTagsBelow(5), 2u);
  EXPECT_THAT(w.log.segments(), ElementsAre(3, 4, 5));
  EXPECT_FALSE(std::filesystem::exists(segmentPath(dir, 1)));
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(4, 5, 6, 7, 8, 9));
  try {
    w.log.read(handles[0]);
    ADD_FAILURE() << "expected kNotFound";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_THAT(e.what(), HasSubstr("no longer exists"));
  }
  // The segment being appended to survives any tag.
  EXPECT_EQ(w.log.deleteSegmentsWithTagsBelow(1000), 2u);
  EXPECT_THAT(w.log.segments(), ElementsAre(5));
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(8, 9));
  w.log.append(10, "after cleanup");
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(8, 9, 10));
}

TEST(WriteAheadLogTest, CleanupByTagDeletesSegmentsOfFinishedBatches) {
  TempDir dir;
  // Tags are batch times; segments hold two records each.
  const std::uint64_t batchOf[] = {1000, 1000, 1000, 2000, 2000, 3000, 3000, 3000};
  { 
    WarnedLog w(dir.path(), 100);
    for (std::uint64_t t : batchOf) w.log.append(t, std::string(20, 'x'));
  }
  WarnedLog w(dir.path(), 100);  // reopened: tags of sealed segments must be read from disk
  EXPECT_EQ(w.log.deleteSegmentsWithTagsBelow(2000), 1u);  // segment 1: {1000, 1000}
  EXPECT_THAT(w.log.segments(), ElementsAre(2, 3, 4));
  EXPECT_EQ(w.log.deleteSegmentsWithTagsBelow(3000), 1u);  // segment 2: {1000, 2000}
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(2000, 3000, 3000, 3000));
  EXPECT_EQ(w.log.deleteSegmentsWithTagsBelow(10000), 1u);  // not the open segment 4
  EXPECT_THAT(w.log.segments(), ElementsAre(4));
}

struct TornTail {
  const char* name;
  std::function<void(const std::filesystem::path&)> tear;
  std::vector<std::string> survivors;
  const char* reason;
};

TEST(WriteAheadLogTest, ATornTailIsDroppedAndAppendsContinueAfterTheLastGoodRecord) {
  const TornTail cases[] = {
      {"garbage shorter than a header", [](auto& p) { testing::appendFile(p, "garbage"); },
       {"one", "two", "three"}, "incomplete record header (7 bytes)"},
      {"half a record",
       [](auto& p) {
         // A whole header announcing 100 bytes, then 10 of them: the crash came mid-payload.
         std::string h(8, '\x11');
         h += std::string("\x64\0\0\0", 4) + std::string(8, '\0') + std::string(10, 'p');
         testing::appendFile(p, h);
       },
       {"one", "two", "three"}, "record of 100 bytes runs past the end (10 bytes left)"},
      {"last record's payload damaged",
       [](auto& p) {
         testing::flipByte(p, std::filesystem::file_size(p) - 1);
       },
       {"one", "two"}, "record checksum mismatch"},
      {"last record cut short",
       [](auto& p) { std::filesystem::resize_file(p, std::filesystem::file_size(p) - 2); },
       {"one", "two"}, "runs past the end"},
      {"zeros from a file system that extended the file",
       [](auto& p) { testing::appendFile(p, std::string(64, '\0')); },
       {"one", "two", "three"}, "record checksum mismatch"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    auto seg = segmentPath(dir, 1);
    {
      WarnedLog w(dir.path());
      w.log.append(1, "one");
      w.log.append(2, "two");
      w.log.append(3, "three");
    }
    std::uint64_t goodSize = std::filesystem::file_size(seg);
    c.tear(seg);
    {
      WarnedLog w(dir.path());
      ASSERT_EQ(w.warnings.size(), 1u);
      EXPECT_THAT(w.warnings[0], HasSubstr(seg.string()));
      EXPECT_THAT(w.warnings[0], HasSubstr("torn bytes"));
      EXPECT_THAT(w.warnings[0], HasSubstr(c.reason));
      EXPECT_THAT(payloads(w.log.readAll()), ::testing::ElementsAreArray(c.survivors));
      if (c.survivors.size() == 3) {
        EXPECT_EQ(std::filesystem::file_size(seg), goodSize);
      }
      w.log.append(4, "four");
      EXPECT_EQ(w.warnings.size(), 1u);
    }
    WarnedLog w(dir.path());
    EXPECT_THAT(w.warnings, IsEmpty());
    auto expected = c.survivors;
    expected.push_back("four");
    EXPECT_THAT(payloads(w.log.readAll()), ::testing::ElementsAreArray(expected));
  }
}

TEST(WriteAheadLogTest, ASegmentTornBeforeItsHeaderWasWrittenIsRemoved) {
  TempDir dir;
  { WarnedLog(dir.path()).log.append(1, "one"); }
  testing::writeFile(segmentPath(dir, 2), "DSW");
  WarnedLog w(dir.path());
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_THAT(w.warnings[0], HasSubstr("torn segment header (3 of 16 bytes); removing it"));
  EXPECT_THAT(w.log.segments(), ElementsAre(1));
  w.log.append(2, "two");
  EXPECT_THAT(payloads(w.log.readAll()), ElementsAre("one", "two"));
}

TEST(WriteAheadLogTest, ASegmentWithABadHeaderIsKeptButSkipped) {
  TempDir dir;
  { WarnedLog(dir.path()).log.append(1, "one"); }
  testing::flipByte(segmentPath(dir, 1), 0);
  WarnedLog w(dir.path());
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_THAT(w.warnings[0], HasSubstr("bad segment header"));
  EXPECT_EQ(w.log.append(2, "two").segment, 2u);
  EXPECT_THAT(payloads(w.log.readAll()), ElementsAre("two"));
  EXPECT_EQ(w.warnings.size(), 2u);  // the read reported segment 1 again
}

TEST(WriteAheadLogTest, DamageInASealedSegmentSkipsTheRestOfThatSegmentOnly) {
  TempDir dir;
  WarnedLog w(dir.path(), 100);
  for (int i = 0; i < 6; ++i) w.log.append(i, std::string(20, 'x'));  // segments 1, 2, 3
  // The second record of segment 2 (tag 3) is damaged; the first (tag 2) is intact.
  testing::flipByte(segmentPath(dir, 2), kSegmentHeader + 2 * kRecordHeader + 20 + 3);
  EXPECT_THAT(tags(w.log.readAll()), ElementsAre(0, 1, 2, 4, 5));
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_THAT(w.warnings[0], HasSubstr(segmentPath(dir, 2).string() +
                                       ": record checksum mismatch at offset 56; skipping the "
                                       "rest of the segment (40 bytes)"));
}

TEST(WriteAheadLogTest, ReadingADamagedOrMismatchedHandleIsDataLoss) {
  TempDir dir;
  WarnedLog w(dir.path());
  auto h = w.log.append(7, "payload");
  auto expectDataLoss = [&](RecordHandle handle, const std::string& what) {
    try {
      w.log.read(handle);
      ADD_FAILURE() << "expected kDataLoss";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  };
  expectDataLoss(RecordHandle{1, h.offset, 3}, "length 7 does not match the handle's 3");
  expectDataLoss(RecordHandle{1, 2, 7}, "inside the segment header");
  expectDataLoss(RecordHandle{1, 1000, 7}, "truncated record header");
  testing::flipByte(segmentPath(dir, 1), h.offset + kRecordHeader);
  expectDataLoss(h, "checksum mismatch");
}

TEST(WriteAheadLogTest, ManualSyncModeKeepsRecordsAfterSync) {
  TempDir dir;
  {
    WarnedLog w(dir.path(), 100, WalSync::kManual);
    for (int i = 0; i < 5; ++i) w.log.append(i, std::string(20, 'm'));
    w.log.sync();
  }
  EXPECT_THAT(tags(WarnedLog(dir.path()).log.readAll()), ElementsAre(0, 1, 2, 3, 4));
}

TEST(WriteAheadLogTest, ACallbackMayAppendWhileReading) {
  TempDir dir;
  WarnedLog w(dir.path());
  w.log.append(1, "a");
  w.log.append(2, "b");
  int seen = 0;
  w.log.forEach(RecordHandle{}, [&](WalRecord&& r) {
    ++seen;
    w.log.append(r.tag + 10, r.payload + "'");
  });
  EXPECT_EQ(seen, 2);  // the snapshot taken at the start
  EXPECT_THAT(payloads(w.log.readAll()), ElementsAre("a", "b", "a'", "b'"));
}

TEST(WriteAheadLogTest, ASecondLogOnTheSameDirectoryIsRefused) {
  TempDir dir;
  WriteAheadLog first(dir.path().string());
  try {
    WriteAheadLog second(dir.path().string());
    FAIL() << "expected kFailedPrecondition";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
    EXPECT_THAT(e.what(), HasSubstr(dir.path().string() + " is already open"));
  }
}

TEST(WriteAheadLogTest, DirectoryNamesAreCheckedLikeTheCheckpointStores) {
  TempDir dir;
  WriteAheadLog viaUri("file://" + (dir / "wal").string());
  EXPECT_EQ(viaUri.directory(), dir / "wal");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "wal"));
  auto expectInvalid = [](const std::string& name, const std::string& what) {
    try {
      WriteAheadLog log(name);
      ADD_FAILURE() << "expected kInvalidArgument for " << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  };
  expectInvalid("hdfs://namenode/wal", "write-ahead log directory \"hdfs://namenode/wal\" uses "
                                       "scheme 'hdfs'");
  testing::writeFile(dir / "file", "x");
  expectInvalid((dir / "file").string(), "is not a directory");
  expectInvalid((dir / "file" / "sub").string(), "Not a directory");
  try {
    WriteAheadLog log((dir / "z").string(), WriteAheadLogOptions{.segmentBytes = 0});
    ADD_FAILURE() << "expected kInvalidArgument";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("segmentBytes must be positive"));
  }
}

TEST(WriteAheadLogTest, OtherFilesInTheDirectoryAreIgnored) {
  TempDir dir;
  testing::writeFile(dir / "wal-1", "short name");
  testing::writeFile(dir / "wal-00000000000000000000", "segment zero is not used");
  testing::writeFile(dir / "README", "notes");
  WarnedLog w(dir.path());
  EXPECT_THAT(w.log.segments(), IsEmpty());
  EXPECT_EQ(w.log.append(1, "x").segment, 1u);
  EXPECT_THAT(w.warnings, IsEmpty());
}

}  // namespace
}  // namespace dstream::detail
