// dstream::json reads fields out of one-JSON-document-per-line records, such as the Meetup
// RSVP stream of the lab, so that Python's
//   lines.flatMap(lambda x: [j['venue'] for j in json.loads('['+x+']') if 'venue' in j])
// becomes
//   lines.flatMap([](std::string_view l) { return dstream::json::field(l, "venue"); })
//
// Paths are dotted: "venue", "venue.venue_name", "group.group_topics.0.topic_name". Each
// segment names a member of an object; an all-digit segment applied to an array is an index.
// A key that itself contains '.' cannot be named.
//
// Outcomes of every lookup, in the order they are checked:
//   - malformed line: the line is not exactly one complete, valid JSON document (an HTTP
//     header, an empty line, a truncated object, trailing data, invalid UTF-8, a number
//     beyond 64-bit integers or double range). The whole line is validated, so a truncated
//     line is malformed even when the requested field comes before the damage. With
//     OnBadRecord::kSkip the call returns nullopt (false for has()) and counts one bad record
//     via reportBadRecord("json", ...); with kFail it throws Error(kInvalidArgument).
//   - absent: a member is missing, an index is out of range, or the path runs through a JSON
//     null. Not an error: nullopt / false, nothing counted (Python's `if 'venue' in j`).
//   - wrong type: the value (or a step on the way) has a type the call cannot use, e.g.
//     getString on a number or "venue.x" when venue is a string. Treated like a malformed
//     line ("venue.venue_name is a number, not a string").
//   - found. A JSON null at the end of the path is found by field() and has() (it is there),
//     but typed getters return nullopt for it without counting: null means "no value".
// One trailing '\r' is ignored, so CRLF files work.
//
// Lifetime: string_views returned by field() point into the caller's `line`, not into a copy,
// so they stay valid exactly as long as the line's bytes do. getString() returns an owned,
// unescaped copy; Record::getStringView() the same value as a view held by the Record.
//
// Implementation and cost: each parse copies the line into a reusable padded buffer and runs
// simdjson's DOM parser, which validates the whole document (measured on the lab data: about
// 0.7 us per 1.3 KB line, 2.5x faster than an On Demand walk that validates every value, since
// the DOM kernel is picked at run time for the CPU while On Demand's walk is compiled for
// baseline x86-64). Re-measured on YSB events (247 B, issue 13): DOM 96 ns a line, On Demand
// walking every value 221 ns; On Demand reading only two fields takes 69 ns but lets damage
// elsewhere through (a `tru` in another member), so DOM stays. field() then finds the
// value's bytes in the line by skipping the members before it in the already-validated text,
// from the line's start on every call (~50 ns a field on a YSB event, ~1 us for a field at
// the end of an RSVP); has(), the typed getters and getStringView() follow the parsed
// document with simdjson's at_key (~10 ns a lookup) and do not scan. After warm-up no call
// allocates on the happy path except getString()'s result.
//
// Thread-safety: every function may be called concurrently from any number of threads; each
// thread keeps its own parsers (thread_local) and shares nothing but the bad-record counter.
// A Record may be moved to another thread but not used by two threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dstream/bad_records.h"
#include "dstream/export.h"

namespace dstream {
namespace detail {
// A parser, its padded buffer and a parsed document, owned by one Record at a time and
// recycled through a per-thread pool when the Record is destroyed.
struct ParsedJsonLine;
struct DSTREAM_EXPORT ParsedJsonLineRelease {
  void operator()(ParsedJsonLine* parsed) const noexcept;
};
}  // namespace detail

namespace json {

// One parsed line, for pulling several fields with a single parse:
//   auto r = json::Record::parse(line);
//   if (r) use(r->getString("venue.venue_name"), r->getDouble("venue.lat"));
// Bad-record policy is chosen once, at parse(); a Record counts at most one bad record in
// total, however many of its lookups hit a wrong type.
class DSTREAM_EXPORT Record {
 public:
  // Returns the parsed record, or nullopt when the line is malformed (counted).
  // Throws Error(kInvalidArgument) naming the problem instead when onBad == kFail.
  // REQUIRES: `line`'s bytes outlive the Record and the views it returns.
  static std::optional<Record> parse(std::string_view line, OnBadRecord onBad = OnBadRecord::kSkip);

