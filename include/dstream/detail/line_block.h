// A LineBlock is a batch-owned buffer of text lines (or of binaryRecordsStream's fixed-length
// records): one allocation for the bytes, and string_views into it for the records. Sources produce blocks; an RDD<std::string_view>
// keeps the blocks its partitions point into alive, so no record costs a heap allocation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dstream::detail {

struct LineBlock {
  std::string bytes;                    // the lines' bytes (separators may or may not remain)
  std::vector<std::string_view> lines;  // views into `bytes`; never outlive the block
};

// Blocks are shared read-only between the source, the RDDs and windows that use them.
using LineBlockPtr = std::shared_ptr<const LineBlock>;

}  // namespace dstream::detail
