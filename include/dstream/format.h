// Formatter<T> turns an element into text for pprint(), print() and saveAsTextFiles().
// One trait serves all three, so what a user sees on the console is what lands in files.
//
// Built in: strings as they are; integers; floating point in the shortest form that reads
// back exactly (with ".0" on whole numbers, as Python prints them); bool as true/false;
// std::pair and std::tuple as "(a, 1)"; std::optional as its value or "None"; ranges
// (vectors, spans) as "[a, b]"; maps as "{k: v}". Scala's print() uses Scala's toString for
// what Scala spells differently (scalaFormatTo): tuples "(a,1)", options "Some(x)" / "None",
// at any depth; other types as above. Specialise for your own types:
//   template <> struct dstream::Formatter<Point> {
//     static void format(std::string& out, const Point& p) { out += ...; }
//   };
// Printing a type with no Formatter is a compile-time error that names the type to specialise.
#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace dstream {

template <class T, class Enable = void>
struct Formatter;  // no default

template <class T>
concept Formattable = requires(std::string& out, const T& v) { Formatter<T>::format(out, v); };

// Appends the text form of `value` to `out`.
template <class T>
void formatTo(std::string& out, const T& value) {
  static_assert(Formattable<T>,
                "dstream: this element type has no text form. Specialise "
                "dstream::Formatter<T> with `static void format(std::string& out, const T& v)` "
                "(see dstream/format.h), or map the stream to a printable type first.");
  if constexpr (Formattable<T>) Formatter<T>::format(out, value);
}

template <class T>
std::string toText(const T& value) {
  std::string out;
  formatTo(out, value);
  return out;
}

template <class T>
struct Formatter<T, std::enable_if_t<std::is_convertible_v<const T&, std::string_view>>> {
  static void format(std::string& out, const T& v) { out += std::string_view(v); }
};

template <>
struct Formatter<bool> {
  static void format(std::string& out, bool v) { out += v ? "true" : "false"; }
};
template <>
struct Formatter<char> {
  static void format(std::string& out, char v) { out += v; }
};

template <class T>
struct Formatter<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                     !std::is_same_v<T, char>>> {
  static void format(std::string& out, T v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
};

template <class T>
struct Formatter<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static void format(std::string& out, T v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string_view s(buf, r.ptr);
    out += s;
    if (s.find_first_of(".eEn") == std::string_view::npos) out += ".0";
  }
};

// ---- Scala's toString forms, for Scala's print() ----

template <class T, class Enable = void>
struct ScalaFormatter {
  static void format(std::string& out, const T& v) { formatTo(out, v); }
};

// Appends `value` as Scala's toString shows it: Tuple2's "(a,1)", Option's "Some(x)".
template <class T>
void scalaFormatTo(std::string& out, const T& value) {
  ScalaFormatter<T>::format(out, value);
}

// ---- Pairs, tuples, optionals and ranges: one implementation, two styles ----

namespace detail {

// What Python's str() and Scala's toString spell differently. Elements are formatted in the
// same style, at any depth.
struct PythonStyle {
  static constexpr std::string_view kTupleSeparator = ", ";  // (a, 1)
  static constexpr std::string_view kSomeBefore = "";        // an optional shows its value
  static constexpr std::string_view kSomeAfter = "";
  template <class T>
  static void element(std::string& out, const T& v) { formatTo(out, v); }
};
struct ScalaStyle {
  static constexpr std::string_view kTupleSeparator = ",";   // (a,1)
  static constexpr std::string_view kSomeBefore = "Some(";   // Some(x)
  static constexpr std::string_view kSomeAfter = ")";
  template <class T>
  static void element(std::string& out, const T& v) { scalaFormatTo(out, v); }
};

template <class R>
concept MapLike = requires { typename R::key_type; typename R::mapped_type; };

template <class R>
concept NonStringRange =
    std::ranges::input_range<const R> && !std::is_convertible_v<const R&, std::string_view>;

// (a, 1) / (a,1): pairs and tuples.
template <class Style, class T>
void formatTuple(std::string& out, const T& t) {
  out += '(';
  bool first = true;
  std::apply([&](const auto&... v) {
    ((out += first ? std::string_view() : Style::kTupleSeparator, first = false, Style::element(out, v)), ...);
  }, t);
  out += ')';
}

// The value (Python) or Some(value) (Scala); None when empty, in both.
template <class Style, class T>
void formatOptional(std::string& out, const std::optional<T>& v) {
  if (!v) {
    out += "None";
    return;
  }
  out += Style::kSomeBefore;
  Style::element(out, *v);
  out += Style::kSomeAfter;
}

// [a, b, c], or {k: v, ...} for maps, in both styles; the elements take the style's forms.
template <class Style, class R>
void formatRange(std::string& out, const R& r) {
  constexpr bool kMap = MapLike<R>;
  out += kMap ? '{' : '[';
  bool first = true;
  for (const auto& v : r) {
    if (!first) out += ", ";
    first = false;
    if constexpr (kMap) {
      Style::element(out, v.first);
      out += ": ";
      Style::element(out, v.second);
    } else {
      Style::element(out, v);
    }
  }
  out += kMap ? '}' : ']';
}

}  // namespace detail

template <class A, class B>
struct Formatter<std::pair<A, B>> {
  static void format(std::string& out, const std::pair<A, B>& p) {
    detail::formatTuple<detail::PythonStyle>(out, p);
  }
};
template <class A, class B>
struct ScalaFormatter<std::pair<A, B>> {
  static void format(std::string& out, const std::pair<A, B>& p) {
    detail::formatTuple<detail::ScalaStyle>(out, p);
  }
};

template <class... Ts>
struct Formatter<std::tuple<Ts...>> {
  static void format(std::string& out, const std::tuple<Ts...>& t) {
    detail::formatTuple<detail::PythonStyle>(out, t);
  }
};
template <class... Ts>
struct ScalaFormatter<std::tuple<Ts...>> {
  static void format(std::string& out, const std::tuple<Ts...>& t) {
    detail::formatTuple<detail::ScalaStyle>(out, t);
  }
};

template <class T>
struct Formatter<std::optional<T>> {
  static void format(std::string& out, const std::optional<T>& v) {
    detail::formatOptional<detail::PythonStyle>(out, v);
  }
};
template <class T>
struct ScalaFormatter<std::optional<T>> {
  static void format(std::string& out, const std::optional<T>& v) {
    detail::formatOptional<detail::ScalaStyle>(out, v);
  }
};

template <class R>
struct Formatter<R, std::enable_if_t<detail::NonStringRange<R>>> {
  static void format(std::string& out, const R& r) { detail::formatRange<detail::PythonStyle>(out, r); }
};
template <class R>
struct ScalaFormatter<R, std::enable_if_t<detail::NonStringRange<R>>> {
  static void format(std::string& out, const R& r) { detail::formatRange<detail::ScalaStyle>(out, r); }
};

}  // namespace dstream
