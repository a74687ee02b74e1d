#include "sources/file_scanner.h"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>

#include "dstream/bad_records.h"
#include "dstream/error.h"
#include "sources/test_util.h"

namespace dstream::detail {
namespace {

using testing::setModTime;
using testing::TempDir;
using testing::writeFile;
namespace fs = std::filesystem;

// Batch times are whole seconds after kStart; file mtimes are set inside their windows.
const Time kStart = timeFromMillis(1'700'000'000'000);
constexpr Duration kBatch = Seconds(10);

Time batch(int n) { return kStart + kBatch * n; }

std::vector<std::string> names(const std::vector<fs::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.filename().string());
  return out;
}

using Names = std::vector<std::string>;

FileStreamScanner started(const TempDir& dir, bool newFilesOnly = true) {
  FileStreamScanner scanner(
      dir.path().string(),
      {.batchDuration = kBatch, .rememberDuration = Seconds(60), .newFilesOnly = newFilesOnly});
  scanner.start(kStart);
  return scanner;
}

// A scanner started after two files were written (one an hour before) and before a third.
FileStreamScanner startedAmongFiles(const TempDir& dir, bool newFilesOnly) {
  writeFile(dir.path() / "preexisting.txt", "p\n", kStart - Seconds(5));
  writeFile(dir.path() / "ancient.txt", "a\n", kStart - Minutes(60));
  auto scanner = started(dir, newFilesOnly);
  writeFile(dir.path() / "new.txt", "n\n", kStart + Seconds(5));
  return scanner;
}

TEST(FileStreamScannerTest, SelectsFilesModifiedInTheBatchWindowSortedByTime) {
  TempDir dir;
  auto scanner = started(dir);
  writeFile(dir.path() / "b.txt", "b\n", batch(0) + Seconds(5));
  writeFile(dir.path() / "a.txt", "a\n", batch(0) + Seconds(5));  // same time: by name
  writeFile(dir.path() / "first.txt", "f\n", batch(0) + Seconds(1));
  writeFile(dir.path() / "at_batch_end.txt", "x\n", batch(1));  // [t - d, t): waits for batch 2
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"first.txt", "a.txt", "b.txt"}));
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), (Names{"at_batch_end.txt"}));
  EXPECT_EQ(names(scanner.findNewFiles(batch(3))), Names{});
}

TEST(FileStreamScannerTest, HiddenCopyingAndSubdirectoriesAreIgnored) {
  TempDir dir;
  auto scanner = started(dir);
  Time inWindow = batch(0) + Seconds(2);
  writeFile(dir.path() / ".hidden", "h\n", inWindow);
  writeFile(dir.path() / "data.txt._COPYING_", "c\n", inWindow);
  fs::create_directory(dir.path() / "sub");
  writeFile(dir.path() / "sub" / "inner.txt", "i\n", inWindow);
  setModTime(dir.path() / "sub", inWindow);
  writeFile(dir.path() / "visible.txt", "v\n", inWindow);
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"visible.txt"}));

  // The finished copy is renamed into place: now it is a new file.
  fs::rename(dir.path() / "data.txt._COPYING_", dir.path() / "data.txt");
  setModTime(dir.path() / "data.txt", batch(1) + Seconds(1));
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), (Names{"data.txt"}));
}

TEST(FileStreamScannerTest, LabCopyAgainIsNotReprocessedButCopyUnderNewNameIs) {
  TempDir dir;
  auto scanner = started(dir);
  writeFile(dir.path() / "words.txt", "hello\n", batch(0) + Seconds(3));
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"words.txt"}));

  // cp words.txt again: same name, new mtime, within the remember window.
  writeFile(dir.path() / "words.txt", "hello\n", batch(1) + Seconds(3));
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), Names{});
  // cp to a new name: processed.
  writeFile(dir.path() / "words2.txt", "hello\n", batch(2) + Seconds(3));
  EXPECT_EQ(names(scanner.findNewFiles(batch(3))), (Names{"words2.txt"}));
}

TEST(FileStreamScannerTest, NameIsForgottenAfterTheRememberWindow) {
  TempDir dir;
  auto scanner = started(dir);  // remember 60s = 6 batches
  writeFile(dir.path() / "f.txt", "x\n", batch(0) + Seconds(1));
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"f.txt"}));
  for (int b = 2; b <= 7; ++b) EXPECT_EQ(names(scanner.findNewFiles(batch(b))), Names{}) << b;
  EXPECT_EQ(scanner.state().files.size(), 0u);                    // pruned
  writeFile(dir.path() / "f.txt", "x\n", batch(7) + Seconds(1));  // copied again much later
  EXPECT_EQ(names(scanner.findNewFiles(batch(8))), (Names{"f.txt"}));
}

