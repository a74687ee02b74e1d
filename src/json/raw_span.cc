#include "json/raw_span.h"

#include <array>
#include <cstring>

namespace dstream::json::internal {
namespace {

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// `pos` is at the opening quote; returns the offset past the closing one. memchr finds quotes
// fast; a quote preceded by an odd run of backslashes is escaped.
std::size_t skipString(std::string_view text, std::size_t pos) {
  std::size_t from = pos + 1;
  while (from < text.size()) {
    const void* quote = std::memchr(text.data() + from, '"', text.size() - from);
    if (quote == nullptr) break;
    std::size_t at = static_cast<const char*>(quote) - text.data();
    std::size_t backslashes = 0;
    while (at - backslashes - 1 > pos && text[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at + 1;
    from = at + 1;
  }
  return text.size();
}

// The bytes a container scan must look at; everything else is skipped by one table lookup.
constexpr std::array<bool, 256> kStructural = [] {
  std::array<bool, 256> table{};
  for (unsigned char c : std::string_view("\"{}[]")) table[c] = true;
  return table;
}();

std::size_t skipContainer(std::string_view text, std::size_t pos) {
  int depth = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (!kStructural[static_cast<unsigned char>(c)]) continue;
    if (c == '"') {
      i = skipString(text, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (--depth == 0) {
      return i + 1;
    }
  }
  return text.size();
}

// Moves past the ',' that follows a value (and the whitespace around it).
std::size_t skipComma(std::string_view text, std::size_t pos) {
  pos = skipWhitespace(text, pos);
  if (pos < text.size() && text[pos] == ',') ++pos;
  return skipWhitespace(text, pos);
}

}  // namespace

std::size_t skipWhitespace(std::string_view text, std::size_t pos) {
  while (pos < text.size() && isWhitespace(text[pos])) ++pos;
  return pos;
}

std::size_t skipValue(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return text.size();
  char c = text[pos];
  if (c == '"') return skipString(text, pos);
  if (c == '{' || c == '[') return skipContainer(text, pos);
  while (pos < text.size() && !isWhitespace(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
         text[pos] != ']') {
    ++pos;
  }
  return pos;
}

std::size_t enterMember(std::string_view text, std::size_t pos, std::size_t index) {
  pos = skipWhitespace(text, pos + 1);
  for (std::size_t i = 0;; ++i) {
    pos = skipWhitespace(text, skipString(text, pos));  // the key
    if (pos < text.size()) ++pos;                       // the ':'
    pos = skipWhitespace(text, pos);
    if (i == index) return pos;
    pos = skipComma(text, skipValue(text, pos));
  }
}

std::size_t enterElement(std::string_view text, std::size_t pos, std::size_t index) {
  pos = skipWhitespace(text, pos + 1);
  for (std::size_t i = 0; i < index; ++i) pos = skipComma(text, skipValue(text, pos));
  return pos;
}

}  // namespace dstream::json::internal
