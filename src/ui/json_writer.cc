#include "ui/json_writer.h"

#include <cmath>

#include <fmt/format.h>
#include <simdjson.h>

namespace dstream::ui {

namespace {
void appendEscaped(std::string& out, std::string_view s) {
  const bool utf8 = simdjson::validate_utf8(s.data(), s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (!utf8 && c >= 0x80)) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}
}  // namespace

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  appendEscaped(out, s);
  out += '"';
  return out;
}

void JsonWriter::beforeValue() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!hasMembers_.empty()) {
    if (hasMembers_.back()) out_ += ',';
    hasMembers_.back() = true;
  }
}

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  hasMembers_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_ += '}';
  hasMembers_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  hasMembers_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  out_ += ']';
  hasMembers_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  beforeValue();
  out_ += '"';
  appendEscaped(out_, name);
  out_ += "\":";
  afterKey_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  beforeValue();
  out_ += '"';
  appendEscaped(out_, s);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  beforeValue();
  fmt::format_to(std::back_inserter(out_), "{}", n);
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  beforeValue();
  if (std::isfinite(d)) {
    std::size_t start = out_.size();
    fmt::format_to(std::back_inserter(out_), "{}", d);
    // A double reads as one, "5.0" as Jackson writes it, not "5".
    if (out_.find_first_of(".e", start) == std::string::npos) out_ += ".0";
  } else {
    out_ += "null";
  }
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  beforeValue();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
  return *this;
}

}  // namespace dstream::ui
