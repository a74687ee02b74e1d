// How the window and state nodes write their state into a checkpoint (Node::writeState)
// and read it back (Node::readState): a format byte, the time of the last batch computed,
// then the node's own fields. Keys are written without their partition, so a restored
// stream may use another numPartitions: each key goes to partitionOf(key, numPartitions) again.
// Types without a dstream::Serializer cannot be checkpointed (hasState() is false); with a
// checkpoint directory, start() refuses such a node by name (Node::stateTypeWithoutSerializer).
//
// Thread-safety: called on the batch thread between batches, like every node method.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dstream/serialize.h"
#include "dstream/time.h"

namespace dstream::detail {

inline constexpr std::uint8_t kStateFormatVersion = 1;

// T's name as the compiler spells it, e.g. "std::vector<int>", for error messages.
template <class T>
std::string typeNameOf() {
  std::string_view f = __PRETTY_FUNCTION__;  // "... typeNameOf() [with T = X; ...]" (GCC) or "[T = X]" (Clang)
  auto begin = f.find("T = ");
  if (begin == std::string_view::npos) return std::string(f);
  begin += 4;
  auto end = f.find_first_of(";]", begin);
  return std::string(f.substr(begin, end - begin));
}

// The first of Ts without a dstream::Serializer, or "" when all have one.
template <class... Ts>
std::string firstWithoutSerializer() {
  std::string name;
  ((name.empty() && !Serializable<Ts> ? void(name = typeNameOf<Ts>()) : void()), ...);
  return name;
}

inline void writeStateHeader(BinaryWriter& w, const std::optional<Time>& lastTime) {
  w.writeByte(kStateFormatVersion);
  w.write(lastTime);
}

// Returns the last batch time written. Throws Error(kDataLoss) for an unknown format.
inline std::optional<Time> readStateHeader(BinaryReader& r, std::string_view kind) {
  auto at = r.position();
  std::uint8_t version = r.readByte();
  if (version != kStateFormatVersion) {
    r.fail(std::string(kind) + ": state format " + std::to_string(version) + " is not " +
               std::to_string(kStateFormatVersion),
           at);
  }
  return r.read<std::optional<Time>>();
}

// Writes every (key, value) of hash-partitioned maps as one list.
template <class Maps, class WriteValue>
void writePartitionedMaps(BinaryWriter& w, const Maps& maps, WriteValue writeValue) {
  std::size_t total = 0;
  for (const auto& m : maps) total += m.size();
  w.writeVarint(total);
  for (const auto& m : maps) {
    for (const auto& [k, v] : m) {
      w.write(k);
      writeValue(w, v);
    }
  }
}

// Reads what writePartitionedMaps wrote into `maps` (cleared first), re-partitioned.
template <class Maps, class ReadValue>
void readPartitionedMaps(BinaryReader& r, Maps& maps, ReadValue readValue) {
  using K = typename Maps::value_type::key_type;
  for (auto& m : maps) m.clear();
  std::size_t n = r.readCount();
  for (std::size_t i = 0; i < n; ++i) {
    K k = r.read<K>();
    auto v = readValue(r);
    maps[partitionOf(k, maps.size())].insert_or_assign(std::move(k), std::move(v));
  }
}

}  // namespace dstream::detail
