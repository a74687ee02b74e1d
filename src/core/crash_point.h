// Test hook for the crash test (tests/recovery/crash_test.cc): with the environment variable
// DSTREAM_CRASH_POINT=<name>:<n>, the process kills itself with SIGKILL at the n-th time it
// passes crashPoint("<name>"), so a test can stop it exactly between two durable steps
// (after an output's temp directory is written but before it is swapped in, say).
//
// Points: "output-before-swap", "output-after-swap" (saveAsTextFiles), "state-before-write",
// "checkpoint-before-write", "checkpoint-after-write" (after each batch, see
// checkpoint_manager.cc). Unset, a point costs one load of a flag that is read once.
//
// Thread-safety: crashPoint may be called from any thread.
#pragma once

namespace dstream::detail {

void crashPointSlow(const char* name);
extern const bool kCrashPointsEnabled;

// Does nothing unless DSTREAM_CRASH_POINT names `name`; then SIGKILLs at its n-th call.
inline void crashPoint(const char* name) {
  if (kCrashPointsEnabled) crashPointSlow(name);
}

}  // namespace dstream::detail