  Record(Record&&) noexcept = default;
  Record& operator=(Record&&) noexcept = default;
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;
  ~Record() = default;

  // Returns the raw JSON text of the value at `path` as it appears in the line (strings keep
  // their quotes and escapes), or nullopt when absent or a step on the way has a wrong type.
  // Throws Error(kInvalidArgument) for a wrong type when the policy is kFail.
  // REQUIRES: `path` is non-empty and has no empty segment ("a..b"); otherwise throws
  // Error(kInvalidArgument) whatever the policy, since that is a bug in the program.
  std::optional<std::string_view> field(std::string_view path) const;

  // Returns whether a value (possibly null) is at `path`. Same errors and REQUIRES as field().
  bool has(std::string_view path) const;

  // Typed values. getString unescapes (\/, \n, \uXXXX with surrogate pairs; raw UTF-8 passes
  // through). getInt64 accepts only integers that fit in int64 (1.0 and 1e3 are not);
  // getDouble accepts any number. Return nullopt when absent, null or of a wrong type; a wrong
  // type is bad (counted, or Error(kInvalidArgument) under kFail). REQUIRES: as field().
  std::optional<std::string> getString(std::string_view path) const;
  // getString without the copy: a view of the unescaped string, held by this Record's parsed
  // document (not by the line). It stays valid while this Record, or the Record it is moved
  // into, lives; copy it (std::string(*v)) to keep it longer. Same outcomes and counting as
  // getString.
  std::optional<std::string_view> getStringView(std::string_view path) const;
  std::optional<std::int64_t> getInt64(std::string_view path) const;
  std::optional<double> getDouble(std::string_view path) const;
  std::optional<bool> getBool(std::string_view path) const;

  // Returns the line that was parsed, without its trailing '\r'.
  std::string_view line() const { return line_; }

 private:
  Record(std::string_view line, OnBadRecord onBad,
         std::unique_ptr<detail::ParsedJsonLine, detail::ParsedJsonLineRelease> parsed);
  // Counts the record once, or throws under kFail.
  void reportWrongType(const std::string& problem) const;

  std::string_view line_;
  OnBadRecord onBad_;
  std::unique_ptr<detail::ParsedJsonLine, detail::ParsedJsonLineRelease> parsed_;
  mutable bool reported_ = false;  // a wrong type was already counted for this record
};

// One-lookup conveniences: each parses `line` once and answers as the Record method of the
// same name would. Malformed lines give nullopt (false) and are counted, or throw
// Error(kInvalidArgument) under kFail. REQUIRES: as Record::field(), and `line` outlives the
// views field() returns.
DSTREAM_EXPORT std::optional<std::string_view> field(std::string_view line, std::string_view path,
                                                     OnBadRecord onBad = OnBadRecord::kSkip);
DSTREAM_EXPORT bool has(std::string_view line, std::string_view path,
                        OnBadRecord onBad = OnBadRecord::kSkip);
DSTREAM_EXPORT std::optional<std::string> getString(std::string_view line, std::string_view path,
                                                    OnBadRecord onBad = OnBadRecord::kSkip);
DSTREAM_EXPORT std::optional<std::int64_t> getInt64(std::string_view line, std::string_view path,
                                                    OnBadRecord onBad = OnBadRecord::kSkip);
DSTREAM_EXPORT std::optional<double> getDouble(std::string_view line, std::string_view path,
                                               OnBadRecord onBad = OnBadRecord::kSkip);
DSTREAM_EXPORT std::optional<bool> getBool(std::string_view line, std::string_view path,
                                           OnBadRecord onBad = OnBadRecord::kSkip);

}  // namespace json
}  // namespace dstream
