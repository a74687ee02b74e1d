#include "sources/replay_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dstream/error.h"
#include "dstream/serialize.h"
#include "sources/input_nodes.h"

namespace dstream::detail {
namespace {

using Files = std::vector<std::string>;
using FileLog = ReplayLog<Files>;
using ::testing::HasSubstr;

const Time kT0 = timeFromMillis(1'700'000'000'000);
Time at(int seconds) { return kT0 + Seconds(seconds); }

// What a Kafka direct stream's batch reads: an offset range per partition.
struct OffsetRange {
  std::string topic;
  int partition = 0;
  std::int64_t from = 0, until = 0;
  friend bool operator==(const OffsetRange&, const OffsetRange&) = default;
};
struct OffsetRangesCodec {
  static void write(BinaryWriter& w, const std::vector<OffsetRange>& ranges) {
    w.writeVarint(ranges.size());
    for (const auto& r : ranges) w.write(std::tuple(r.topic, r.partition, r.from, r.until));
  }
  static std::vector<OffsetRange> read(BinaryReader& r) {
    std::vector<OffsetRange> ranges(r.readCount());
    for (auto& range : ranges) {
      auto [topic, partition, from, until] = r.read<std::tuple<std::string, int, std::int64_t, std::int64_t>>();
      range = {std::move(topic), partition, from, until};
    }
    return ranges;
  }
};

std::string written(const FileLog& log, Time after, Time upTo) {
  BinaryWriter w;
  log.write(w, after, upTo);
  return w.release();
}

FileLog::Batches readBack(std::string_view bytes) {
  FileLog log("files");
  BinaryReader r(bytes, "inputs of stream #0 in /ckpt/checkpoint-1");
  auto batches = log.readBatches(r);
  EXPECT_TRUE(r.atEnd());
  return batches;
}

TEST(ReplayLogTest, WritesTheBatchesInTheSpanAskedAndReadsThemBack) {
  FileLog log("files");
  log.record(at(1), {"a"});
  log.record(at(2), {"b", "c"});
  log.record(at(3), {});
  log.record(at(4), {"d"});
  EXPECT_EQ(readBack(written(log, at(1), at(3))), (FileLog::Batches{{at(2), {"b", "c"}}, {at(3), {}}}));
  EXPECT_EQ(readBack(written(log, at(0), at(9))), log.batches());
  EXPECT_EQ(readBack(written(log, at(4), at(9))), FileLog::Batches{});
  ASSERT_NE(log.find(at(2)), nullptr);
  EXPECT_EQ(*log.find(at(2)), (Files{"b", "c"}));
  EXPECT_EQ(log.find(at(5)), nullptr);
}

// The bytes of checkpoints written before the ReplayLog: textFileStream wrote the files per
// batch as a std::map<Time, std::vector<std::string>>.
TEST(ReplayLogTest, FileBatchesAreEncodedAsTheMapCheckpointsAlreadyHold) {
  FileLog log("files");
  log.record(at(1), {"/in/a.txt"});
  log.record(at(2), {"/in/b.txt", "/in/c.txt"});
  BinaryWriter w;
  w.write(std::map<Time, Files>{{at(1), {"/in/a.txt"}}, {at(2), {"/in/b.txt", "/in/c.txt"}}});
  EXPECT_EQ(written(log, at(0), at(2)), w.data());
}

// socketTextStream wrote, per batch, the time and its records as varints.
TEST(ReplayLogTest, WalRecordBatchesKeepTheirBytes) {
  ReplayLog<std::vector<RecordHandle>, WalRecordsCodec> log("write-ahead log records");
  log.record(timeFromMillis(1000), {{.segment = 1, .offset = 16, .length = 300}, {.segment = 2, .offset = 200, .length = 5}});
  log.record(timeFromMillis(1100), {});
  BinaryWriter w;
  log.write(w, timeFromMillis(0), timeFromMillis(2000));
  // 2 batches; t=1000 zigzag 2000 = 0xd0 0x0f; 2 records (1, 16, 300 = 0xac 0x02), (2, 200 =
  // 0xc8 0x01, 5); t=1100 zigzag 2200 = 0x98 0x11; 0 records.
  const std::string expected("\x02\xd0\x0f\x02\x01\x10\xac\x02\x02\xc8\x01\x05\x98\x11\x00", 15);
  EXPECT_EQ(w.data(), expected);
  BinaryReader r(expected, "wal test");
  EXPECT_EQ(log.readBatches(r), log.batches());
  EXPECT_TRUE(r.atEnd());
}

TEST(ReplayLogTest, RecoveredBatchesReplayUpToTheCheckpointAndLaterOnesReadNewData) {
  FileLog log("files");
  EXPECT_FALSE(log.recovering());
  log.record(at(1), {"old"});
  EXPECT_EQ(log.replayed(at(1)), std::nullopt);  // not recovering: every batch reads new data

  log.recover({{at(2), {"a"}}, {at(4), {"b"}}}, /*upTo=*/at(4));
  EXPECT_TRUE(log.recovering());
  EXPECT_EQ(log.replayed(at(2)), Files{"a"});
  EXPECT_EQ(log.replayed(at(3)), Files{});  // ran before the crash and read nothing
  EXPECT_EQ(log.replayed(at(4)), Files{"b"});
  EXPECT_EQ(log.replayed(at(5)), std::nullopt);
  // The recovered batches are carried into the next checkpoint; the old record is gone.
  EXPECT_EQ(log.find(at(1)), nullptr);
  log.record(at(5), {"new"});
  EXPECT_EQ(readBack(written(log, at(0), at(5))), (FileLog::Batches{{at(2), {"a"}}, {at(4), {"b"}}, {at(5), {"new"}}}));
}

TEST(ReplayLogTest, ForgetsBatchesOlderThanTheSpanKept) {
  FileLog log("files");
  for (int s = 1; s <= 6; ++s) log.record(at(s), {std::to_string(s)});
  log.forgetOld(at(6));  // keeps nothing at or before t - 0
  EXPECT_TRUE(log.batches().empty());

  for (int s = 1; s <= 6; ++s) log.record(at(s), {std::to_string(s)});
  log.keepFor(Seconds(3));
  log.forgetOld(at(6));  // keeps (3, 6]
  EXPECT_EQ(log.batches().begin()->first, at(4));
  log.forgetOld(at(6), /*atLeast=*/Seconds(1));  // the longer of the two spans wins
  EXPECT_EQ(log.batches().begin()->first, at(4));
  log.forgetOld(at(7), /*atLeast=*/Seconds(2));
  EXPECT_EQ(log.batches().begin()->first, at(5));
  EXPECT_EQ(log.batches().size(), 2u);
}

TEST(ReplayLogTest, RecoveredBatchesAreForgottenLikeRecordedOnes) {
  FileLog log("files");
  log.keepFor(Seconds(2));
  log.recover({{at(1), {"a"}}, {at(2), {"b"}}, {at(3), {"c"}}}, at(3));
  log.forgetOld(at(4));
  EXPECT_EQ(log.replayed(at(1)), Files{});  // no longer recorded: a window no longer asks
  EXPECT_EQ(log.replayed(at(3)), Files{"c"});
}

TEST(ReplayLogTest, AnInputTypeWithItsOwnCodecRoundTrips) {
  ReplayLog<std::vector<OffsetRange>, OffsetRangesCodec> log("offset ranges");
  std::vector<OffsetRange> batch{{"rsvps", 0, 100, 150}, {"rsvps", 1, 7, 7}};
  log.record(at(1), batch);
  BinaryWriter w;
  log.write(w, at(0), at(1));
  std::string bytes = w.release();
  ReplayLog<std::vector<OffsetRange>, OffsetRangesCodec> recovered("offset ranges");
  BinaryReader r(bytes, "kafka test");
  recovered.read(r, at(1));
  EXPECT_TRUE(r.atEnd());
  EXPECT_EQ(recovered.replayed(at(1)), batch);
}

// Malformed bytes throw Error(kDataLoss) naming the bytes' context and what was being read;
// returns the message.
std::string expectDataLoss(std::string_view bytes, const std::string& reading) {
  FileLog log("files");
  BinaryReader r(bytes, "inputs of stream #3 in /ckpt/checkpoint-9");
  try {
    log.readBatches(r);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
    EXPECT_THAT(e.what(), HasSubstr("inputs of stream #3 in /ckpt/checkpoint-9: "));
    EXPECT_THAT(e.what(), HasSubstr("(reading " + reading + ")"));
    return e.what();
  }
  ADD_FAILURE() << "no error for bytes reading " << reading;
  return "";
}

TEST(ReplayLogTest, MalformedBytesAreDataLossNamingWhatWasRead) {
  FileLog log("files");
  log.record(at(1), {"a.txt"});
  log.record(at(2), {"b.txt"});
  std::string good = written(log, at(0), at(2));

  expectDataLoss("", "the number of batches with recorded files");
  expectDataLoss(good.substr(0, 3), "the time of a batch with recorded files");
  EXPECT_THAT(expectDataLoss(good.substr(0, good.size() - 2), "the files of batch 1700000002000 ms"),
              HasSubstr("truncated input"));
  // A count larger than the batches there are runs out of bytes reading the next time.
  std::string tooMany = good;
  tooMany[0] = 3;
  expectDataLoss(tooMany, "the time of a batch with recorded files");

  BinaryWriter w;  // batch times out of order: never written by write()
  w.writeVarint(2);
  w.write(at(2));
  w.write(Files{"x"});
  w.write(at(1));
  w.write(Files{"y"});
  EXPECT_THAT(expectDataLoss(w.data(), "the time of a batch with recorded files"),
              HasSubstr("batch time 1700000001000 ms is not after 1700000002000 ms"));
}

}  // namespace
}  // namespace dstream::detail
