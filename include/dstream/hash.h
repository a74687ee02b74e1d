// Hasher<K> decides which partition a key goes to and hashes keys in the engine's hash maps.
// Unlike std::hash and absl::Hash it is stable across runs and machines, so a re-run batch
// (after a crash) puts every key in the same partition and writes the same part files.
//
// Built in: integers, enums, floating point, std::string / std::string_view / const char*
// (all hashing alike, so maps keyed by std::string accept std::string_view lookups), pairs
// and tuples of hashable types. Specialise dstream::Hasher<MyKey> for your own key types:
//   template <> struct dstream::Hasher<MyKey> {
//     std::uint64_t operator()(const MyKey& k) const { return dstream::hashBytes(...); }
//   };
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dstream {

inline std::uint64_t hashBytes(const void* data, std::size_t size) {
  return XXH3_64bits(data, size);
}

// A strong 64-bit mixer (splitmix64's finaliser): consecutive integers spread evenly.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

template <class K, class Enable = void>
struct Hasher;  // no default: an unhashable key type fails to compile (see KeyHashable)

template <class K>
struct Hasher<K, std::enable_if_t<std::is_integral_v<K> || std::is_enum_v<K>>> {
  std::uint64_t operator()(K k) const { return mix64(static_cast<std::uint64_t>(k)); }
};

template <class K>
struct Hasher<K, std::enable_if_t<std::is_floating_point_v<K>>> {
  std::uint64_t operator()(K k) const {
    if (k == K(0)) k = K(0);  // -0.0 == 0.0 must hash alike
    return hashBytes(&k, sizeof(k));
  }
};

// Strings: transparent, so flat_hash_map<std::string, V, Hasher<std::string>> finds
// std::string_view keys without building a std::string.
struct StringHasher {
  using is_transparent = void;
  std::uint64_t operator()(std::string_view s) const { return hashBytes(s.data(), s.size()); }
};
template <> struct Hasher<std::string> : StringHasher {};
template <> struct Hasher<std::string_view> : StringHasher {};

template <class A, class B>
struct Hasher<std::pair<A, B>> {
  std::uint64_t operator()(const std::pair<A, B>& p) const {
    return mix64(Hasher<A>{}(p.first) ^ std::rotl(Hasher<B>{}(p.second), 17));
  }
};

template <class... Ts>
struct Hasher<std::tuple<Ts...>> {
  std::uint64_t operator()(const std::tuple<Ts...>& t) const {
    std::uint64_t h = 0x2545F4914F6CDD1DULL;
    std::apply([&](const auto&... v) { ((h = mix64(h ^ Hasher<std::decay_t<decltype(v)>>{}(v))), ...); }, t);
    return h;
  }
};

template <class K>
concept KeyHashable = requires(const K& k) {
  { Hasher<K>{}(k) } -> std::convertible_to<std::uint64_t>;
} && std::equality_comparable<K>;

// Equality of two byte strings, without a call to memcmp for the short ones (words,
// identifiers): in a hash probe the call and its length dispatch cost more than comparing
// two or four overlapping machine words.
inline bool sameBytes(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  auto word = [](const char* at, auto sample) {
    std::memcpy(&sample, at, sizeof(sample));
    return sample;
  };
  if (n >= 8 && n <= 16) {
    return word(p, std::uint64_t{}) == word(q, std::uint64_t{}) &&
           word(p + n - 8, std::uint64_t{}) == word(q + n - 8, std::uint64_t{});
  }
  if (n >= 4 && n < 8) {
    return word(p, std::uint32_t{}) == word(q, std::uint32_t{}) &&
           word(p + n - 4, std::uint32_t{}) == word(q + n - 4, std::uint32_t{});
  }
  return n == 0 || std::memcmp(p, q, n) == 0;
}

// Equality that also compares std::string with std::string_view (transparent lookups).
template <class K>
struct KeyEqual : std::equal_to<K> {};
struct StringKeyEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return sameBytes(a, b); }
};
template <> struct KeyEqual<std::string> : StringKeyEqual {};
template <> struct KeyEqual<std::string_view> : StringKeyEqual {};

}  // namespace dstream
