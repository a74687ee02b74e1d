// DSTREAM_EXPORT marks what the library exports. dstream is built with hidden visibility
// (-fvisibility=hidden), so that a shared object linking it (the Python extension, a user's
// plugin) exports only the public API, not the engine behind it.
//
// Mark a non-template class (its members, vtable and typeinfo) or a free function that the
// library defines out of line and that user code calls: directly, or from an inline function
// or template in a public header. Templates and inline code are instantiated in the user's
// program and need no mark, with one exception: a static or thread_local variable in inline
// code exists once in libdstream.so and once in the program; keep such state out of line. Both
// libraries are linked from the same objects, so the marked symbols keep default visibility in
// libdstream.a too; a shared object that links it and must not re-export them links with
// -Wl,--exclude-libs,libdstream.a.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define DSTREAM_EXPORT __attribute__((visibility("default")))
#else
#define DSTREAM_EXPORT
#endif
