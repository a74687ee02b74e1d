#include "sources/line_block_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dstream/detail/line_block.h"

namespace dstream::detail {
namespace {

TEST(BlockBytesTest, GrowsKeepsBytesAndLeavesTheRoomUninitialisedForTheCaller) {
  BlockBytes bytes;
  EXPECT_TRUE(bytes.empty());
  bytes.append("hello ");
  char* at = bytes.appendForOverwrite(5);
  std::memcpy(at, "world", 5);
  EXPECT_EQ(std::string_view(bytes), "hello world");
  bytes.reserve(std::size_t{3} << 20);  // a huge-page-sized buffer: the bytes move with it
  EXPECT_GE(bytes.capacity(), std::size_t{3} << 20);
  EXPECT_EQ(std::string_view(bytes), "hello world");
  bytes.truncate(5);
  EXPECT_EQ(std::string_view(bytes), "hello");
  BlockBytes moved(std::move(bytes));
  EXPECT_EQ(std::string_view(moved), "hello");
  EXPECT_EQ(bytes.capacity(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  moved.clear();
  EXPECT_TRUE(moved.empty());
}

TEST(LineBlockTest, ReserveBytesMovesTheViewsWithTheBuffer) {
  LineBlock block;
  block.bytes.append("one\ntwo\n");
  block.lines = {std::string_view(block.bytes).substr(0, 3),
                 std::string_view(block.bytes).substr(4, 3)};
  block.reserveBytes(std::size_t{4} << 20);
  ASSERT_EQ(block.lines.size(), 2u);
  EXPECT_EQ(block.lines[0], "one");
  EXPECT_EQ(block.lines[1], "two");
  EXPECT_EQ(block.lines[0].data(), block.bytes.data());
}

TEST(LineBlockPoolTest, ABlockDroppedIsReusedEmptyWithItsBuffers) {
  constexpr std::size_t kBytes = (std::size_t{5} << 20) + 123;  // a size no other test asks for
  const char* buffer = nullptr;
  {
    auto block = acquireLineBlock(kBytes, 1000);
    EXPECT_GE(block->bytes.capacity(), kBytes);
    EXPECT_GE(block->lines.capacity(), 1000u);
    block->bytes.append("line\n");
    block->lines.push_back(std::string_view(block->bytes).substr(0, 4));
    buffer = block->bytes.data();
  }
  LineBlockPoolStats before = lineBlockPoolStats();
  EXPECT_GE(before.retainedBlocks, 1u);
  auto again = acquireLineBlock(kBytes);
  LineBlockPoolStats after = lineBlockPoolStats();
  EXPECT_EQ(after.reused, before.reused + 1);
  EXPECT_EQ(again->bytes.data(), buffer);
  EXPECT_TRUE(again->bytes.empty());
  EXPECT_TRUE(again->lines.empty());
  EXPECT_GE(again->lines.capacity(), 1000u);  // the views' vector comes back too
}

TEST(LineBlockPoolTest, ASmallRequestDoesNotTakeALargeBuffer) {
  trimLineBlockPool();
  { auto big = acquireLineBlock(std::size_t{16} << 20); }
  EXPECT_EQ(lineBlockPoolStats().retainedBlocks, 1u);
  auto small = acquireLineBlock(1024);
  EXPECT_LT(small->bytes.capacity(), std::size_t{16} << 20);
  EXPECT_EQ(lineBlockPoolStats().retainedBlocks, 1u);  // the large one waits for a large request
  trimLineBlockPool();
  EXPECT_EQ(lineBlockPoolStats().retainedBlocks, 0u);
  EXPECT_EQ(lineBlockPoolStats().retainedBytes, 0u);
}

// Blocks are filled on one thread and dropped on another, as a receiver's blocks are dropped
// by whichever thread releases the batch's RDD last; under TSan this checks the hand-over.
TEST(LineBlockPoolTest, BlocksFilledAndDroppedOnDifferentThreadsStayIntact) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  std::vector<std::thread> threads;
  std::vector<int> bad(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      std::vector<std::shared_ptr<const LineBlock>> kept;
      for (int r = 0; r < kRounds; ++r) {
        auto block = acquireLineBlock(static_cast<std::size_t>(1000 + (r % 7) * 5000), 10);
        std::string line = "thread " + std::to_string(t) + " round " + std::to_string(r);
        for (int i = 0; i < 10; ++i) block->bytes.append(line);
        for (int i = 0; i < 10; ++i) {
          block->lines.push_back(
              std::string_view(block->bytes)
                  .substr(line.size() * static_cast<std::size_t>(i), line.size()));
        }
        kept.push_back(std::move(block));
        if (kept.size() > 3) {
          for (auto v : kept.front()->lines) {
            if (v.substr(0, 7) != "thread ") ++bad[static_cast<std::size_t>(t)];
          }
          kept.erase(kept.begin());  // released here, while other threads acquire
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
  LineBlockPoolStats stats = lineBlockPoolStats();
  EXPECT_LE(stats.retainedBlocks, kMaxRetainedBlocks);
  EXPECT_LE(stats.retainedBytes, kMaxRetainedBytes);
}

}  // namespace
}  // namespace dstream::detail
