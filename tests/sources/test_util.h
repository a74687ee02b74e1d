// Helpers for the sources tests: the lines of received blocks, and (from tests/testing/) temp
// directories, files with chosen modification times and loopback listeners.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dstream/detail/line_block.h"
#include "testing/files.h"
#include "testing/loopback.h"

namespace dstream::testing {

inline std::vector<std::string> linesOf(const std::vector<detail::LineBlockPtr>& blocks) {
  std::vector<std::string> lines;
  for (const auto& block : blocks) {
    for (std::string_view line : block->lines) lines.emplace_back(line);
  }
  return lines;
}

}  // namespace dstream::testing
