#include "checkpoint/checkpoint_store.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint/checkpoint_test_util.h"
#include "checkpoint/record_file.h"
#include "dstream/error.h"
#include "testing/files.h"

namespace dstream::detail {
namespace {

using testing::expectError;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::int64_t> times(const CheckpointStore& store) {
  std::vector<std::int64_t> out;
  for (const auto& f : store.listCheckpoints()) out.push_back(f.batchTimeMs);
  return out;
}

// A store whose warnings are collected for inspection.
struct WarnedStore {
  explicit WarnedStore(const std::filesystem::path& dir, int retain = 10)
      : store(dir.string(),
              CheckpointStoreOptions{.retain = retain, .onWarning = [this](const std::string& w) {
                                       warnings.push_back(w);
                                     }}) {}
  std::vector<std::string> warnings;
  CheckpointStore store;
};

TEST(CheckpointStoreTest, NewestCheckpointWins) {
  TempDir dir;
  WarnedStore s(dir.path());
  EXPECT_EQ(s.store.readLatestValid(), std::nullopt);
  s.store.write(3000, "three");
  s.store.write(1000, "one");
  s.store.write(2000, "two");
  auto latest = s.store.readLatestValid();
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->batchTimeMs, 3000);
  EXPECT_EQ(latest->bytes, "three");
  EXPECT_EQ(latest->path, dir / "checkpoint-3000");
  EXPECT_THAT(times(s.store), ElementsAre(1000, 2000, 3000));
  EXPECT_TRUE(s.warnings.empty());
}

TEST(CheckpointStoreTest, ANewStoreReadsWhatAnEarlierOneWrote) {
  TempDir dir;
  { CheckpointStore(dir.path().string()).write(5000, "state"); }
  EXPECT_EQ(CheckpointStore(dir.path().string()).readLatestValid()->bytes, "state");
}

TEST(CheckpointStoreTest, WritingTheSameTimeAgainReplacesIt) {
  TempDir dir;
  CheckpointStore store(dir.path().string());
  store.write(1000, "old");
  store.write(1000, "new");
  EXPECT_EQ(store.readLatestValid()->bytes, "new");
  EXPECT_THAT(times(store), ElementsAre(1000));
}

TEST(CheckpointStoreTest, DamagedNewestFallsBackWithAWarningNamingTheFile) {
  struct Damage {
    const char* name;
    std::function<void(const std::filesystem::path&)> apply;
    const char* reason;
  };
  const Damage damages[] = {
      {"flipped payload byte", [](auto& p) { testing::flipByte(p, 25); }, "bad checksum"},
      {"torn write", [](auto& p) { std::filesystem::resize_file(p, 30); }, "truncated"},
      {"empty file", [](auto& p) { std::filesystem::resize_file(p, 0); }, "empty file"},
      {"bad magic", [](auto& p) { testing::flipByte(p, 1); }, "bad magic"},
  };
  for (const auto& d : damages) {
    SCOPED_TRACE(d.name);
    TempDir dir;
    WarnedStore s(dir.path());
    s.store.write(1000, "one: the good one");
    s.store.write(2000, "two: about to be damaged");
    d.apply(dir / "checkpoint-2000");
    auto latest = s.store.readLatestValid();
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->batchTimeMs, 1000);
    EXPECT_EQ(latest->bytes, "one: the good one");
    ASSERT_EQ(s.warnings.size(), 1u);
    EXPECT_THAT(s.warnings[0], HasSubstr((dir / "checkpoint-2000").string()));
    EXPECT_THAT(s.warnings[0], HasSubstr(d.reason));
  }
}

