#include "checkpoint/record_file.h"

#include <fcntl.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint/checkpoint_test_util.h"
#include "dstream/error.h"
#include "testing/files.h"
#include "util/file_io.h"

namespace dstream::detail {
namespace {

using testing::fileNamesIn;
using testing::TempDir;
using ::testing::HasSubstr;

TEST(RecordFileTest, RoundTripsAndLeavesNoTempFile) {
  TempDir dir;
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  auto path = writeAtomically(dir.path(), "state", payload);
  EXPECT_EQ(path, dir / "state");
  EXPECT_EQ(std::filesystem::file_size(path), kRecordFileHeaderSize + 256);
  auto read = readVerified(path);
  ASSERT_TRUE(read.ok()) << read.reason;
  EXPECT_EQ(*read.payload, payload);
  EXPECT_EQ(read.status, RecordFileStatus::kOk);
  EXPECT_EQ(fileNamesIn(dir.path()), std::vector<std::string>{"state"});
}

TEST(RecordFileTest, EmptyPayloadRoundTrips) {
  TempDir dir;
  auto read = readVerified(writeAtomically(dir.path(), "empty", ""));
  ASSERT_TRUE(read.ok()) << read.reason;
  EXPECT_EQ(*read.payload, "");
}

TEST(RecordFileTest, RewritingANameReplacesTheFileWhole) {
  TempDir dir;
  writeAtomically(dir.path(), "f", "first version, longer");
  writeAtomically(dir.path(), "f", "second");
  EXPECT_EQ(*readVerified(dir / "f").payload, "second");
  EXPECT_EQ(fileNamesIn(dir.path()), std::vector<std::string>{"f"});
}

TEST(RecordFileTest, HeaderHasTheDocumentedLayout) {
  std::string file = encodeRecordFile("abc");
  ASSERT_EQ(file.size(), 27u);
  EXPECT_EQ(file.substr(0, 4), "DSCK");
  EXPECT_EQ(file[4], 1);
  EXPECT_EQ(file.substr(5, 3), std::string(3, '\0'));
  EXPECT_EQ(file.substr(8, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(file.substr(24), "abc");
}

struct DamageCase {
  const char* name;
  std::size_t offset;  // byte flipped
  RecordFileStatus status;
  const char* reason;
};

TEST(RecordFileTest, AFlippedByteAnywhereIsDetected) {
  const DamageCase cases[] = {
      {"magic", 0, RecordFileStatus::kBadMagic, "bad magic"},
      {"version", 4, RecordFileStatus::kUnsupportedVersion, "format version 65 is not supported"},
      {"reserved", 6, RecordFileStatus::kBadLength, "reserved header bytes"},
      {"length low byte", 8, RecordFileStatus::kTruncated, "header says 69 payload bytes, file has 5"},
      {"checksum", 20, RecordFileStatus::kBadChecksum, "bad checksum"},
      {"payload", 26, RecordFileStatus::kBadChecksum, "bad checksum: stored"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    auto path = writeAtomically(dir.path(), "f", "hello");
    testing::flipByte(path, c.offset);
    auto read = readVerified(path);
    EXPECT_FALSE(read.ok());
    EXPECT_FALSE(read.payload.has_value());
    EXPECT_EQ(read.status, c.status) << read.reason;
    EXPECT_THAT(read.reason, HasSubstr(path.string() + ": "));
    EXPECT_THAT(read.reason, HasSubstr(c.reason));
  }
}

TEST(RecordFileTest, EveryTruncationIsReportedAsTruncated) {
  TempDir dir;
  auto path = writeAtomically(dir.path(), "f", "some payload");
  std::string whole = testing::readFile(path);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    testing::writeFile(path, whole.substr(0, n));
    auto read = readVerified(path);
    EXPECT_EQ(read.status, RecordFileStatus::kTruncated) << read.reason;
    EXPECT_THAT(read.reason, HasSubstr(n == 0 ? "empty file" : "truncated"));
  }
}

TEST(RecordFileTest, TrailingBytesAreABadLength) {
  TempDir dir;
  auto path = writeAtomically(dir.path(), "f", "abc");
  testing::appendFile(path, "zz");
  auto read = readVerified(path);
  EXPECT_EQ(read.status, RecordFileStatus::kBadLength);
  EXPECT_THAT(read.reason, HasSubstr("header says 3 payload bytes, file has 5"));
}

TEST(RecordFileTest, ForeignFilesAreBadMagicAndMissingFilesNotFound) {
  TempDir dir;
  testing::writeFile(dir / "foreign", "PK\x03\x04 this is a zip file, not a checkpoint");
  EXPECT_EQ(readVerified(dir / "foreign").status, RecordFileStatus::kBadMagic);
  testing::writeFile(dir / "short", "xy");
  EXPECT_EQ(readVerified(dir / "short").status, RecordFileStatus::kBadMagic);
  auto missing = readVerified(dir / "missing");
  EXPECT_EQ(missing.status, RecordFileStatus::kNotFound);
  EXPECT_THAT(missing.reason, HasSubstr((dir / "missing").string()));
}

TEST(RecordFileTest, WritingIntoAnUnusableDirectoryThrowsWithPathAndErrno) {
  TempDir dir;
  testing::writeFile(dir / "file", "x");
  try {
    writeAtomically(dir / "file", "f", "payload");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr((dir / "file").string() + "/.f.tmp-"));
    EXPECT_THAT(e.what(), HasSubstr("Not a directory"));
  }
  EXPECT_THROW(writeAtomically(dir / "missing", "f", "payload"), Error);
}

TEST(RecordFileTest, AFullDiskIsReportedWithThePathAndErrnoText) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto fd = openFile("/dev/full", O_WRONLY);
  try {
    fd.writeAll("some bytes");
    FAIL() << "expected ENOSPC";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("cannot write /dev/full: No space left on device"));
  }
}

}  // namespace
}  // namespace dstream::detail
