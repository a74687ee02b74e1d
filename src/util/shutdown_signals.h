// Spark's spark.streaming.stopGracefullyOnShutdown without user signal code: while at least
// one subscriber exists, SIGTERM and SIGINT are caught and handed to a watcher thread (the
// handler only writes the signal number to a pipe, which is async-signal-safe); the watcher
// calls every subscriber: the first signal with graceful = true, later ones with false.
// After the second signal, and when the last subscriber leaves, the dispositions the
// process had before are restored, so a further signal acts as it would have without us.
//
// Thread-safety: all functions may be called from any thread. Callbacks run on the watcher
// thread, one at a time; unsubscribe() waits for a running callback of its subscriber, so a
// callback must not wait for a thread that is unsubscribing.
#pragma once

#include <cstdint>
#include <functional>

namespace dstream::detail {

// Returns a subscription id. Throws Error(kInternal) if the pipe or the watcher thread
// cannot be created.
std::uint64_t subscribeToShutdownSignals(std::function<void(bool graceful)> onSignal);
void unsubscribeFromShutdownSignals(std::uint64_t id);

// The number of signals the watcher has handled since the process started (for tests).
std::int64_t shutdownSignalsHandled();

}  // namespace dstream::detail
