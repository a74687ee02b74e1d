// DSTREAM_EXPORT marks what the library exports. dstream is built with hidden visibility
// (-fvisibility=hidden), so that a shared object linking it (the Python extension, a user's
// plugin) exports only the public API, not the engine behind it.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define DSTREAM_EXPORT __attribute__((visibility("default")))
#else
#define DSTREAM_EXPORT
#endif