TEST(FileStreamScannerTest, FilesOlderThanTheRememberWindowAreIgnored) {
  TempDir dir;
  auto scanner = started(dir);
  scanner.findNewFiles(batch(1));
  // Appears late (moved in with an old mtime): older than batch(10) - 60s.
  writeFile(dir.path() / "old.txt", "o\n", batch(3));
  writeFile(dir.path() / "recent.txt", "r\n", batch(4) + Seconds(1));
  EXPECT_EQ(names(scanner.findNewFiles(batch(10))), (Names{"recent.txt"}));
}

TEST(FileStreamScannerTest, NewFilesOnlyIgnoresFilesPresentAtStart) {
  TempDir dir;
  auto scanner = startedAmongFiles(dir, /*newFilesOnly=*/true);
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"new.txt"}));
}

TEST(FileStreamScannerTest, WithoutNewFilesOnlyTheFirstBatchReadsPresentFiles) {
  TempDir dir;
  auto scanner = startedAmongFiles(dir, /*newFilesOnly=*/false);
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))),
            (Names{"ancient.txt", "preexisting.txt", "new.txt"}));
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), Names{});
}

TEST(FileStreamScannerTest, RememberDurationIsAtLeastSixtySecondsAndAMultipleOfTheBatch) {
  TempDir dir;
  EXPECT_EQ(FileStreamScanner(dir.path().string(),
                              {.batchDuration = Seconds(7), .rememberDuration = Seconds(1)})
                .rememberDuration(),
            Seconds(63));
  EXPECT_EQ(
      FileStreamScanner(dir.path().string(), {.batchDuration = Seconds(90)}).rememberDuration(),
      Seconds(90));
  EXPECT_EQ(FileStreamScanner(dir.path().string(),
                              {.batchDuration = Seconds(10), .rememberDuration = Seconds(120)})
                .rememberDuration(),
            Seconds(120));
}

TEST(FileStreamScannerTest, MissingDirectoryOrFileIsNotFound) {
  TempDir dir;
  FileStreamScanner missing((dir.path() / "nope").string(), {});
  try {
    missing.checkDirectory();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find((dir.path() / "nope").string()), std::string::npos);
  }
  EXPECT_THROW(missing.start(kStart), Error);
  writeFile(dir.path() / "file", "x");
  FileStreamScanner notDir((dir.path() / "file").string(), {});
  try {
    notDir.checkDirectory();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("not a directory"), std::string::npos);
  }
}

TEST(FileStreamScannerTest, OtherSchemesAreRejectedNamingTheScheme) {
  for (std::string uri :
       {"hdfs:///tmp/datastreams", "s3a://bucket/dir", "HDFS://nn:8020/x", "hdfs:/tmp/x"}) {
    try {
      FileStreamScanner scanner(uri, {});
      FAIL() << uri;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      std::string what = e.what();
      std::string scheme = uri.substr(0, uri.find(':'));
      for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_NE(what.find("scheme '" + scheme + "'"), std::string::npos) << what;
      EXPECT_NE(what.find("file://"), std::string::npos) << what;
    }
  }
  EXPECT_THROW(FileStreamScanner("file://otherhost/tmp/x", {}), Error);
  EXPECT_THROW(FileStreamScanner("/tmp", {.batchDuration = Duration::zero()}), Error);
}

TEST(FileStreamScannerTest, FileUrisAndPlainPathsAreAccepted) {
  EXPECT_EQ(localDirectoryFromUri("file:///tmp/datastreams"), fs::path("/tmp/datastreams"));
  EXPECT_EQ(localDirectoryFromUri("FILE:///tmp/x"), fs::path("/tmp/x"));
  EXPECT_EQ(localDirectoryFromUri("file:/tmp/x"), fs::path("/tmp/x"));
  EXPECT_EQ(localDirectoryFromUri("file://localhost/tmp/x"), fs::path("/tmp/x"));
  EXPECT_EQ(localDirectoryFromUri("file:///tmp/with%20space"), fs::path("/tmp/with space"));
  EXPECT_EQ(localDirectoryFromUri("/tmp/datastreams"), fs::path("/tmp/datastreams"));
  EXPECT_EQ(localDirectoryFromUri("relative/dir"), fs::path("relative/dir"));
  EXPECT_EQ(localDirectoryFromUri("odd:name"), fs::path("odd:name"));

  TempDir dir;
  FileStreamScanner scanner("file://" + dir.path().string(), {.batchDuration = kBatch});
  scanner.start(kStart);
  writeFile(dir.path() / "x.txt", "x\n", kStart + Seconds(1));
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"x.txt"}));
}

