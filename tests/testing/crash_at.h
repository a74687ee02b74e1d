// For the crash tests' programs: SIGKILLs the process at the n-th pass through a named crash
// point (src/core/crash_point.h), so that a test can stop it between two durable steps.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/crash_point.h"

namespace dstream::testing {

namespace crash_at_detail {
inline std::string name;
inline long at = 0;
inline std::atomic<long> hits{0};
inline void onPass(const char* point) {
  if (name == point && hits.fetch_add(1) + 1 == at) ::kill(::getpid(), SIGKILL);
}
}  // namespace crash_at_detail

// `spec` is "<point>:<n>" ("checkpoint-before-write:2"), or "<point>" for the first pass.
// Call once, before the context starts.
inline void crashAtNthPass(const std::string& spec) {
  auto colon = spec.rfind(':');
  crash_at_detail::name = spec.substr(0, colon);
  crash_at_detail::at = colon == std::string::npos ? 1 : std::atol(spec.c_str() + colon + 1);
  detail::setCrashHandler(crash_at_detail::onPass);
}

}  // namespace dstream::testing
