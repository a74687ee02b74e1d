// Expecting a dstream::Error: its code and its message, exactly or in part.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dstream/error.h"

namespace dstream::testing {

// Returns the Error that `f` throws; records a test failure and returns an empty kInternal
// error if it throws none.
template <class F>
Error errorOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a dstream::Error";
  return Error(ErrorCode::kInternal, "");
}

// Expects `f` to throw Error(`code`) whose what() is exactly `message`.
template <class F>
void expectErrorMessage(F&& f, ErrorCode code, const std::string& message) {
  Error e = errorOf(f);
  EXPECT_EQ(e.code(), code) << e.what();
  EXPECT_EQ(std::string(e.what()), message);
}

// Expects `f` to throw Error(`code`) whose what() contains `part`.
template <class F>
void expectErrorContaining(F&& f, ErrorCode code, const std::string& part) {
  Error e = errorOf(f);
  EXPECT_EQ(e.code(), code) << e.what();
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
}

// Expects `define` to throw Error(kInvalidArgument) with exactly `message`.
template <class F>
void expectInvalid(F&& define, const std::string& message) {
  expectErrorMessage(define, ErrorCode::kInvalidArgument, message);
}

}  // namespace dstream::testing
