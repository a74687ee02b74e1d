// A compact binary serialization trait, used for stream state in checkpoints.
//
// BinaryWriter appends to a std::string it owns; BinaryReader reads from a std::string_view
// it does not own (the bytes must outlive the reader). Integers are varints (zigzag for
// signed types), float and double are raw IEEE-754 little-endian, byte strings and
// containers carry a varint length. The encoding has no version of its own: the caller
// stores one (checkpoint record files carry a format version byte), as protobuf leaves
// schema evolution to the message.
//
// Serializer<T> says how to write and read a T. Built-ins cover bool, every arithmetic type,
// enums, std::string (std::string_view writes, reading gives std::string), std::pair,
// std::tuple, std::optional, std::vector, std::array, std::map, std::unordered_map,
// absl::flat_hash_map and std::chrono durations and time points. For your own type:
//
//   template <> struct dstream::Serializer<Venue> {
//     static void write(dstream::BinaryWriter& w, const Venue& v) { w.write(v.name); w.write(v.id); }
//     static Venue read(dstream::BinaryReader& r) {
//       auto name = r.read<std::string>();               // read in the order written
//       return Venue{std::move(name), r.read<long>()};
//     }
//   };
//
// Reading never goes past the end of the input: short or malformed input throws
// dstream::Error(ErrorCode::kDataLoss) naming the offset and what was expected.
// Unordered maps are written in iteration order, so equal maps may give different bytes.
//
// Thread-safety: a writer or reader is used by one thread at a time; distinct ones are
// independent.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dstream/detail/coding.h"
#include "dstream/error.h"
#include "dstream/export.h"

namespace dstream {

class BinaryWriter;
class BinaryReader;

// Specialise for your type with
//   static void write(BinaryWriter&, const T&);
//   static T read(BinaryReader&);
// The primary template is deliberately empty, so Serializable<T> is false for unknown types.
template <class T>
struct Serializer {};

// True when Serializer<T> can both write and read a T.
template <class T>
concept Serializable = requires(BinaryWriter& w, BinaryReader& r, const T& value) {
  Serializer<T>::write(w, value);
  { Serializer<T>::read(r) } -> std::convertible_to<T>;
};

// True when Serializer<T> can write a T (std::string_view writes but does not read).
template <class T>
concept WriteSerializable = requires(BinaryWriter& w, const T& value) {
  Serializer<T>::write(w, value);
};

class BinaryWriter {
 public:
  BinaryWriter() = default;
  // Appends after the bytes already in `prefix` (e.g. a version byte written by the caller).
  explicit BinaryWriter(std::string prefix) : out_(std::move(prefix)) {}

  // Unsigned LEB128: 7 bits a byte, low bits first; 1 byte below 128, at most 10 bytes.
  void writeVarint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  // Zigzag (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...) then varint, so small negatives stay short.
  void writeSignedVarint(std::int64_t v) {
    writeVarint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void writeByte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  // Little-endian, 4 or 8 bytes (detail/coding.h).
  void writeFixed32(std::uint32_t v) { detail::putFixed32(out_, v); }
  void writeFixed64(std::uint64_t v) { detail::putFixed64(out_, v); }
  // Varint length, then the bytes.
  void writeBytes(std::string_view bytes) {
    writeVarint(bytes.size());
    out_.append(bytes);
  }
  // The bytes with no length: the reader must know how many to expect.
  void writeRaw(std::string_view bytes) { out_.append(bytes); }

  // Writes `value` with Serializer<T>. A type without one fails to compile with a message
  // saying what to specialise.
  template <class T>
  void write(const T& value);

  const std::string& data() const& { return out_; }
  // Returns the bytes written, leaving the writer empty.
  std::string release() { return std::exchange(out_, {}); }
  std::size_t size() const { return out_.size(); }

 private:
  std::string out_;
};

// Exported: its failure paths are defined in the library.
class DSTREAM_EXPORT BinaryReader {
 public:
  // `context` starts every error message, e.g. the file the bytes came from.
  explicit BinaryReader(std::string_view data, std::string_view context = "deserialize")
      : data_(data), context_(context) {}

