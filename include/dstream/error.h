// dstream::Error is the one exception type that dstream's public calls throw. Its code says
// what kind of failure it is (abseil's status vocabulary); its message says what was wrong,
// where, and how to fix it, e.g.
//   "reduceByKeyAndWindow: window 25s is not a multiple of the parent's slide 10s; use 20s or 30s".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "dstream/export.h"

namespace dstream {

enum class ErrorCode {
  kInvalidArgument,     // a value given by the caller is wrong (a duration, a path, a port)
  kFailedPrecondition,  // the call is not allowed in this state (defining a stream after start())
  kNotFound,            // a directory or file that must exist does not
  kUnavailable,         // a peer cannot be reached (connection refused)
  kDataLoss,            // stored data is corrupt or truncated (a checkpoint file)
  kInternal,            // a failure inside a batch (a user function threw) or an I/O error
};

// Returns the code's name, e.g. "INVALID_ARGUMENT".
DSTREAM_EXPORT std::string_view errorCodeName(ErrorCode code);

class DSTREAM_EXPORT Error : public std::runtime_error {
 public:
  // The message is prefixed with "dstream: " when what() is read.
  Error(ErrorCode code, const std::string& message);

  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace dstream
