// Helpers shared by the tests of tests/checkpoint/ (one binary, checkpoint_test).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dstream/error.h"

namespace dstream::testing {

// Returns the names of the entries of `dir`, sorted: what a test expects to find there
// (no temp file left behind, one file per name).
inline std::vector<std::string> fileNamesIn(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs `fn`, which must throw dstream::Error with `code` and a message containing each of
// `substrings`.
inline void expectError(const std::function<void()>& fn, ErrorCode code,
                        const std::vector<std::string>& substrings) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const auto& s : substrings) EXPECT_THAT(e.what(), ::testing::HasSubstr(s));
  }
}

}  // namespace dstream::testing
