#include <charconv>
#include <limits>

#include "dstream/error.h"
#include "dstream/json.h"
#include "json/parsed_line.h"
#include "json/raw_span.h"

namespace dstream::json {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Enough of the line to recognise it in a log or an exception message.
std::string startOf(std::string_view line) {
  constexpr std::size_t kShown = 80;
  if (line.size() <= kShown) return std::string(line);
  return std::string(line.substr(0, kShown)) + "...";
}

[[noreturn, gnu::cold, gnu::noinline]] void throwEmptySegment(std::string_view path) {
  throw Error(ErrorCode::kInvalidArgument,
              "json: path \"" + std::string(path) +
                  "\" has an empty segment; write paths like \"venue.venue_name\"");
}

// Paths are a few bytes long: a plain loop costs less than a call to memchr, and lookups
// run once or twice per line.
std::size_t findDot(std::string_view path, std::size_t from) {
  for (std::size_t i = from; i < path.size(); ++i) {
    if (path[i] == '.') return i;
  }
  return std::string_view::npos;
}

void checkPath(std::string_view path) {
  bool bad = path.empty() || path.front() == '.' || path.back() == '.';
  for (std::size_t i = 1; !bad && i < path.size(); ++i) bad = path[i] == '.' && path[i - 1] == '.';
  if (bad) throwEmptySegment(path);
}

const char* typeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
    default:
      return "a number";
  }
}

std::string mismatch(std::string_view where, element_type type, std::string_view wanted) {
  std::string name = where.empty() ? "the line" : std::string(where);
  return name + " is " + typeName(type) + ", not " + std::string(wanted);
}

