// Pre-generated input batches for the in-memory benchmarks: each batch is one buffer of
// lines plus views of its lines, generated once so that runs measure processing only.
// A run cycles through a pool of distinct batches (memory stays bounded for long runs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dstream::bench {

struct LineBatch {
  std::shared_ptr<const std::string> bytes;  // owns what `lines` point into
  std::vector<std::string_view> lines;       // without the trailing '\n'
};

struct Input {
  std::vector<LineBatch> pool;
  std::size_t recordsPerBatch = 0;
  std::uint64_t vocab = 0;  // W-records only
  const LineBatch& batch(std::size_t b) const { return pool[b % pool.size()]; }
  std::uint64_t bytesPerBatch() const { return pool.empty() ? 0 : pool[0].bytes->size(); }
};

enum class DataKind { kWRecords, kYsb, kMeetup };

// Generates `poolSize` distinct batches of `records` records each (batch i holds records
// [i * records, (i + 1) * records)), with dstream_datagen's generators and seed 1.
Input makeInput(DataKind kind, std::size_t records, std::size_t poolSize, std::uint64_t vocab);

// Splits a buffer of '\n'-terminated lines into views (no '\n').
std::vector<std::string_view> splitLines(std::string_view text);

}  // namespace dstream::bench