  // Each read throws Error(kDataLoss) on short or malformed input and consumes nothing
  // usable after throwing (the reader should then be discarded).
  std::uint64_t readVarint() {
    std::size_t start = pos_;
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) failTruncated("a varint", start);
      auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      // The 10th byte holds only bit 63: anything else is overlong or overflows.
      if (shift == 63 && byte > 1) fail("varint does not fit in 64 bits", start);
      result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return result;
    }
    fail("varint does not fit in 64 bits", start);
  }
  std::int64_t readSignedVarint() {
    std::uint64_t u = readVarint();
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::uint8_t readByte() { return static_cast<std::uint8_t>(readRaw(1, "a byte")[0]); }
  std::uint32_t readFixed32() {
    return detail::decodeFixed32(readRaw(4, "a 4-byte little-endian value").data());
  }
  std::uint64_t readFixed64() {
    return detail::decodeFixed64(readRaw(8, "an 8-byte little-endian value").data());
  }
  // Returns a view into the input of a length-prefixed byte string.
  std::string_view readBytes() {
    std::size_t start = pos_;
    std::uint64_t n = readVarint();
    if (n > remaining()) failTruncated("a byte string of " + std::to_string(n) + " bytes", start);
    return readRaw(static_cast<std::size_t>(n), "a byte string");
  }
  // Returns the next `n` bytes; `what` names them in the error message.
  std::string_view readRaw(std::size_t n, std::string_view what = "raw bytes") {
    if (n > remaining()) failTruncated(what, pos_, n);
    auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A container's element count. Callers must not trust it for allocation: it may be corrupt.
  std::size_t readCount() { return static_cast<std::size_t>(readVarint()); }

  // Reads a T with Serializer<T>. A type without one fails to compile.
  template <class T>
  T read();

  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool atEnd() const { return pos_ == data_.size(); }
  std::string_view context() const { return context_; }

  // Throws Error(kDataLoss) "<context>: <what> at offset <at> of <size>". For Serializer
  // specialisations that find an invalid value (an unknown enum, a broken invariant).
  [[noreturn]] void fail(std::string_view what, std::size_t at) const;
  [[noreturn]] void fail(std::string_view what) const { fail(what, pos_); }

 private:
  [[noreturn]] void failTruncated(std::string_view what, std::size_t at,
                                  std::size_t needed = 0) const;

  std::string_view data_;
  std::string_view context_;
  std::size_t pos_ = 0;
};

namespace detail {
template <class T>
void requireSerializable() {
  static_assert(Serializable<T>,
                "dstream: no serializer for this type: specialise dstream::Serializer<T> with "
                "static void write(dstream::BinaryWriter&, const T&) and "
                "static T read(dstream::BinaryReader&)");
}
}  // namespace detail

template <class T>
void BinaryWriter::write(const T& value) {
  static_assert(WriteSerializable<T>,
                "dstream: no serializer for this type: specialise dstream::Serializer<T> with "
                "static void write(dstream::BinaryWriter&, const T&) and "
                "static T read(dstream::BinaryReader&)");
  // The guard keeps a missing serializer to the one message above.
  if constexpr (WriteSerializable<T>) Serializer<T>::write(*this, value);
}

template <class T>
T BinaryReader::read() {
  detail::requireSerializable<T>();
  if constexpr (Serializable<T>) {
    return Serializer<T>::read(*this);
  } else {
    throw Error(ErrorCode::kInternal, "unreachable");  // the static_assert has failed
  }
}

template <>
struct Serializer<bool> {
  static void write(BinaryWriter& w, bool v) { w.writeByte(v ? 1 : 0); }
  static bool read(BinaryReader& r) {
    auto at = r.position();
    auto b = r.readByte();
    if (b > 1) r.fail("invalid bool byte " + std::to_string(b), at);
    return b == 1;
  }
};

namespace detail {
// char and wchar_t are signed on some platforms and unsigned on others, so they are
// written as their unsigned bit pattern to read back the same everywhere.
template <class T>
inline constexpr bool kPlatformSigned = std::is_same_v<T, char> || std::is_same_v<T, wchar_t>;
}  // namespace detail

template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
struct Serializer<T> {
  using Wire = std::conditional_t<detail::kPlatformSigned<T>, std::make_unsigned_t<T>, T>;

  static void write(BinaryWriter& w, T v) {
    if constexpr (std::is_signed_v<Wire>) {
      w.writeSignedVarint(static_cast<std::int64_t>(v));
    } else {
      w.writeVarint(static_cast<std::uint64_t>(static_cast<Wire>(v)));
    }
  }
  static T read(BinaryReader& r) {
    auto at = r.position();
    if constexpr (std::is_signed_v<Wire>) {
      std::int64_t v = r.readSignedVarint();
      if constexpr (sizeof(T) < sizeof(std::int64_t)) {
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
          r.fail("integer " + std::to_string(v) + " out of range for a " +
                     std::to_string(sizeof(T) * 8) + "-bit signed type",
                 at);
        }
      }
      return static_cast<T>(v);
    } else {
      std::uint64_t v = r.readVarint();
      if constexpr (sizeof(Wire) < sizeof(std::uint64_t)) {
        if (v > std::numeric_limits<Wire>::max()) {
          r.fail("integer " + std::to_string(v) + " out of range for a " +
                     std::to_string(sizeof(T) * 8) + "-bit unsigned type",
                 at);
        }
      }
      return static_cast<T>(static_cast<Wire>(v));
    }
  }
};

template <>
struct Serializer<float> {
  static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4);
  static void write(BinaryWriter& w, float v) { w.writeFixed32(std::bit_cast<std::uint32_t>(v)); }
  static float read(BinaryReader& r) { return std::bit_cast<float>(r.readFixed32()); }
};

