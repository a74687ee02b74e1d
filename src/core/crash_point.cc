#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace dstream::detail {
namespace {

struct Target {
  std::string name;
  long n = 0;
};

Target parseTarget() {
  const char* env = std::getenv("DSTREAM_CRASH_POINT");
  if (!env) return {};
  std::string s(env);
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return {s, 1};
  return {s.substr(0, colon), std::atol(s.c_str() + colon + 1)};
}

const Target& target() {
  static const Target t = parseTarget();
  return t;
}

std::atomic<long> gHits{0};

}  // namespace

const bool kCrashPointsEnabled = std::getenv("DSTREAM_CRASH_POINT") != nullptr;

void crashPointSlow(const char* name) {
  const Target& t = target();
  if (t.name != name) return;
  if (gHits.fetch_add(1) + 1 == t.n) ::kill(::getpid(), SIGKILL);
}

}  // namespace dstream::detail
