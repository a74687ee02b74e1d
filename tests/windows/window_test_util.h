// Helpers shared by the window and state suites: sorted batches (keyed results come out in
// hash order) and the layouts every result must be independent of.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dstream/testing.h"

namespace dstream::windowtest {

using testing::sortedWithinBatches;
template <class T>
auto sorted(std::vector<std::vector<T>> batches) { return sortedWithinBatches(std::move(batches)); }

// Parallelism and input partitioning: results must not depend on either.
struct Layout {
  const char* master;
  std::size_t partitions;
};

inline std::string layoutName(const ::testing::TestParamInfo<Layout>& info) {
  std::string name = info.param.master;
  for (char& c : name) {
    if (c == '[' || c == ']') c = '_';
  }
  return name + std::to_string(info.param.partitions) + "partitions";
}

inline auto allLayouts() {
  return ::testing::Values(Layout{"local", 1}, Layout{"local[2]", 1}, Layout{"local[2]", 3}, Layout{"local[4]", 4});
}

class LayoutTest : public ::testing::TestWithParam<Layout> {
 protected:
  testing::RunOptions opts(Duration batch = Seconds(1), std::size_t numBatches = 0) const {
    return {.batchDuration = batch, .master = GetParam().master, .partitionsPerBatch = GetParam().partitions,
            .numBatches = numBatches};
  }
};

// Expects `define` to throw Error(kInvalidArgument) with exactly `message`.
template <class F>
void expectInvalid(F define, const std::string& message) {
  try {
    define();
    ADD_FAILURE() << "expected an error: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

}  // namespace dstream::windowtest
