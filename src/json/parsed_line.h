// Internal to src/json: the per-thread pool of simdjson parsers behind json::Record.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "dstream/json.h"

namespace dstream::detail {

struct ParsedJsonLine {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buffer;  // the line's bytes plus SIMDJSON_PADDING, reused
  std::size_t bufferCapacity = 0;  // bytes of buffer before the padding
  simdjson::dom::element root;     // valid until the next parse with this parser
};

using ParsedJsonLinePtr = std::unique_ptr<ParsedJsonLine, ParsedJsonLineRelease>;

// Takes a parser from the calling thread's pool (or makes one) and parses `line` with it.
// Returns the parsed line, or nullptr with `*reason` set to why the line is malformed.
// Allocates only while warming up, or for a line longer than any seen before.
ParsedJsonLinePtr parseJsonLine(std::string_view line, std::string* reason);

}  // namespace dstream::detail
