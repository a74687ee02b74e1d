// Fixed-width little-endian integers, the one copy of this coding in dstream: the serializer
// (BinaryWriter/BinaryReader), the record file header and the write-ahead log all use it, so
// every byte format on disk agrees on it (leveldb's util/coding.h). Inline: record and log
// headers are coded on hot paths.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace dstream::detail {

// Writes the sizeof(UInt) bytes of `v` into dst, least significant byte first.
template <class UInt>
  requires std::is_same_v<UInt, std::uint32_t> || std::is_same_v<UInt, std::uint64_t>
inline void encodeFixed(char* dst, UInt v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, sizeof v);  // one unaligned store
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i) dst[i] = static_cast<char>(v >> (8 * i));
  }
}

// Returns the UInt that encodeFixed<UInt> wrote at src.
template <class UInt>
  requires std::is_same_v<UInt, std::uint32_t> || std::is_same_v<UInt, std::uint64_t>
inline UInt decodeFixed(const char* src) {
  UInt v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, src, sizeof v);
  } else {
    for (std::size_t i = 0; i < sizeof v; ++i) v |= UInt{static_cast<std::uint8_t>(src[i])} << (8 * i);
  }
  return v;
}

inline void encodeFixed32(char* dst, std::uint32_t v) { encodeFixed(dst, v); }
inline void encodeFixed64(char* dst, std::uint64_t v) { encodeFixed(dst, v); }
inline std::uint32_t decodeFixed32(const char* src) { return decodeFixed<std::uint32_t>(src); }
inline std::uint64_t decodeFixed64(const char* src) { return decodeFixed<std::uint64_t>(src); }

// Appends the 4 or 8 bytes of encodeFixed32/64(v) to `out`.
inline void putFixed32(std::string& out, std::uint32_t v) {
  char buf[4];
  encodeFixed32(buf, v);
  out.append(buf, sizeof buf);
}
inline void putFixed64(std::string& out, std::uint64_t v) {
  char buf[8];
  encodeFixed64(buf, v);
  out.append(buf, sizeof buf);
}

}  // namespace dstream::detail
