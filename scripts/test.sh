#!/usr/bin/env bash
# Builds dstream and runs the whole test suite.
#   scripts/test.sh           optimised build (the default)
#   scripts/test.sh asan      AddressSanitizer + UndefinedBehaviorSanitizer build, all tests
#   scripts/test.sh tsan      ThreadSanitizer build, all tests
# After the optimised suite, the parsers' fuzzers run briefly too (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
bash scripts/install-deps.sh
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  cmake --preset fuzz > /dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