TEST(FileStreamScannerTest, StateRestoreRoundTripKeepsRememberedNames) {
  TempDir dir;
  auto scanner = started(dir);
  writeFile(dir.path() / "a.txt", "a\n", batch(0) + Seconds(1));
  ASSERT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"a.txt"}));
  FileScannerState saved = scanner.state();
  ASSERT_EQ(saved.files.size(), 1u);
  EXPECT_EQ(saved.startTime, kStart);
  EXPECT_EQ(saved.files[0].path, (dir.path() / "a.txt").string());
  EXPECT_EQ(saved.files[0].modTime, batch(0) + Seconds(1));
  EXPECT_EQ(saved.files[0].batchTime, batch(1));

  // A fresh scanner (a restarted driver) restored from the state does not reread a.txt.
  FileStreamScanner recovered(dir.path().string(), {.batchDuration = kBatch});
  recovered.restore(saved);
  writeFile(dir.path() / "a.txt", "a\n", batch(1) + Seconds(1));
  writeFile(dir.path() / "b.txt", "b\n", batch(1) + Seconds(2));
  EXPECT_EQ(names(recovered.findNewFiles(batch(2))), (Names{"b.txt"}));
  EXPECT_EQ(recovered.state().files.size(), 2u);
  EXPECT_EQ(recovered.state().startTime, kStart);
}

// Issue 10: a file picked up while `cp` was still writing it lost the rest silently.
TEST(FileStreamScannerTest, AFileThatGrowsAfterItWasReadIsReportedOnceWithTheBytesNotRead) {
  TempDir dir;
  auto scanner = started(dir);
  writeFile(dir.path() / "copying.json", "{\"a\":1}\n{\"b\"", batch(0) + Seconds(5));
  ASSERT_EQ(names(scanner.findNewFiles(batch(1))), (Names{"copying.json"}));
  EXPECT_EQ(scanner.selectedSize(dir.path() / "copying.json"), 12);
  std::int64_t before = totalBadRecords();
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), Names{});
  EXPECT_EQ(totalBadRecords(), before);  // unchanged: nothing to say

  testing::appendFile(dir.path() / "copying.json", ":2}\n{\"c\":3}\n");  // the copy goes on
  setModTime(dir.path() / "copying.json", batch(1) + Seconds(5));
  EXPECT_EQ(names(scanner.findNewFiles(batch(2) + Seconds(1))), Names{});  // not read again
  EXPECT_EQ(totalBadRecords(), before + 1);
  EXPECT_EQ(names(scanner.findNewFiles(batch(3))), Names{});
  EXPECT_EQ(totalBadRecords(), before + 1);  // once per change
  EXPECT_EQ(scanner.selectedSize(dir.path() / "copying.json"), 12);  // what was read
}

TEST(FileStreamScannerTest, RequireStableSizeWaitsUntilAFileWasNotWrittenForABatch) {
  TempDir dir;
  FileStreamScanner scanner(dir.path().string(),
                            {.batchDuration = kBatch, .rememberDuration = Seconds(60), .requireStableSize = true});
  scanner.start(kStart);
  writeFile(dir.path() / "old.txt", "o\n", batch(0) + Seconds(1));
  writeFile(dir.path() / "busy.txt", "b\n", batch(1) + Seconds(9));
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), Names{});  // old.txt changed 9 s ago
  EXPECT_EQ(names(scanner.findNewFiles(batch(2))), (Names{"old.txt"}));
  testing::appendFile(dir.path() / "busy.txt", "still\n");  // written again: waits again
  setModTime(dir.path() / "busy.txt", batch(2) + Seconds(5));
  EXPECT_EQ(names(scanner.findNewFiles(batch(3))), Names{});
  EXPECT_EQ(names(scanner.findNewFiles(batch(4))), (Names{"busy.txt"}));
  EXPECT_EQ(scanner.selectedSize(dir.path() / "busy.txt"), 8);
  // With a batch as long as the remember window, a stable file is still inside the window.
  TempDir slowDir;
  FileStreamScanner slow(slowDir.path().string(),
                         {.batchDuration = Seconds(60), .requireStableSize = true});
  slow.start(kStart);
  writeFile(slowDir.path() / "slow.txt", "s\n", kStart + Seconds(30));
  EXPECT_EQ(names(slow.findNewFiles(kStart + Seconds(60))), Names{});
  EXPECT_EQ(names(slow.findNewFiles(kStart + Seconds(120))), (Names{"slow.txt"}));
}

TEST(FileStreamScannerTest, DirectoryRemovedWhileRunningYieldsNoFiles) {
  auto dir = std::make_unique<TempDir>();
  auto scanner = started(*dir);
  fs::path path = dir->path();
  dir.reset();
  EXPECT_EQ(names(scanner.findNewFiles(batch(1))), Names{});
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace dstream::detail