// An all-digit segment names an array element; one too large for size_t is simply out of range.
std::optional<std::size_t> arrayIndex(std::string_view segment) {
  if (segment.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::size_t index = 0;
  auto [end, error] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
  if (error != std::errc()) return std::numeric_limits<std::size_t>::max();
  return index;
}

struct Lookup {
  enum Kind { kFound, kAbsent, kWrongType } kind = kAbsent;
  element value;
  std::string_view raw;
  std::string problem;   // only for kWrongType
};

// field(): follows `path` through the DOM, and the same members through the line's text to
// find the value's bytes (the DOM keeps no offsets into the line).
Lookup lookup(const detail::ParsedJsonLine& parsed, std::string_view line, std::string_view path) {
  checkPath(path);
  Lookup result;
  element current = parsed.root;
  std::size_t rawPos = internal::skipWhitespace(line, 0);
  std::size_t start = 0;
  while (true) {
    std::size_t dot = findDot(path, start);
    std::string_view segment =
        path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    std::string_view container = path.substr(0, start == 0 ? 0 : start - 1);
    element_type type = current.type();
    std::optional<std::size_t> index;
    if (type == element_type::NULL_VALUE) {
      return result;  // absent: JSON null stands for a missing object
    } else if (type == element_type::OBJECT) {
      simdjson::dom::object object;
      if (current.get_object().get(object)) return result;  // cannot fail: type checked
      std::size_t i = 0;
      for (auto member : object) {
        if (member.key == segment) {
          index = i;
          current = member.value;
          break;
        }
        ++i;
      }
      if (!index) return result;
      rawPos = internal::enterMember(line, rawPos, *index);
    } else if (type == element_type::ARRAY && (index = arrayIndex(segment))) {
      simdjson::dom::array array;
      if (current.get_array().get(array)) return result;  // cannot fail: type checked
      if (*index >= array.size() || array.at(*index).get(current)) return result;
      rawPos = internal::enterElement(line, rawPos, *index);
    } else {
      result.kind = Lookup::kWrongType;
      result.problem = mismatch(container, type,
                                type == element_type::ARRAY
                                    ? "an object (\"" + std::string(segment) + "\" is not an index)"
                                    : "an object");
      return result;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  result.kind = Lookup::kFound;
  result.value = current;
  result.raw = line.substr(rawPos, internal::skipValue(line, rawPos) - rawPos);
  return result;
}

// What has() and the typed getters need: `path` followed through the parsed document alone,
// with simdjson's at_key, and nothing else on the happy path (no member counting, no scan of
// the line, no strings: a lookup used to cost several times simdjson's own, ~15 ns against
// ~2 ns on YSB events). The wrong-type message is built by wrongStep() only when needed.
struct Resolved {
  Lookup::Kind kind = Lookup::kAbsent;
  element value;                 // kFound: the value; kWrongType: the value the path cannot enter
  std::size_t segmentStart = 0;  // kWrongType: where the segment that cannot apply starts
};

Resolved resolve(const element& root, std::string_view path) {
  // The path is checked as it is walked; a walk that stops early checks the rest, so a bad
  // path is still reported whatever the line holds, and the happy path reads it only once.
  if (path.empty() || path.front() == '.' || path.back() == '.') throwEmptySegment(path);
  Resolved result;
  element current = root;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = findDot(path, start);
    std::string_view segment =
        path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (segment.empty()) throwEmptySegment(path);  // "a..b"
    simdjson::dom::object object;
    simdjson::dom::array array;
    std::optional<std::size_t> index;
    if (current.get_object().get(object) == simdjson::SUCCESS) {
      // at_key takes the first of duplicate keys and compares unescaped keys, as lookup() does.
      if (object.at_key(segment).get(current)) break;
    } else if (current.is_null()) {
      break;  // absent: JSON null stands for a missing object
    } else if (current.get_array().get(array) == simdjson::SUCCESS &&
               (index = arrayIndex(segment))) {
      if (*index >= array.size() || array.at(*index).get(current)) break;
    } else {
      result.kind = Lookup::kWrongType;
      result.value = current;
      result.segmentStart = start;
      break;
    }
    if (dot == std::string_view::npos) {
      result.kind = Lookup::kFound;
      result.value = current;
      return result;
    }
    start = dot + 1;
  }
  checkPath(path);  // stopped early: the segments not reached must be valid too
  return result;
}

// The message for a Resolved of kind kWrongType, worded as lookup()'s.
std::string wrongStep(std::string_view path, const Resolved& found) {
  std::size_t start = found.segmentStart;
  std::string_view container = path.substr(0, start == 0 ? 0 : start - 1);
  std::size_t dot = findDot(path, start);
  std::string_view segment = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
  element_type type = found.value.type();
  return mismatch(container, type,
                  type == element_type::ARRAY
                      ? "an object (\"" + std::string(segment) + "\" is not an index)"
                      : "an object");
}

// Looks `path` up and converts the value with `convert(element, path, problem)`; a wrong type
// on the way or at the end sets `*problem`. Null at the end is no value, not a problem.
template <class Convert>
auto typedValue(const detail::ParsedJsonLine& parsed, std::string_view path, std::string* problem,
                Convert convert) -> decltype(convert(element(), path, problem)) {
  Resolved found = resolve(parsed.root, path);
  if (found.kind == Lookup::kWrongType) *problem = wrongStep(path, found);
  if (found.kind != Lookup::kFound || found.value.is_null()) return std::nullopt;
  return convert(found.value, path, problem);
}

}  // namespace

Record::Record(std::string_view line, OnBadRecord onBad,
               std::unique_ptr<detail::ParsedJsonLine, detail::ParsedJsonLineRelease> parsed)
    : line_(line), onBad_(onBad), parsed_(std::move(parsed)) {}

std::optional<Record> Record::parse(std::string_view line, OnBadRecord onBad) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string reason;
  detail::ParsedJsonLinePtr parsed = detail::parseJsonLine(line, &reason);
  if (!parsed) {
    if (onBad == OnBadRecord::kFail) {
      throw Error(ErrorCode::kInvalidArgument,
                  "json: malformed line: " + reason + ": " + startOf(line));
    }
    reportBadRecord("json", "malformed line: " + reason + ": " + startOf(line));
    return std::nullopt;
  }
  return Record(line, onBad, std::move(parsed));
}

void Record::reportWrongType(const std::string& problem) const {
  if (onBad_ == OnBadRecord::kFail) {
    throw Error(ErrorCode::kInvalidArgument, "json: " + problem + " in line: " + startOf(line_));
  }
  if (reported_) return;
  reported_ = true;
  reportBadRecord("json", problem + ": " + startOf(line_));
}

std::optional<std::string_view> Record::field(std::string_view path) const {
  Lookup found = lookup(*parsed_, line_, path);
  if (found.kind == Lookup::kWrongType) reportWrongType(found.problem);
  if (found.kind != Lookup::kFound) return std::nullopt;
  return found.raw;
}

