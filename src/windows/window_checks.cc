// Checks of window durations, shared by every window operation (operations/window.h).
#include <string>

#include "dstream/error.h"
#include "dstream/operations/window.h"
#include "dstream/time.h"

namespace dstream::detail {

void validateWindow(std::string_view operation, Duration window, Duration slide, Duration parent) {
  auto suggest = [&](Duration d) {
    auto lower = (d / parent) * parent;
    auto upper = lower + parent;
    std::string s = "use ";
    if (lower.count() > 0) s += formatDuration(lower) + " or ";
    return s + formatDuration(upper);
  };
  std::string op(operation);
  if (window.count() <= 0) throw Error(ErrorCode::kInvalidArgument, op + ": window " + formatDuration(window) + " must be positive");
  if (slide.count() <= 0) throw Error(ErrorCode::kInvalidArgument, op + ": slide " + formatDuration(slide) + " must be positive");
  if (!isMultipleOf(window, parent)) {
    throw Error(ErrorCode::kInvalidArgument, op + ": window " + formatDuration(window) +
                    " is not a multiple of the parent's slide " + formatDuration(parent) + "; " + suggest(window));
  }
  if (!isMultipleOf(slide, parent)) {
    throw Error(ErrorCode::kInvalidArgument, op + ": slide " + formatDuration(slide) +
                    " is not a multiple of the parent's slide " + formatDuration(parent) + "; " + suggest(slide));
  }
}

}  // namespace dstream::detail
