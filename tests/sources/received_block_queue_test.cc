#include "sources/received_block_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>

#include "sources/test_util.h"

namespace dstream::detail {
namespace {

using testing::linesOf;

// A block of the given lines, built as sources build them: views made once the bytes are final.
LineBlockPtr blockOf(std::initializer_list<std::string_view> lines) {
  auto block = std::make_shared<LineBlock>();
  std::vector<std::size_t> sizes;
  for (std::string_view line : lines) {
    block->bytes.append(line);
    sizes.push_back(line.size());
  }
  std::string_view all(block->bytes);
  std::size_t offset = 0;
  for (std::size_t size : sizes) {
    block->lines.push_back(all.substr(offset, size));
    offset += size;
  }
  return block;
}

const Time kT0 = timeFromMillis(10'000);

TEST(ReceivedBlockQueueTest, TakeUpToReturnsEarlierBatchesInArrivalOrder) {
  ReceivedBlockQueue queue;
  queue.add(kT0 + Seconds(1), blockOf({"b1"}));
  queue.add(kT0, blockOf({"a1", "a2"}));
  queue.add(kT0 + Seconds(2), blockOf({"c1"}));
  queue.add(kT0, blockOf({"a3"}));
  EXPECT_EQ(queue.receivedRecords(), 5);

  EXPECT_EQ(linesOf(queue.takeUpTo(kT0)), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(queue.pendingBlocks(), 2u);
  EXPECT_TRUE(queue.takeUpTo(kT0).empty());
  EXPECT_EQ(linesOf(queue.takeUpTo(kT0 + Seconds(2))), (std::vector<std::string>{"b1", "c1"}));
  EXPECT_EQ(queue.pendingBlocks(), 0u);
  EXPECT_EQ(queue.receivedRecords(), 5);  // counts what was ever added
}

TEST(ReceivedBlockQueueTest, LateBlockIsTakenByTheNextBatch) {
  ReceivedBlockQueue queue;
  EXPECT_TRUE(queue.takeUpTo(kT0).empty());
  queue.add(kT0, blockOf({"late"}));
  EXPECT_EQ(linesOf(queue.takeUpTo(kT0 + Seconds(1))), (std::vector<std::string>{"late"}));
}

TEST(ReceivedBlockQueueTest, NullAndEmptyBlocksAreIgnored) {
  int hookCalls = 0;
  ReceivedBlockQueue queue([&](Time, const LineBlock&) { ++hookCalls; });
  queue.add(kT0, nullptr);
  queue.add(kT0, std::make_shared<LineBlock>());
  EXPECT_EQ(queue.pendingBlocks(), 0u);
  EXPECT_EQ(queue.receivedRecords(), 0);
  EXPECT_EQ(hookCalls, 0);
}

TEST(ReceivedBlockQueueTest, BeforeAddRunsBeforeTheBlockCounts) {
  ReceivedBlockQueue* self = nullptr;
  std::vector<std::pair<Time, std::int64_t>> seen;  // (batch, records counted at hook time)
  ReceivedBlockQueue queue([&](Time t, const LineBlock& block) {
    EXPECT_EQ(block.lines.size(), 2u);
    seen.emplace_back(t, self->receivedRecords());
  });
  self = &queue;
  queue.add(kT0, blockOf({"x", "y"}));
  queue.add(kT0 + Seconds(1), blockOf({"z", "w"}));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(kT0, std::int64_t{0}));
  EXPECT_EQ(seen[1], std::make_pair(kT0 + Seconds(1), std::int64_t{2}));
}

TEST(ReceivedBlockQueueTest, ThrowingHookKeepsTheBlockOut) {
  ReceivedBlockQueue queue([](Time, const LineBlock&) { throw std::runtime_error("wal full"); });
  EXPECT_THROW(queue.add(kT0, blockOf({"x"})), std::runtime_error);
  EXPECT_EQ(queue.receivedRecords(), 0);
  EXPECT_TRUE(queue.takeUpTo(kT0).empty());
}

TEST(ReceivedBlockQueueTest, WaitForReceivedRecordsSeesAnotherThreadsAdds) {
  ReceivedBlockQueue queue;
  EXPECT_FALSE(queue.waitForReceivedRecords(1, Milliseconds(1)));
  std::jthread producer([&] {
    for (int i = 0; i < 100; ++i) queue.add(kT0, blockOf({"r"}));
  });
  EXPECT_TRUE(queue.waitForReceivedRecords(100, Seconds(10)));
  producer.join();
  EXPECT_EQ(queue.takeUpTo(kT0).size(), 100u);
}

}  // namespace
}  // namespace dstream::detail
