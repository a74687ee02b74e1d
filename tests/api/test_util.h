// The end-to-end tests' helpers under the names the api, examples and recovery tests use; the
// one copy of each lives in tests/testing/.
#pragma once

// The tests that include this also use these, which the old copy of the helpers brought in.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/files.h"
#include "testing/loopback.h"

namespace dstream::test {

using testing::LoopbackServer;
using testing::TempDir;
using testing::writeFileAt;

}  // namespace dstream::test
