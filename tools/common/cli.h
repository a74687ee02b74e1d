// Command-line checks shared by dstream-gen and dstream-replay. CLI11 reads "-5" into an
// unsigned option as 2^64 - 5 and prints the limits of a double as 300-digit numbers; these
// validators run on the text before conversion and say what is allowed in a few words.
// Header-only; internal to the tools.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "dstream/log.h"

namespace dstream::tools {

// Digits only (no sign), at most `max`: "-5", "1e3", "2^64" and overflow are refused.
inline CLI::Validator wholeNumber(std::uint64_t min, std::uint64_t max) {
  std::string limits = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ptr != end || ec != std::errc() || value < min || value > max) {
          return "'" + text + "' is not " + limits;
        }
        return "";
      },
      limits);
}

// A finite decimal number in [min, max] (min may be excluded: "more than 0").
inline CLI::Validator decimalNumber(double min, double max, bool minAllowed = true) {
  auto show = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  std::string limits = "a number " + std::string(minAllowed ? "from " : "more than ") + show(min) +
                       (minAllowed ? " to " : " and at most ") + show(max);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        bool ok = !text.empty() && end == text.c_str() + text.size() && std::isfinite(value) &&
                  (minAllowed ? value >= min : value > min) && value <= max;
        return ok ? "" : "'" + text + "' is not " + limits;
      },
      limits);
}

// CLI11 reports a mistyped subcommand as "A subcommand is required". Returns the first
// argument that is not an option (nor the value of one of `valueOptions`, the main
// command's options that take a separate value) when it names no known subcommand.
inline std::optional<std::string> unknownSubcommand(int argc, char** argv,
                                                    std::initializer_list<std::string_view> known,
                                                    std::initializer_list<std::string_view> valueOptions) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool takesValue = false;
    for (auto o : valueOptions) takesValue = takesValue || arg == o;
    if (takesValue) {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    for (auto k : known) {
      if (arg == k) return std::nullopt;
    }
    return std::string(arg);
  }
  return std::nullopt;
}

// Prints "<tool>: <message>" for an exception escaping main, without dstream::Error's own
// "dstream: " prefix (the tool's name already says where it comes from).
inline void printError(const char* tool, const std::exception& e) {
  std::string_view what = detail::withoutDstreamPrefix(e.what());
  std::fprintf(stderr, "%s: %.*s\n", tool, static_cast<int>(what.size()), what.data());
}

}  // namespace dstream::tools