template <>
struct Serializer<double> {
  static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8);
  static void write(BinaryWriter& w, double v) { w.writeFixed64(std::bit_cast<std::uint64_t>(v)); }
  static double read(BinaryReader& r) { return std::bit_cast<double>(r.readFixed64()); }
};

// long double differs by platform (x87 80-bit, IEEE quad, or plain double), so it is
// written portably: a class byte (0 finite, 1 infinity, 2 NaN; +4 when negative), then for
// finite values the zigzag exponent and a 128-bit mantissa as two varints. Exact for
// mantissas up to 128 bits; NaN payloads are not kept.
template <>
struct Serializer<long double> {
  static void write(BinaryWriter& w, long double v) {
    std::uint8_t cls = std::isnan(v) ? 2 : std::isinf(v) ? 1 : 0;
    if (std::signbit(v)) cls |= 4;
    w.writeByte(cls);
    if ((cls & 3) != 0) return;
    int exp = 0;
    long double m = std::ldexp(std::frexp(std::fabs(v), &exp), 64);  // in [2^63, 2^64) or 0
    auto hi = static_cast<std::uint64_t>(m);
    auto lo = static_cast<std::uint64_t>(std::ldexp(m - static_cast<long double>(hi), 64));
    w.writeSignedVarint(exp);
    w.writeVarint(hi);
    w.writeVarint(lo);
  }
  static long double read(BinaryReader& r) {
    auto at = r.position();
    std::uint8_t cls = r.readByte();
    if ((cls & ~std::uint8_t{7}) != 0 || (cls & 3) == 3) {
      r.fail("invalid long double class byte " + std::to_string(cls), at);
    }
    bool negative = (cls & 4) != 0;
    long double v;
    if ((cls & 3) == 1) {
      v = std::numeric_limits<long double>::infinity();
    } else if ((cls & 3) == 2) {
      v = std::numeric_limits<long double>::quiet_NaN();
    } else {
      std::int64_t exp = r.readSignedVarint();
      std::uint64_t hi = r.readVarint();
      std::uint64_t lo = r.readVarint();
      if (exp < std::numeric_limits<int>::min() || exp > std::numeric_limits<int>::max()) {
        r.fail("long double exponent out of range", at);
      }
      long double m = std::ldexp(static_cast<long double>(hi), -64) +
                      std::ldexp(static_cast<long double>(lo), -128);
      v = std::ldexp(m, static_cast<int>(exp));
    }
    return negative ? -v : v;
  }
};

