#include "checkpoint/record_file.h"

#include <fcntl.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint/file_io.h"
#include "testing/files.h"
#include "dstream/error.h"

namespace {

using dstream::Error;
using dstream::ErrorCode;
using dstream::detail::readVerified;
using dstream::detail::RecordFileStatus;
using dstream::detail::writeAtomically;
using dstream::testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> listDir(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RecordFileTest, RoundTripsAndLeavesNoTempFile) {
  TempDir dir;
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  auto path = writeAtomically(dir.path(), "state", payload);
  EXPECT_EQ(path, dir / "state");
  EXPECT_EQ(std::filesystem::file_size(path), dstream::detail::kRecordFileHeaderSize + 256);
  auto read = readVerified(path);
  ASSERT_TRUE(read.ok()) << read.reason;
  EXPECT_EQ(*read.payload, payload);
  EXPECT_EQ(read.status, RecordFileStatus::kOk);
  EXPECT_EQ(listDir(dir.path()), std::vector<std::string>{"state"});
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
  EXPECT_EQ(listDir(dir.path()), std::vector<std::string>{"f"});
}

TEST(RecordFileTest, HeaderHasTheDocumentedLayout) {
  std::string file = dstream::detail::encodeRecordFile("abc");
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
    dstream::testing::flipByte(path, c.offset);
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
  std::string whole = dstream::testing::readFile(path);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    dstream::testing::writeFile(path, whole.substr(0, n));
    auto read = readVerified(path);
    EXPECT_EQ(read.status, RecordFileStatus::kTruncated) << read.reason;
    EXPECT_THAT(read.reason, HasSubstr(n == 0 ? "empty file" : "truncated"));
  }
}

TEST(RecordFileTest, TrailingBytesAreABadLength) {
  TempDir dir;
  auto path = writeAtomically(dir.path(), "f", "abc");
  dstream::testing::appendFile(path, "zz");
  auto read = readVerified(path);
  EXPECT_EQ(read.status, RecordFileStatus::kBadLength);
  EXPECT_THAT(read.reason, HasSubstr("header says 3 payload bytes, file has 5"));
}

TEST(RecordFileTest, ForeignFilesAreBadMagicAndMissingFilesNotFound) {
  TempDir dir;
  dstream::testing::writeFile(dir / "foreign", "PK\x03\x04 this is a zip file, not a checkpoint");
  EXPECT_EQ(readVerified(dir / "foreign").status, RecordFileStatus::kBadMagic);
  dstream::testing::writeFile(dir / "short", "xy");
  EXPECT_EQ(readVerified(dir / "short").status, RecordFileStatus::kBadMagic);
  auto missing = readVerified(dir / "missing");
  EXPECT_EQ(missing.status, RecordFileStatus::kNotFound);
  EXPECT_THAT(missing.reason, HasSubstr((dir / "missing").string()));
}

TEST(RecordFileTest, WritingIntoAnUnusableDirectoryThrowsWithPathAndErrno) {
  TempDir dir;
  dstream::testing::writeFile(dir / "file", "x");
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
  auto fd = dstream::detail::openFile("/dev/full", O_WRONLY);
  try {
    fd.writeAll("some bytes");
    FAIL() << "expected ENOSPC";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("cannot write /dev/full: No space left on device"));
  }
}

TEST(RecordFileTest, TempNamesAreRecognised) {
  using dstream::detail::isTempFileName;
  EXPECT_TRUE(isTempFileName(".checkpoint-100.tmp-42-0"));
  EXPECT_TRUE(isTempFileName(".checkpoint-100.tmp-42-0", "checkpoint-100"));
  EXPECT_FALSE(isTempFileName(".checkpoint-100.tmp-42-0", "checkpoint-1"));
  EXPECT_FALSE(isTempFileName("checkpoint-100"));
  EXPECT_FALSE(isTempFileName(".checkpoint-100.tmp-"));
  EXPECT_FALSE(isTempFileName(".hidden"));
}

}  // namespace
