// The layouts (parallelism and input partitioning) that the operation, window and state suites
// run every scenario over: results must not depend on either. Also the batches they compare
// (sorted within each batch: keyed results come out in hash order).
//
//   class KeyedWindowTest : public testing::LayoutTest {};
//   INSTANTIATE_TEST_SUITE_P(Layouts, KeyedWindowTest, testing::allLayouts(), testing::layoutName);
//   TEST_P(KeyedWindowTest, ...) { auto out = runStream<std::string>(input, pipeline, opts()); }
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dstream/testing.h"

namespace dstream::testing {

// (word, count) batches: what most keyed scenarios produce.
using WordCounts = std::vector<std::vector<std::pair<std::string, long>>>;

template <class T>
auto sorted(std::vector<std::vector<T>> batches) { return sortedWithinBatches(std::move(batches)); }

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
  RunOptions opts(Duration batch = Seconds(1), std::size_t numBatches = 0) const {
    return {.batchDuration = batch, .master = GetParam().master, .partitionsPerBatch = GetParam().partitions,
            .numBatches = numBatches};
  }
};

}  // namespace dstream::testing

// Declares the value-parameterised suite `Suite`, a LayoutTest, over allLayouts().
#define DSTREAM_LAYOUT_SUITE(Suite)                        \
  class Suite : public ::dstream::testing::LayoutTest {}; \
  INSTANTIATE_TEST_SUITE_P(Layouts, Suite, ::dstream::testing::allLayouts(), ::dstream::testing::layoutName)
