// The bytes of a graph checkpoint (one CheckpointStore record per completed batch) and of a
// state snapshot (a "state-<ms>" record file beside it). Format and purpose in
// doc/recovery.md, "What is in a checkpoint".
//
// Plain data and pure functions: the CheckpointManager fills and reads these.
// Thread-safety: none needed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dstream/time.h"

namespace dstream::detail {

inline constexpr std::uint8_t kGraphCheckpointVersion = 1;
inline constexpr std::string_view kStateFilePrefix = "state-";

// A node of the graph that wrote the checkpoint: enough to find it again in a new graph.
struct CheckpointedNode {
  int id = -1;       // definition order
  std::string kind;  // "updateStateByKey", "textFileStream"...
  std::string uid;   // the user's stable name, or empty
  bool hasState = false;
  bool isInput = false;
};

struct GraphCheckpoint {
  Duration batchDuration{};
  Time zeroTime{};       // batch times are zeroTime + k * batchDuration
  Time lastCompleted{};  // the batch after which this was written
  Time stateTime{};      // the batch the state snapshot belongs to (<= lastCompleted)
  bool hasStateFile = false;  // "state-<stateTime>" holds the states of the stateful nodes
  std::vector<CheckpointedNode> nodes;
  std::map<int, std::string> inputs;  // node id -> what InputNode::writeInputs wrote
};

// Returns the payload bytes of `g`. Never throws except bad_alloc.
std::string encodeGraphCheckpoint(const GraphCheckpoint& g);
// Returns the checkpoint in `bytes`. Throws Error(kDataLoss) naming `context` when the bytes
// are malformed or of an unknown version.
GraphCheckpoint decodeGraphCheckpoint(std::string_view bytes, std::string_view context);

// A state snapshot: node id -> what Node::writeState wrote.
std::string encodeStates(const std::map<int, std::string>& states);
// Throws Error(kDataLoss) naming `context`.
std::map<int, std::string> decodeStates(std::string_view bytes, std::string_view context);

// "state-<ms>"; and its inverse, which returns false for other names.
std::string stateFileName(Time t);
bool parseStateFileName(std::string_view name, std::int64_t& ms);

// How a message names a stream: its uid, else "<kind> #<id>".
std::string streamName(const CheckpointedNode& n);

}  // namespace dstream::detail
