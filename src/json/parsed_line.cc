#include "json/parsed_line.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dstream::detail {
namespace {

// Enough for a Record held while free functions run, plus nesting; beyond that the
// extra parsers are freed rather than kept per thread forever.
constexpr std::size_t kMaxPooled = 4;
// A parser that grew for a huge line is freed instead of pinning its memory to the thread.
constexpr std::size_t kMaxPooledCapacity = std::size_t{1} << 20;

struct Pool {
  std::vector<std::unique_ptr<ParsedJsonLine>> free;
  ~Pool();
};

// A Record destroyed while its thread's thread_locals are being torn down must not touch
// the destroyed pool; a trivially destructible flag outlives it.
thread_local bool tPoolGone = false;
thread_local Pool tPool;

Pool::~Pool() { tPoolGone = true; }

std::string describe(simdjson::error_code code) {
  switch (code) {
    case simdjson::EMPTY:
      return "empty line, not a JSON document";
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "not one complete JSON document (truncated, trailing data, or a missing comma, "
             "brace or key)";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::STRING_ERROR:
    case simdjson::UNCLOSED_STRING:
    case simdjson::UNESCAPED_CHARS:
      return "bad string (unterminated, a bad escape or an unescaped control character)";
    case simdjson::NUMBER_ERROR:
      return "bad number (not JSON, or beyond 64-bit integers or double range)";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "bad literal (expected true, false or null)";
    case simdjson::DEPTH_ERROR:
      return "nested too deeply";
    default:
      return simdjson::error_message(code);
  }
}

}  // namespace

void ParsedJsonLineRelease::operator()(ParsedJsonLine* parsed) const noexcept {
  std::unique_ptr<ParsedJsonLine> owned(parsed);
  if (tPoolGone || tPool.free.size() >= kMaxPooled || owned->bufferCapacity > kMaxPooledCapacity) {
    return;
  }
  tPool.free.push_back(std::move(owned));
}

ParsedJsonLinePtr parseJsonLine(std::string_view line, std::string* reason) {
  std::unique_ptr<ParsedJsonLine> owned;
  if (!tPoolGone && !tPool.free.empty()) {
    owned = std::move(tPool.free.back());
    tPool.free.pop_back();
  } else {
    owned = std::make_unique<ParsedJsonLine>();
  }
  ParsedJsonLinePtr parsed(owned.release());

  // A new parser has no buffer yet, and even an empty line needs one for the padding.
  if (!parsed->buffer || parsed->bufferCapacity < line.size()) {
    // Grow geometrically so that slowly lengthening lines do not reallocate each time.
    std::size_t capacity =
        std::max(line.size(), std::max<std::size_t>(4096, 2 * parsed->bufferCapacity));
    parsed->buffer.reset(new char[capacity + simdjson::SIMDJSON_PADDING]);
    parsed->bufferCapacity = capacity;
  }
  if (!line.empty()) std::memcpy(parsed->buffer.get(), line.data(), line.size());
  // simdjson may read (never use) the padding; keep it initialised for sanitizers.
  std::memset(parsed->buffer.get() + line.size(), 0, simdjson::SIMDJSON_PADDING);

  simdjson::error_code error =
      parsed->parser.parse(parsed->buffer.get(), line.size(), /*realloc_if_needed=*/false)
          .get(parsed->root);
  if (error) {
    *reason = describe(error);
    return nullptr;  // the parser goes back to the pool
  }
  return parsed;
}

}  // namespace dstream::detail