TEST(CheckpointStoreTest, AllDamagedGivesNulloptAndOneWarningPerFile) {
  TempDir dir;
  WarnedStore s(dir.path());
  s.store.write(1000, "one");
  s.store.write(2000, "two");
  testing::flipByte(dir / "checkpoint-1000", 24);
  testing::flipByte(dir / "checkpoint-2000", 24);
  EXPECT_EQ(s.store.readLatestValid(), std::nullopt);
  ASSERT_EQ(s.warnings.size(), 2u);
  EXPECT_THAT(s.warnings[0], HasSubstr("checkpoint-2000"));  // newest first
  EXPECT_THAT(s.warnings[1], HasSubstr("checkpoint-1000"));
}

TEST(CheckpointStoreTest, WarningsGoToStderrByDefault) {
  TempDir dir;
  CheckpointStore store(dir.path().string());
  store.write(1000, "one");
  testing::flipByte(dir / "checkpoint-1000", 24);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(store.readLatestValid(), std::nullopt);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("dstream: warning: skipping damaged checkpoint "));
  EXPECT_THAT(err, HasSubstr((dir / "checkpoint-1000").string()));
}

TEST(CheckpointStoreTest, RetentionKeepsTheNewestK) {
  TempDir dir;
  WarnedStore s(dir.path(), 3);
  for (std::int64_t t = 1; t <= 6; ++t) s.store.write(t * 1000, "x");
  EXPECT_THAT(times(s.store), ElementsAre(4000, 5000, 6000));
  // An old time written late is the oldest, so it is the one dropped.
  s.store.write(500, "late");
  EXPECT_THAT(times(s.store), ElementsAre(4000, 5000, 6000));
}

