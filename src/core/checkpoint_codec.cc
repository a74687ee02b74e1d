#include "core/checkpoint_codec.h"

#include <charconv>

#include "dstream/error.h"
#include "dstream/serialize.h"

namespace dstream::detail {

std::string encodeGraphCheckpoint(const GraphCheckpoint& g) {
  BinaryWriter w;
  w.writeByte(kGraphCheckpointVersion);
  w.write(g.batchDuration);
  w.write(g.zeroTime);
  w.write(g.lastCompleted);
  w.write(g.stateTime);
  w.write(g.hasStateFile);
  w.writeVarint(g.nodes.size());
  for (const auto& n : g.nodes) {
    w.write(n.id);
    w.write(n.kind);
    w.write(n.uid);
    w.write(n.hasState);
    w.write(n.isInput);
  }
  w.write(g.inputs);
  return w.release();
}

GraphCheckpoint decodeGraphCheckpoint(std::string_view bytes, std::string_view context) {
  BinaryReader r(bytes, context);
  std::uint8_t version = r.readByte();
  if (version != kGraphCheckpointVersion) {
    r.fail("graph checkpoint version " + std::to_string(version) + " is not " +
           std::to_string(kGraphCheckpointVersion) + " (written by another dstream version?)", 0);
  }
  GraphCheckpoint g;
  g.batchDuration = r.read<Duration>();
  g.zeroTime = r.read<Time>();
  g.lastCompleted = r.read<Time>();
  g.stateTime = r.read<Time>();
  g.hasStateFile = r.read<bool>();
  std::size_t n = r.readCount();
  for (std::size_t i = 0; i < n; ++i) {
    CheckpointedNode node;
    node.id = r.read<int>();
    node.kind = r.read<std::string>();
    node.uid = r.read<std::string>();
    node.hasState = r.read<bool>();
    node.isInput = r.read<bool>();
    g.nodes.push_back(std::move(node));
  }
  g.inputs = r.read<std::map<int, std::string>>();
  if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
  if (g.batchDuration.count() <= 0 || g.stateTime > g.lastCompleted) r.fail("inconsistent batch times", 0);
  return g;
}

std::string encodeStates(const std::map<int, std::string>& states) {
  BinaryWriter w;
  w.writeByte(kGraphCheckpointVersion);
  w.write(states);
  return w.release();
}

std::map<int, std::string> decodeStates(std::string_view bytes, std::string_view context) {
  BinaryReader r(bytes, context);
  std::uint8_t version = r.readByte();
  if (version != kGraphCheckpointVersion) r.fail("state snapshot version " + std::to_string(version) + " is unknown", 0);
  auto states = r.read<std::map<int, std::string>>();
  if (!r.atEnd()) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
  return states;
}

std::string stateFileName(Time t) { return std::string(kStateFilePrefix) + std::to_string(toMillis(t)); }

bool parseStateFileName(std::string_view name, std::int64_t& ms) {
  if (name.substr(0, kStateFilePrefix.size()) != kStateFilePrefix) return false;
  auto digits = name.substr(kStateFilePrefix.size());
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  return ec == std::errc() && p == digits.data() + digits.size() && !digits.empty();
}

std::string streamName(const CheckpointedNode& n) {
  return n.uid.empty() ? n.kind + " #" + std::to_string(n.id) : n.uid;
}

}  // namespace dstream::detail