bool Record::has(std::string_view path) const {
  Resolved found = resolve(parsed_->root, path);
  if (found.kind == Lookup::kWrongType) reportWrongType(wrongStep(path, found));
  return found.kind == Lookup::kFound;
}

std::optional<std::string_view> Record::getStringView(std::string_view path) const {
  std::string problem;
  auto value = typedValue(
      *parsed_, path, &problem,
      [](element e, std::string_view at, std::string* problem) -> std::optional<std::string_view> {
        std::string_view s;  // the parser already unescaped it into the document's storage
        if (!e.get_string().get(s)) return s;
        *problem = mismatch(at, e.type(), "a string");
        return std::nullopt;
      });
  if (!problem.empty()) reportWrongType(problem);
  return value;
}

std::optional<std::string> Record::getString(std::string_view path) const {
  auto view = getStringView(path);
  if (!view) return std::nullopt;
  return std::string(*view);
}

std::optional<std::int64_t> Record::getInt64(std::string_view path) const {
  std::string problem;
  auto value = typedValue(
      *parsed_, path, &problem,
      [](element e, std::string_view at, std::string* problem) -> std::optional<std::int64_t> {
        std::int64_t i = 0;
        if (!e.get_int64().get(i)) return i;
        if (e.type() == element_type::UINT64) {
          *problem = std::string(at) + " is an integer beyond the int64 range";
        } else if (e.type() == element_type::DOUBLE) {
          *problem = std::string(at) + " is a floating-point number, not an integer";
        } else {
          *problem = mismatch(at, e.type(), "an integer");
        }
        return std::nullopt;
      });
  if (!problem.empty()) reportWrongType(problem);
  return value;
}

std::optional<double> Record::getDouble(std::string_view path) const {
  std::string problem;
  auto value =
      typedValue(*parsed_, path, &problem,
                 [](element e, std::string_view at, std::string* problem) -> std::optional<double> {
                   double d = 0;
                   if (!e.get_double().get(d)) return d;  // integers convert too
                   *problem = mismatch(at, e.type(), "a number");
                   return std::nullopt;
                 });
  if (!problem.empty()) reportWrongType(problem);
  return value;
}

std::optional<bool> Record::getBool(std::string_view path) const {
  std::string problem;
  auto value =
      typedValue(*parsed_, path, &problem,
                 [](element e, std::string_view at, std::string* problem) -> std::optional<bool> {
                   bool b = false;
                   if (!e.get_bool().get(b)) return b;
                   *problem = mismatch(at, e.type(), "a boolean");
                   return std::nullopt;
                 });
  if (!problem.empty()) reportWrongType(problem);
  return value;
}

std::optional<std::string_view> field(std::string_view line, std::string_view path,
                                      OnBadRecord onBad) {
  checkPath(path);  // a bad path is a bug: report it even when the line is malformed
  auto record = Record::parse(line, onBad);
  if (!record) return std::nullopt;
  return record->field(path);
}

bool has(std::string_view line, std::string_view path, OnBadRecord onBad) {
  checkPath(path);
  auto record = Record::parse(line, onBad);
  return record && record->has(path);
}

std::optional<std::string> getString(std::string_view line, std::string_view path,
                                     OnBadRecord onBad) {
  checkPath(path);
  auto record = Record::parse(line, onBad);
  if (!record) return std::nullopt;
  return record->getString(path);
}

std::optional<std::int64_t> getInt64(std::string_view line, std::string_view path,
                                     OnBadRecord onBad) {
  checkPath(path);
  auto record = Record::parse(line, onBad);
  if (!record) return std::nullopt;
  return record->getInt64(path);
}

std::optional<double> getDouble(std::string_view line, std::string_view path, OnBadRecord onBad) {
  checkPath(path);
  auto record = Record::parse(line, onBad);
  if (!record) return std::nullopt;
  return record->getDouble(path);
}

std::optional<bool> getBool(std::string_view line, std::string_view path, OnBadRecord onBad) {
  checkPath(path);
  auto record = Record::parse(line, onBad);
  if (!record) return std::nullopt;
  return record->getBool(path);
}

}  // namespace dstream::json
