// Test hook for the crash test (tests/recovery/crash_test.cc): named points between two
// durable steps (after an output's temp directory is written but before it is swapped in,
// say) where a test can stop the process. The library itself never crashes here and reads
// no environment variable: a test program installs a handler with setCrashHandler (the
// crash program SIGKILLs itself at the n-th pass through the point it was told), so
// shipped programs cannot be made to kill themselves from outside.
//
// Points: "output-before-swap", "output-after-swap" (saveAsTextFiles), "state-before-write",
// "checkpoint-before-write", "checkpoint-after-write" (after each batch, see
// checkpoint_manager.cc). Without a handler, a point costs one atomic load.
//
// Thread-safety: crashPoint may be called from any thread; install the handler before
// start().
#pragma once

#include <atomic>

namespace dstream::detail {

using CrashHandler = void (*)(const char* name);

// The handler called at every crash point; nullptr (the default) removes it.
void setCrashHandler(CrashHandler handler);

extern std::atomic<CrashHandler> gCrashHandler;

inline void crashPoint(const char* name) {
  if (CrashHandler h = gCrashHandler.load(std::memory_order_acquire)) h(name);
}

}  // namespace dstream::detail