TEST(CheckpointStoreTest, DefaultRetentionIsTen) {
  TempDir dir;
  CheckpointStore store(dir.path().string());
  for (std::int64_t t = 1; t <= 12; ++t) store.write(t, "x");
  EXPECT_THAT(times(store), ElementsAre(3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  expectError([&] { CheckpointStore(dir.path().string(), {.retain = 0}); },
              ErrorCode::kInvalidArgument, {"retain must be at least 1, got 0"});
}

TEST(CheckpointStoreTest, TempLeftoversAreCleanedOnOpenAndIgnoredByReaders) {
  TempDir dir;
  { CheckpointStore(dir.path().string()).write(1000, "good"); }
  // A crash after the temp file was complete but before the rename.
  testing::writeFile(dir / ".checkpoint-9000.tmp-4242-0",
                              encodeRecordFile("never renamed"));
  testing::writeFile(dir / ".checkpoint-8000.tmp-4242-1", "half");
  testing::writeFile(dir / ".other.tmp-1-1", "not ours");
  CheckpointStore store(dir.path().string());
  EXPECT_FALSE(std::filesystem::exists(dir / ".checkpoint-9000.tmp-4242-0"));
  EXPECT_FALSE(std::filesystem::exists(dir / ".checkpoint-8000.tmp-4242-1"));
  EXPECT_TRUE(std::filesystem::exists(dir / ".other.tmp-1-1"));
  // One appearing while the store is open (another writer mid-write) is not read either.
  testing::writeFile(dir / ".checkpoint-9500.tmp-4242-2",
                              encodeRecordFile("in flight"));
  EXPECT_THAT(times(store), ElementsAre(1000));
  EXPECT_EQ(store.readLatestValid()->bytes, "good");
}

TEST(CheckpointStoreTest, OtherNamesInTheDirectoryAreIgnored) {
  TempDir dir;
  for (const char* name : {"checkpoint-abc", "checkpoint-007", "checkpoint-5.bk", "checkpoint-",
                           "notes.txt"}) {
    testing::writeFile(dir / name, encodeRecordFile("not a checkpoint"));
  }
  CheckpointStore store(dir.path().string());
  EXPECT_TRUE(store.listCheckpoints().empty());
  EXPECT_EQ(store.readLatestValid(), std::nullopt);
  EXPECT_EQ(CheckpointStore::parseFileName("checkpoint--5"), -5);
  EXPECT_EQ(CheckpointStore::fileName(1700000000000), "checkpoint-1700000000000");
}

TEST(CheckpointStoreTest, ReadOnlyStoresReadButNeitherWriteNorClean) {
  TempDir dir;
  CheckpointStore(dir.path().string()).write(1000, "one");
  testing::writeFile(dir / ".checkpoint-2000.tmp-1-1", "leftover");
  CheckpointStore reader(dir.path().string(), {.readOnly = true});
  EXPECT_EQ(reader.readLatestValid()->bytes, "one");
  EXPECT_TRUE(std::filesystem::exists(dir / ".checkpoint-2000.tmp-1-1"));
  expectError([&] { reader.write(3000, "x"); }, ErrorCode::kFailedPrecondition,
              {dir.path().string() + " was opened read-only"});
  expectError([&] { CheckpointStore((dir / "missing").string(), {.readOnly = true}); },
              ErrorCode::kNotFound, {(dir / "missing").string() + " does not exist"});
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

TEST(CheckpointStoreTest, CreatesAMissingDirectory) {
  TempDir dir;
  CheckpointStore store((dir / "a" / "b").string());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "a" / "b"));
  // Only the store's files: the writability probe is gone.
  EXPECT_TRUE(std::filesystem::is_empty(dir / "a" / "b"));
}

TEST(CheckpointStoreTest, AnUnwritableDirectoryIsRejectedWithTheReason) {
  TempDir dir;
  if (::geteuid() == 0) {
    // Root ignores permission bits; a path under a regular file fails for everyone.
    testing::writeFile(dir / "file", "x");
    auto bad = dir / "file" / "sub";
    expectError([&] { CheckpointStore store(bad.string()); }, ErrorCode::kInvalidArgument,
                {"checkpoint directory " + bad.string(), "Not a directory"});
  } else {
    auto ro = dir / "readonly";
    std::filesystem::create_directory(ro);
    std::filesystem::permissions(ro, std::filesystem::perms(0500));
    expectError([&] { CheckpointStore store(ro.string()); }, ErrorCode::kFailedPrecondition,
                {"checkpoint directory " + ro.string(), "not writable", "Permission denied"});
    std::filesystem::permissions(ro, std::filesystem::perms(0700));
  }
}

TEST(CheckpointStoreTest, APathThatIsAFileIsRejected) {
  TempDir dir;
  testing::writeFile(dir / "file", "x");
  expectError([&] { CheckpointStore store((dir / "file").string()); }, ErrorCode::kInvalidArgument,
              {(dir / "file").string(), "is not a directory"});
}

TEST(CheckpointStoreTest, FileUrisAreAcceptedAndOtherSchemesRejected) {
  TempDir dir;
  CheckpointStore viaUri("file://" + dir.path().string());
  EXPECT_EQ(viaUri.directory(), dir.path());
  viaUri.write(1000, "via uri");
  EXPECT_EQ(CheckpointStore("file://localhost" + dir.path().string()).readLatestValid()->bytes,
            "via uri");
  EXPECT_EQ(CheckpointStore("file:" + dir.path().string()).directory(), dir.path());
  expectError([] { CheckpointStore store("hdfs://namenode:8020/ckpt"); },
              ErrorCode::kInvalidArgument,
              {"\"hdfs://namenode:8020/ckpt\" uses scheme 'hdfs'", "use a local path or file://"});
  expectError([] { CheckpointStore store("S3A://bucket/ckpt"); }, ErrorCode::kInvalidArgument,
              {"scheme 's3a'"});
  expectError([] { CheckpointStore store("file://otherhost/ckpt"); }, ErrorCode::kInvalidArgument,
              {"names host 'otherhost'"});
  expectError([] { CheckpointStore store("file:relative"); }, ErrorCode::kInvalidArgument,
              {"not an absolute file URI"});
  expectError([] { CheckpointStore store(""); }, ErrorCode::kInvalidArgument, {"empty"});
}

}  // namespace
}  // namespace dstream::detail
