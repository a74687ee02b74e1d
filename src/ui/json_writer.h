// A small streaming JSON writer for the UI's REST API: objects, arrays, strings (escaped,
// always valid UTF-8), integers, doubles and booleans, with commas placed for the caller.
// Optional fields are left out when empty, as Spark's API leaves out absent options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dstream::ui {

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // The next member's name; the value follows with value() or begin*().
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(double d);  // NaN and infinities are written as null
  JsonWriter& value(bool b);
  JsonWriter& null();

  template <class T>
  JsonWriter& field(std::string_view name, const T& v) {
    return key(name).value(v);
  }
  template <class T>
  JsonWriter& field(std::string_view name, const std::optional<T>& v) {
    if (v) key(name).value(*v);
    return *this;
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void beforeValue();

  std::string out_;
  std::vector<bool> hasMembers_;  // per open object or array
  bool afterKey_ = false;
};

// `s` as a JSON string literal with its quotes. Bytes that are not valid UTF-8 (a file name
// in another encoding) are written as the Latin-1 characters of the same value.
std::string jsonString(std::string_view s);

}  // namespace dstream::ui