template <class T>
  requires std::is_enum_v<T>
struct Serializer<T> {
  // The underlying value; an unknown value read back is the caller's to validate.
  static void write(BinaryWriter& w, T v) {
    Serializer<std::underlying_type_t<T>>::write(w, static_cast<std::underlying_type_t<T>>(v));
  }
  static T read(BinaryReader& r) {
    return static_cast<T>(Serializer<std::underlying_type_t<T>>::read(r));
  }
};

template <>
struct Serializer<std::string> {
  static void write(BinaryWriter& w, const std::string& v) { w.writeBytes(v); }
  static std::string read(BinaryReader& r) { return std::string(r.readBytes()); }
};

// Write-only: the same bytes as std::string, so read them back as std::string.
template <>
struct Serializer<std::string_view> {
  static void write(BinaryWriter& w, std::string_view v) { w.writeBytes(v); }
};

template <Serializable A, Serializable B>
struct Serializer<std::pair<A, B>> {
  static void write(BinaryWriter& w, const std::pair<A, B>& v) {
    Serializer<A>::write(w, v.first);
    Serializer<B>::write(w, v.second);
  }
  static std::pair<A, B> read(BinaryReader& r) {
    A first = Serializer<A>::read(r);  // sequenced: function arguments would not be
    return std::pair<A, B>(std::move(first), Serializer<B>::read(r));
  }
};

template <Serializable... Ts>
struct Serializer<std::tuple<Ts...>> {
  static void write(BinaryWriter& w, const std::tuple<Ts...>& v) {
    std::apply([&w](const Ts&... xs) { (Serializer<Ts>::write(w, xs), ...); }, v);
  }
  static std::tuple<Ts...> read(BinaryReader& r) {
    // A braced list evaluates its elements left to right.
    return std::tuple<Ts...>{Serializer<Ts>::read(r)...};
  }
};

template <Serializable T>
struct Serializer<std::optional<T>> {
  static void write(BinaryWriter& w, const std::optional<T>& v) {
    Serializer<bool>::write(w, v.has_value());
    if (v) Serializer<T>::write(w, *v);
  }
  static std::optional<T> read(BinaryReader& r) {
    if (!Serializer<bool>::read(r)) return std::nullopt;
    return std::optional<T>(Serializer<T>::read(r));
  }
};

template <Serializable T, class A>
struct Serializer<std::vector<T, A>> {
  static void write(BinaryWriter& w, const std::vector<T, A>& v) {
    w.writeVarint(v.size());
    for (const T& x : v) Serializer<T>::write(w, x);
  }
  static std::vector<T, A> read(BinaryReader& r) {
    std::size_t n = r.readCount();
    std::vector<T, A> out;
    // A corrupt count must not allocate: reserve no more than the bytes that are left.
    out.reserve(std::min(n, r.remaining()));
    for (std::size_t i = 0; i < n; ++i) out.push_back(Serializer<T>::read(r));
    return out;
  }
};

template <Serializable T, std::size_t N>
struct Serializer<std::array<T, N>> {
  static void write(BinaryWriter& w, const std::array<T, N>& v) {
    for (const T& x : v) Serializer<T>::write(w, x);
  }
  static std::array<T, N> read(BinaryReader& r) {
    return [&r]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<T, N>{((void)I, Serializer<T>::read(r))...};
    }(std::make_index_sequence<N>());
  }
};

