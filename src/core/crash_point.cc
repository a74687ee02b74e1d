#include "core/crash_point.h"

namespace dstream::detail {

std::atomic<CrashHandler> gCrashHandler{nullptr};

void setCrashHandler(CrashHandler handler) { gCrashHandler.store(handler, std::memory_order_release); }

}  // namespace dstream::detail
