// Internal to src/json: finding a value's bytes in JSON text that simdjson has already
// validated. simdjson's DOM keeps no source offsets, so field() walks the DOM to learn the
// member's position (which also handles escaped keys and duplicates) and then skips that
// many members here. Validation upstream is what lets these scanners stay this simple.
#pragma once

#include <cstddef>
#include <string_view>

namespace dstream::json::internal {

// Returns the offset of the first non-whitespace byte at or after `pos`.
std::size_t skipWhitespace(std::string_view text, std::size_t pos);

// Returns the offset just past the value that starts at `pos`.
// REQUIRES: `text` is valid JSON and `pos` is the first byte of a value.
std::size_t skipValue(std::string_view text, std::size_t pos);

// Returns the offset of the first byte of the value of member `index` (0-based) of the
// object, or of element `index` of the array, that starts at `pos`.
// REQUIRES: valid JSON, `pos` at its '{' or '[', and `index` less than its size.
std::size_t enterMember(std::string_view text, std::size_t pos, std::size_t index);
std::size_t enterElement(std::string_view text, std::size_t pos, std::size_t index);

}  // namespace dstream::json::internal