namespace detail {
template <class Map>
void writeMap(BinaryWriter& w, const Map& m) {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  w.writeVarint(m.size());
  for (const auto& [k, v] : m) {
    Serializer<K>::write(w, k);
    Serializer<V>::write(w, v);
  }
}

template <class Map>
Map readMap(BinaryReader& r) {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  std::size_t n = r.readCount();
  Map out;
  for (std::size_t i = 0; i < n; ++i) {
    auto at = r.position();
    K key = Serializer<K>::read(r);
    V value = Serializer<V>::read(r);
    // A written map never repeats a key, so a repeat means the bytes are damaged.
    if (!out.emplace(std::move(key), std::move(value)).second) r.fail("duplicate map key", at);
  }
  return out;
}
}  // namespace detail

template <Serializable K, Serializable V, class C, class A>
struct Serializer<std::map<K, V, C, A>> {
  static void write(BinaryWriter& w, const std::map<K, V, C, A>& m) { detail::writeMap(w, m); }
  static std::map<K, V, C, A> read(BinaryReader& r) {
    return detail::readMap<std::map<K, V, C, A>>(r);
  }
};

template <Serializable K, Serializable V, class H, class E, class A>
struct Serializer<std::unordered_map<K, V, H, E, A>> {
  using Map = std::unordered_map<K, V, H, E, A>;
  static void write(BinaryWriter& w, const Map& m) { detail::writeMap(w, m); }
  static Map read(BinaryReader& r) { return detail::readMap<Map>(r); }
};

template <Serializable K, Serializable V, class H, class E, class A>
struct Serializer<absl::flat_hash_map<K, V, H, E, A>> {
  using Map = absl::flat_hash_map<K, V, H, E, A>;
  static void write(BinaryWriter& w, const Map& m) { detail::writeMap(w, m); }
  static Map read(BinaryReader& r) { return detail::readMap<Map>(r); }
};

// The tick count; the period is part of the type, so 10s and 10000ms read back alike only
// when read as the type that was written.
template <Serializable Rep, class Period>
struct Serializer<std::chrono::duration<Rep, Period>> {
  using D = std::chrono::duration<Rep, Period>;
  static void write(BinaryWriter& w, const D& d) { Serializer<Rep>::write(w, d.count()); }
  static D read(BinaryReader& r) { return D(Serializer<Rep>::read(r)); }
};

// The time since the clock's epoch: meaningful across processes for system_clock (and
// dstream::Time), not for steady_clock, whose epoch is typically the boot.
template <class Clock, Serializable D>
struct Serializer<std::chrono::time_point<Clock, D>> {
  using TP = std::chrono::time_point<Clock, D>;
  static void write(BinaryWriter& w, const TP& t) { Serializer<D>::write(w, t.time_since_epoch()); }
  static TP read(BinaryReader& r) { return TP(Serializer<D>::read(r)); }
};

// Returns the bytes of `value`. Does not throw except std::bad_alloc (and what a user
// Serializer throws).
template <class T>
std::string serialize(const T& value) {
  BinaryWriter w;
  w.write(value);
  return w.release();
}

// Returns the T encoded in `bytes`. Throws Error(kDataLoss) when the bytes are short,
// malformed, or longer than one T. `context` starts error messages (e.g. a file path).
template <class T>
T deserialize(std::string_view bytes, std::string_view context = "deserialize") {
  detail::requireSerializable<T>();
  if constexpr (Serializable<T>) {
    BinaryReader r(bytes, context);
    T value = Serializer<T>::read(r);
    if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
    return value;
  } else {
    throw Error(ErrorCode::kInternal, "unreachable");  // the static_assert has failed
  }
}

}  // namespace dstream
