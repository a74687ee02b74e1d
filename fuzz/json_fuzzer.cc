// Fuzzes the dstream::json helpers. Input: one line, optionally followed by '\n' and a
// dotted path. Checks that
//   - kSkip returns nullopt exactly when kFail throws Error(kInvalidArgument), and exactly
//     when simdjson itself rejects the line (nothing else is ever thrown);
//   - for every path into the document (found with simdjson's DOM directly, first member
//     of each key), field() finds raw bytes inside the line that parse to the same value,
//     has() agrees, and each typed getter returns the value exactly when the type fits;
//   - the fuzzed path never throws except Error(kInvalidArgument) for an empty segment.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/error.h"
#include "dstream/json.h"
#include "fuzz_check.h"

namespace {

namespace json = dstream::json;
using dstream::ErrorCode;
using dstream::OnBadRecord;
using simdjson::dom::element;

constexpr std::size_t kMaxPaths = 64;

bool validPath(std::string_view path) {
  return !path.empty() && path.front() != '.' && path.back() != '.' &&
         path.find("..") == std::string_view::npos;
}

// Collects (path, value) for the values dstream paths can name: every member whose key is
// non-empty and has no '.', first occurrence only (dstream takes the first duplicate), and
// every array element.
void collect(element e, const std::string& prefix, std::vector<std::pair<std::string, element>>& out) {
  if (out.size() >= kMaxPaths) return;
  auto child = [&](std::string segment, element value) {
    std::string path = prefix.empty() ? std::move(segment) : prefix + "." + segment;
    out.emplace_back(path, value);
    collect(value, path, out);
  };
  if (e.is_object()) {
    std::set<std::string_view> seen;
    simdjson::dom::object object = e.get_object().value_unsafe();  // not a temporary: iterated
    for (auto member : object) {
      if (member.key.empty() || member.key.find('.') != std::string_view::npos) continue;
      if (!seen.insert(member.key).second) continue;
      child(std::string(member.key), member.value);
      if (out.size() >= kMaxPaths) return;
    }
  } else if (e.is_array()) {
    std::size_t i = 0;
    simdjson::dom::array array = e.get_array().value_unsafe();
    for (element value : array) {
      child(std::to_string(i++), value);
      if (out.size() >= kMaxPaths) return;
    }
  }
}

void checkPath(const json::Record& record, const json::Record& strict, std::string_view line,
               const std::string& path, element expected) {
  FUZZ_CHECK(record.has(path));
  std::optional<std::string_view> raw = record.field(path);
  FUZZ_CHECK(raw.has_value());
  FUZZ_CHECK(raw->data() >= line.data() && raw->data() + raw->size() <= line.data() + line.size());
  simdjson::dom::parser parser;
  element reparsed;
  FUZZ_CHECK(parser.parse(simdjson::padded_string(*raw)).get(reparsed) == simdjson::SUCCESS);
  FUZZ_CHECK(simdjson::minify(reparsed) == simdjson::minify(expected));

  std::optional<std::string> s = record.getString(path);
  FUZZ_CHECK(s.has_value() == expected.is_string());
  if (s) FUZZ_CHECK(*s == std::string_view(expected.get_string().value_unsafe()));
  std::optional<std::int64_t> i = record.getInt64(path);
  FUZZ_CHECK(i.has_value() == expected.is_int64());
  if (i) FUZZ_CHECK(*i == expected.get_int64().value_unsafe());
  std::optional<double> d = record.getDouble(path);
  FUZZ_CHECK(d.has_value() == expected.is_number());
  if (d) FUZZ_CHECK(*d == expected.get_double().value_unsafe());
  std::optional<bool> b = record.getBool(path);
  FUZZ_CHECK(b.has_value() == expected.is_bool());
  if (b) FUZZ_CHECK(*b == expected.get_bool().value_unsafe());

  // Under kFail a wrong type throws instead; null is "no value", never an error.
  bool threw = false;
  try {
    (void)strict.getString(path);
  } catch (const dstream::Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kInvalidArgument);
    threw = true;
  }
  FUZZ_CHECK(threw == !(expected.is_string() || expected.is_null()));
}

// The fuzzed path: any outcome but a crash, and only a bad path may throw under kSkip.
void checkFuzzedPath(const json::Record& record, std::string_view line, std::string_view path) {
  bool valid = validPath(path);
  auto expectThrowsIffInvalid = [&](auto call) {
    try {
      call();
      FUZZ_CHECK(valid);
    } catch (const dstream::Error& e) {
      FUZZ_CHECK(!valid && e.code() == ErrorCode::kInvalidArgument);
    }
  };
  expectThrowsIffInvalid([&] {
    auto raw = record.field(path);
    FUZZ_CHECK(raw.has_value() == record.has(path));
    auto free = json::field(line, path);
    FUZZ_CHECK(free == raw);
  });
  expectThrowsIffInvalid([&] { (void)record.getString(path); });
  expectThrowsIffInvalid([&] { (void)record.getInt64(path); });
  expectThrowsIffInvalid([&] { (void)record.getDouble(path); });
  expectThrowsIffInvalid([&] { (void)record.getBool(path); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view line = input;
  std::optional<std::string_view> fuzzedPath;
  if (std::size_t nl = input.rfind('\n'); nl != std::string_view::npos) {
    line = input.substr(0, nl);
    fuzzedPath = input.substr(nl + 1);
  }
  // A copy owned here, so that ASan sees any read past the line's end.
  std::string owned(line);
  line = owned;

  std::optional<json::Record> record = json::Record::parse(line, OnBadRecord::kSkip);
  std::optional<json::Record> strict;
  try {
    strict = json::Record::parse(line, OnBadRecord::kFail);
    FUZZ_CHECK(strict.has_value());
  } catch (const dstream::Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kInvalidArgument);
  }
  FUZZ_CHECK(record.has_value() == strict.has_value());

  std::string_view stripped = line;
  if (!stripped.empty() && stripped.back() == '\r') stripped.remove_suffix(1);
  simdjson::dom::parser parser;
  element root;
  bool valid = parser.parse(simdjson::padded_string(stripped)).get(root) == simdjson::SUCCESS;
  FUZZ_CHECK(valid == record.has_value());
  if (!record) {
    if (fuzzedPath && validPath(*fuzzedPath)) FUZZ_CHECK(!json::has(line, *fuzzedPath));
    return 0;
  }
  FUZZ_CHECK(record->line() == stripped);

  std::vector<std::pair<std::string, element>> paths;
  collect(root, "", paths);
  for (const auto& [path, expected] : paths) checkPath(*record, *strict, stripped, path, expected);
  if (fuzzedPath) checkFuzzedPath(*record, line, *fuzzedPath);
  return 0;
}
