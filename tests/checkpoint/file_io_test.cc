// Tests of src/util/file_io: the one atomic writer (its error paths above all), temp names
// and file:// URIs. They live here, beside their first user, until tests/util/ exists.
#include "util/file_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "checkpoint/checkpoint_test_util.h"
#include "dstream/error.h"
#include "testing/files.h"

namespace {

namespace fs = std::filesystem;
namespace io = dstream::detail;
using dstream::ErrorCode;
using dstream::testing::expectError;
using dstream::testing::fileNamesIn;
using dstream::testing::readFile;
using dstream::testing::TempDir;

TEST(FileIoTest, AtomicWriteReplacesTheFileAndLeavesNoTempName) {
  TempDir dir;
  io::writeFileAtomically(dir / "f", "first, longer");
  io::writeFileAtomically(dir / "f", [](io::FileDescriptor& fd) {
    fd.writeAll("sec");
    fd.writeAll("ond");
  });
  EXPECT_EQ(readFile(dir / "f"), "second");
  EXPECT_EQ(fileNamesIn(dir.path()), std::vector<std::string>{"f"});
}

TEST(FileIoTest, AtomicWriteIntoAPathUnderARegularFileNamesThePath) {
  // Fails for root too: no permission check, a path component is not a directory.
  TempDir dir;
  dstream::testing::writeFile(dir / "file", "x");
  expectError([&] { io::writeFileAtomically(dir / "file" / "f", "payload"); },
              ErrorCode::kInternal, {(dir / "file").string() + "/.f.tmp-", "Not a directory"});
  EXPECT_EQ(readFile(dir / "file"), "x");
}

TEST(FileIoTest, AtomicWriteIntoAMissingDirectoryIsNotFound) {
  TempDir dir;
  expectError([&] { io::writeFileAtomically(dir / "missing" / "f", "payload"); },
              ErrorCode::kNotFound, {(dir / "missing").string(), "No such file or directory"});
}

TEST(FileIoTest, AFailedRenameNamesBothPathsAndRemovesTheTempFile) {
  TempDir dir;
  fs::create_directories(dir / "target" / "inside");  // a non-empty directory: rename fails
  expectError([&] { io::writeFileAtomically(dir / "target", "payload"); }, ErrorCode::kInternal,
              {"cannot rename", (dir / "target").string()});
  EXPECT_EQ(fileNamesIn(dir.path()), std::vector<std::string>{"target"});
}

TEST(FileIoTest, AWriterThatThrowsLeavesThePreviousFileAndNoTempName) {
  TempDir dir;
  io::writeFileAtomically(dir / "f", "old");
  EXPECT_THROW(io::writeFileAtomically(dir / "f",
                                       [](io::FileDescriptor& fd) {
                                         fd.writeAll("half");
                                         throw std::runtime_error("generator failed");
                                       }),
               std::runtime_error);
  EXPECT_EQ(readFile(dir / "f"), "old");
  EXPECT_EQ(fileNamesIn(dir.path()), std::vector<std::string>{"f"});
}

TEST(FileIoTest, SyncingAPathThatIsNotADirectoryNamesIt) {
  TempDir dir;
  dstream::testing::writeFile(dir / "file", "x");
  expectError([&] { io::syncDirectory(dir / "file"); }, ErrorCode::kInternal,
              {(dir / "file").string(), "Not a directory"});
  expectError([&] { io::writeFileSynced(dir / "file" / "part-00000", "x"); },
              ErrorCode::kInternal, {(dir / "file" / "part-00000").string()});
}

TEST(FileIoTest, TempNamesAreRecognised) {
  using io::isTempFileName;
  EXPECT_TRUE(isTempFileName(".checkpoint-100.tmp-42-0"));
  EXPECT_TRUE(isTempFileName(".checkpoint-100.tmp-42-0", "checkpoint-100"));
  EXPECT_FALSE(isTempFileName(".checkpoint-100.tmp-42-0", "checkpoint-1"));
  EXPECT_FALSE(isTempFileName("checkpoint-100"));
  EXPECT_FALSE(isTempFileName(".checkpoint-100.tmp-"));
  EXPECT_FALSE(isTempFileName(".hidden"));
  fs::path temp = io::tempPathFor(fs::path("/out") / "prefix-1000.txt");
  EXPECT_EQ(temp.parent_path(), fs::path("/out"));
  EXPECT_TRUE(isTempFileName(temp.filename().string(), "prefix-1000.txt"));
  EXPECT_NE(io::tempPathFor("f"), io::tempPathFor("f"));
}

TEST(FileIoTest, FileUrisAndPlainPathsNameLocalDirectories) {
  const std::pair<const char*, const char*> cases[] = {
      {"/tmp/x", "/tmp/x"},
      {"relative/dir", "relative/dir"},
      {"odd:name", "odd:name"},
      {"file:///tmp/x", "/tmp/x"},
      {"FILE:///tmp/x", "/tmp/x"},
      {"file:/tmp/x", "/tmp/x"},
      {"file://localhost/tmp/x", "/tmp/x"},
      {"file:///tmp/with%20space", "/tmp/with space"},
      {"file:///tmp/100%", "/tmp/100%"},
  };
  for (const auto& [uri, path] : cases) EXPECT_EQ(io::localPathFromUri(uri, "test"), fs::path(path)) << uri;
  for (const char* uri : {"hdfs://nn/x", "hdfs:/x", "S3A://bucket/x"}) {
    expectError([&] { io::localPathFromUri(uri, "test directory"); }, ErrorCode::kInvalidArgument,
                {"test directory \"", "uses scheme '", "file:///absolute/path"});
  }
  expectError([] { io::localPathFromUri("file://otherhost/x", "test"); },
              ErrorCode::kInvalidArgument, {"names host 'otherhost'"});
  expectError([] { io::localPathFromUri("file:x", "test"); }, ErrorCode::kInvalidArgument,
              {"not an absolute file URI"});
  expectError([] { io::localPathFromUri("", "test"); }, ErrorCode::kInvalidArgument, {"empty"});
}

}  // namespace
